"""Prompts on real samples (ML-1M test user 1, Fashion test samples) and the token-budget
fitter with the real SmolLM2 tokenizer.

    .venv/bin/python -m pytest tests/test_prompts.py -q
"""
from __future__ import annotations

import dataclasses
import re

import pytest

from reasoningrec.data import Item
from reasoningrec.prompts import (FIELD_LIMITS, STUDENT_ANSWERS, TEMPLATES, TRUNCATION_MARK,
                                  build, cap_text, fit_history, get_template, item_line,
                                  parse_student_output, student_completion)

SAMPLE_TEMPLATES = ("teacher_cot", "student", "zero_shot")




@pytest.fixture(scope="session")
def tokenizer():
    """SmolLM2's tokenizer read from the packaged GGUF (~4 s)."""
    transformers = pytest.importorskip("transformers")
    from reasoningrec.models.registry import ModelNotFound, smollm2_gguf
    try:
        gguf = smollm2_gguf()
    except ModelNotFound as err:
        pytest.skip(str(err))
    return transformers.AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def encode(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def words(text: str) -> str:
    return " ".join(text.split())


def history_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith(("Liked ", "Disliked "))]


def first_with_label(ds, label: int):
    return next(s for s in ds.splits["test"] if s.label == label)


def test_teacher_prompt_states_the_true_label_and_every_history_title(ml1m, fashion):
    user1 = ml1m.sample("test", "1")
    assert user1.label == 1 and len(user1.history) == 20
    for ds, sample in [(ml1m, user1), (ml1m, first_with_label(ml1m, 0)),
                       (fashion, first_with_label(fashion, 0)), (fashion, first_with_label(fashion, 1))]:
        prompt = build("teacher_cot", ds, sample)
        text = prompt.text()
        noun = "movie" if ds.domain == "movie" else "item"
        verdict, other = ("LIKE", "DISLIKE") if sample.label == 1 else ("DISLIKE", "LIKE")
        assert f"the user will {verdict} the next {noun} - " in text
        assert f"why the user will {verdict} the next {noun}" in text
        assert f"will {other} the next" not in text
        for entry in sample.history:
            mark = "Liked" if entry.liked else "Disliked"
            assert f"{mark} {words(ds.item(entry.item_id).title)}" in text
        assert words(ds.item(sample.target).title) in text
        assert prompt.template == "teacher_cot/v1"
        assert prompt.history_ids == tuple(e.item_id for e in sample.history)
    assert "purchased" in build("teacher_cot", fashion, first_with_label(fashion, 0)).text()


@pytest.mark.parametrize("name", SAMPLE_TEMPLATES)
def test_ablation_flags_remove_profile_and_descriptions(ml1m, fashion, name):
    for ds, sample in [(ml1m, ml1m.sample("test", "1")), (fashion, first_with_label(fashion, 0))]:
        user = ds.users[sample.user_id]
        profile_probe = words(user.profile or user.demographics)[:60]
        descriptions = [words(ds.item(i).description)[:50]
                        for i in [e.item_id for e in sample.history] + [sample.target]
                        if ds.item(i).description]
        assert profile_probe and descriptions
        full = build(name, ds, sample).text()
        assert profile_probe in full and "User Profile - " in full
        assert all(d in full for d in descriptions)
        no_profile = build(name, ds, sample, with_profile=False).text()
        assert profile_probe not in no_profile and "User Profile" not in no_profile
        assert all(d in no_profile for d in descriptions)
        no_desc = build(name, ds, sample, with_description=False).text()
        assert not any(d in no_desc for d in descriptions) and "Description:" not in no_desc
        assert profile_probe in no_desc
        for entry in sample.history:  # titles stay
            assert words(ds.item(entry.item_id).title) in no_desc


def test_student_prompt_ends_exactly_where_yes_or_no_is_read(ml1m, tokenizer):
    sample = ml1m.sample("test", "1")
    prompt = build("student", ml1m, sample)
    assert prompt.text().endswith("\n\nPrediction:")
    text = prompt.text(tokenizer)
    assert text.endswith("<|im_start|>assistant\nPrediction:")
    prompt_ids = encode(tokenizer, text)
    yes, no = (encode(tokenizer, a) for a in STUDENT_ANSWERS)
    assert len(yes) == len(no) == 1 and yes != no
    for label, answer in [(1, yes[0]), (0, no[0])]:
        completion = student_completion(label, "She loves  Disney\nanimation.")
        assert completion == f"{' Yes' if label else ' No'}\nReasoning: She loves Disney animation."
        full_ids = encode(tokenizer, text + completion)
        assert full_ids[:len(prompt_ids)] == prompt_ids  # the prompt is a token prefix
        assert full_ids[len(prompt_ids)] == answer
        assert parse_student_output(completion) == (label, "She loves Disney animation.")


@pytest.mark.parametrize("name", ["student", "student_direct", "zero_shot"])
def test_candidate_last_opens_the_answer_by_naming_the_candidate(ml1m, fashion, tokenizer, name):
    """candidate_last: the user turn holds history and request only; the assistant turn opens
    with "Prediction for the target movie - <title> (<values>):" (no "Year:"/"Genres:" labels),
    its evidence before the answer, and " Yes"/" No" is the next token on the same footing as
    the paper's layout (the prompt's tokens are a prefix of prompt + answer)."""
    from reasoningrec.scoring.rendered import RenderedPrompt
    for ds in (ml1m, fashion):
        sample = ds.splits["test"][0]
        target = ds.item(sample.target)
        prompt = build(name, ds, sample, candidate_last=True, with_description=False)
        noun = "movie" if ds is ml1m else "item"
        assert prompt.assistant_prefix == (f"Prediction for the target {noun} - "
                                           f"{item_line(target, False, labels=False)}:")
        assert target.title not in prompt.messages[-1]["content"]
        assert "Year:" not in prompt.assistant_prefix and prompt.answer_texts == STUDENT_ANSWERS
        text = prompt.text(tokenizer)
        assert text.endswith("<|im_start|>assistant\n" + prompt.assistant_prefix)
        rendered = RenderedPrompt(prompt, text, 0, (), 0)
        assert text[len(rendered.shared_prefix):] == prompt.assistant_prefix.split(" - ", 1)[1]
        prompt_ids = encode(tokenizer, text)
        for answer in STUDENT_ANSWERS:
            (answer_id,) = encode(tokenizer, answer)
            assert encode(tokenizer, text + answer + "\nReasoning: x")[:len(prompt_ids) + 1] == \
                prompt_ids + [answer_id]
    sample = ml1m.sample("test", "1")
    with_evidence = build(name, ml1m, sample, candidate_last=True,
                          evidence="Community evidence: 12 users watched it, 75% liked it.")
    assert with_evidence.assistant_prefix.endswith(
        "\nCommunity evidence: 12 users watched it, 75% liked it.\nPrediction:")
    assert "Description: " in with_evidence.assistant_prefix  # with_description shows it too
    assert item_line(ml1m.item("1"), False, labels=False) == \
        "Toy Story (1995; Animation, Children's, Comedy)"


@pytest.mark.parametrize("name", ["zero_shot", "tallrec"])
def test_turn_start_prompts_answer_with_the_first_assistant_token(ml1m, tokenizer, name):
    prompt = build(name, ml1m, ml1m.sample("test", "1"))
    text = prompt.text(tokenizer)
    assert text.endswith("<|im_start|>assistant\n")
    prompt_ids = encode(tokenizer, text)
    for answer in prompt.answer_texts:
        (answer_id,) = encode(tokenizer, answer)
        assert encode(tokenizer, text + answer + ".")[len(prompt_ids)] == answer_id


def test_tallrec_prompt_follows_tallrec_format(ml1m, fashion):
    sample = fashion.splits["test"][0]  # history liked, liked, disliked, disliked
    assert [e.liked for e in sample.history] == [True, True, False, False]
    titles = [f'"{words(fashion.item(e.item_id).title)}"' for e in sample.history]
    prompt = build("tallrec", fashion, sample)
    text = prompt.text()
    assert ('Given the user\'s preference and unpreference, identify whether the user will '
            'like the target item by answering "Yes." or "No.".') in text
    assert (f"User Preference: {titles[0]}, {titles[1]}\nUser Unpreference: {titles[2]}, "
            f"{titles[3]}\nWhether the user will like the target item "
            f"\"{words(fashion.item(sample.target).title)}\"?") in text
    assert text.endswith("### Response:\n") and "Description:" not in text
    movie = build("tallrec", ml1m, ml1m.sample("test", "1")).text()
    assert "like the target movie by answering" in movie and '"Pocahontas"' in movie


def test_user_profile_prompt_uses_the_first_15_items(ml1m):
    sample = ml1m.sample("test", "1")
    prompt = build("user_profile", ml1m, sample)
    lines = history_lines(prompt.text())
    assert lines == [f"Liked {item_line(ml1m.item(e.item_id))}" for e in sample.history[:15]]
    assert prompt.history_ids == tuple(e.item_id for e in sample.history[:15])
    assert "200 words" in prompt.text()


def test_item_description_prompts(ml1m, fashion):
    _, describe = get_template("item_description")
    reviews = ["Cute anklet, but it broke after one week.", "Tangles   easily."]
    product = describe(fashion, "7", reviews).text()
    assert "Cute anklet, but it broke after one week.\nTangles easily." in product
    assert "25 word" in product and words(fashion.item("7").title) in product
    with pytest.raises(ValueError, match="needs reviews"):
        describe(fashion, "7", [])
    pocahontas = ml1m.item("48")
    movie = describe(ml1m, "48").text()
    assert "Pocahontas" in movie and words(pocahontas.attributes["plot"])[:80] in movie
    assert words(pocahontas.description)[:60] not in movie  # not shown the answer it writes


def test_templates_are_named_and_versioned(ml1m):
    assert all(re.fullmatch(r"[a-z_]+/v\d+", name) for name in TEMPLATES)
    sample = ml1m.sample("test", "1")
    for name in ("teacher_cot", "student", "zero_shot", "tallrec", "user_profile"):
        full_name, _ = get_template(name)
        assert build(name, ml1m, sample).template == full_name == f"{name}/v1"
        assert build(full_name, ml1m, sample).chat()[-1]["role"] == "user"
    with pytest.raises(KeyError, match="unknown prompt template"):
        get_template("teacher")


def test_absurdly_long_free_text_is_capped(ml1m):
    sample = ml1m.sample("test", "1")
    normal = build("student", ml1m, sample).text()
    huge_profile = "movies " * 15000  # 105,000 characters
    text = build("student", ml1m, sample, profile=huge_profile).text()
    assert TRUNCATION_MARK in text and len(text) < len(normal) + FIELD_LIMITS["profile"] + 10
    target = ml1m.item(sample.target)
    junk = Item(target.id, "var x = 1; " * 40000, dict(target.attributes))  # scraped JS title
    dirty = dataclasses.replace(ml1m, items={**ml1m.items, target.id: junk})
    text = build("teacher_cot", dirty, sample).text()
    assert len(text) < len(normal) + 2 * FIELD_LIMITS["title"] + 1000
    capped = cap_text("alpha  beta\n\ngamma " * 100, "title")
    assert len(capped) <= FIELD_LIMITS["title"] and capped.endswith(TRUNCATION_MARK)
    assert set(capped.removesuffix(TRUNCATION_MARK).split()) <= {"alpha", "beta", "gamma"}


def test_budget_fitter_keeps_the_most_recent_whole_items(ml1m, fashion, tokenizer):
    def count(text: str) -> int:
        return len(encode(tokenizer, text))

    _, student = get_template("student")
    sample = ml1m.sample("test", "1")
    full = fit_history(student, ml1m, sample, count, 100_000, tokenizer=tokenizer)
    assert full.dropped == 0 and full.kept == sample.history
    assert full.tokens == count(build("student", ml1m, sample).text(tokenizer))
    budget = full.tokens - 300
    fitted = fit_history(student, ml1m, sample, count, budget, tokenizer=tokenizer)
    k = len(fitted.kept)
    assert 0 < k < 20 and fitted.dropped == 20 - k
    assert fitted.kept == sample.history[-k:] and fitted.tokens <= budget
    assert fitted.tokens == count(fitted.text) and fitted.text == fitted.prompt.text(tokenizer)
    # the largest suffix that fits: one more (older) item would not
    one_more = build("student", ml1m, sample, history=sample.history[-(k + 1):])
    assert count(one_more.text(tokenizer)) > budget
    # whole items only: the history lines are exactly the kept items' full lines
    assert history_lines(fitted.text) == [
        f"{'Liked' if e.liked else 'Disliked'} {item_line(ml1m.item(e.item_id))}"
        for e in fitted.kept]
    again = fit_history(student, ml1m, sample, count, budget, tokenizer=tokenizer)
    assert (again.text, again.kept) == (fitted.text, fitted.kept)
    reserved = fit_history(student, ml1m, sample, count, budget, tokenizer=tokenizer, reserve=150)
    assert reserved.tokens <= budget - 150 and len(reserved.kept) < k
    # the fitter honours build options and plain-text rendering too
    _, teacher = get_template("teacher_cot")
    fsample = fashion.splits["test"][0]
    plain = fit_history(teacher, fashion, fsample, count, 10_000, with_description=False)
    assert plain.kept == fsample.history and "Description:" not in plain.text


def test_budget_fitter_explains_when_nothing_fits(ml1m, tokenizer):
    def count(text: str) -> int:
        return len(encode(tokenizer, text))

    sample = ml1m.sample("test", "1")
    needed = count(build("student", ml1m, sample, history=()).text(tokenizer))
    _, student = get_template("student")
    fits = fit_history(student, ml1m, sample, count, needed, tokenizer=tokenizer)
    assert fits.kept == () and fits.tokens == needed
    with pytest.raises(ValueError, match=rf"needs {needed} tokens but the budget allows {needed - 1}"):
        fit_history(student, ml1m, sample, count, needed - 1, tokenizer=tokenizer)
