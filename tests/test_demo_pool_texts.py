"""Every text in the shipped demo pool: Mixtral's rationale and the paper's 7B student's output
exactly as released (display rules applied), our student's generated ahead of time with its
model version, and none echoing its prompt's instructions or looping.

    .venv/bin/python -m pytest tests/test_demo_pool_texts.py -q
"""
from __future__ import annotations

import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.pool_text import (MAX_NGRAM_REPEATS, POOL_NGRAM, display_text,
                                    prompt_instructions, stated_prediction, text_problems)
from reasoningrec.models.decoding import stop_loop_ngram
from reasoningrec.prompts import build
from reasoningrec.repeats import LOOP_MORE_THAN, repeated_ngrams
from reasoningrec.scoring.students import student_for, student_version

TEACHER = "Mixtral-8x7B-Instruct, the paper's teacher, told the true answer"


@pytest.fixture(scope="module")
def pool() -> DemoPool:
    return DemoPool.load()


def every_text(pool):
    for name, users in pool.users.items():
        for u in users:
            for c in u.candidates:
                for role, t in c.texts.items():
                    yield name, u, c, role, t


def test_no_pool_text_echoes_its_prompt_or_loops(pool):
    checked = 0
    for name, u, c, role, t in every_text(pool):
        problems = text_problems(t.text, prompt_instructions(pool.datasets[name], u.sample))
        assert not problems, (name, u.user_id, role, problems, t.text[:300])
        checked += 1
    assert checked >= 2 * len(pool.users["ml1m"]) + 3 * len(pool.users["fashion"])


def test_our_students_texts_end_before_a_loop_where_it_has_the_stop(pool):
    """A student served with the loop stop (its card's stop_loop_ngram) has stored texts that
    never loop by that rule: the pool is generated with the settings the app serves."""
    checked = 0
    for name, users in pool.users.items():
        n = stop_loop_ngram(student_for(name).decode)
        for u in users if n else []:
            text = u.candidates[0].texts["student"].text
            assert not repeated_ngrams(text, n, LOOP_MORE_THAN), (name, u.user_id, text[:300])
            checked += 1
    assert checked >= len(pool.users["fashion"])


@pytest.mark.slow
def test_the_pool_holds_what_the_app_generates(pool):
    """Our student's stored text and P(Yes) are the app's own generation for that user (display
    rules applied): Fashion's users up to the first whose explanation the loop stop ends."""
    from reasoningrec.ui.service import AppService
    served = AppService.start(backend="llamacpp").student("fashion")
    assert pool.systems["fashion"]["student"].version == student_version(
        served.info, served.explainer.max_new_tokens)
    scorer, ds = served.explainer.scorer(), pool.datasets["fashion"]
    stopped = False
    for u in pool.users["fashion"]:       # up to the first whose explanation the stop ends
        pred = scorer.predict(ds, u.sample, explain=True)
        stored = u.candidates[0].texts["student"]
        assert stored.text == display_text(pred.rationale), u.user_id
        assert stored.p_yes == pytest.approx(pred.p_yes, abs=1e-6)
        if pred.extra.get("stopped"):
            stopped = True
            break
    assert stopped, "no Fashion pool user's explanation is ended by the loop stop"


def test_the_checks_catch_an_echo_and_a_loop(pool):
    """What the old pool held (SmolLM2 teacher texts) would fail: the checks can fail."""
    u = pool.users["ml1m"][0]
    ds = pool.datasets["ml1m"]
    instructions = prompt_instructions(ds, u.sample)
    title = ds.items[u.sample.target].title
    teacher_prompt = build("teacher_cot", ds, u.sample).chat()[-1]["content"]
    sentence = next(s for s in teacher_prompt.split(". ") if title in s and "100 words" in s)
    assert text_problems(f"Sure. {sentence}.", instructions)[0].startswith("echoes the prompt")
    loop = "He liked it. " + "The (1999), The (1999), " * 8
    assert repeated_ngrams(loop, POOL_NGRAM, MAX_NGRAM_REPEATS) and text_problems(loop, instructions)[0].startswith("loops")
    profile = pool.users["fashion"][0].user.profile
    quoted = f"As the profile says: {profile}"       # quoting the user's data is no echo
    assert not text_problems(quoted, prompt_instructions(pool.datasets["fashion"],
                                                         pool.users["fashion"][0].sample))
    assert MAX_NGRAM_REPEATS == 4


def test_display_rules_remove_the_answer_and_an_unfinished_end():
    raw = (" 1. Prediction: No \n2. The user likes classy, well-made blouses at a good price. "
           "They dislike sizing issues and")
    assert stated_prediction(raw) == 0
    assert display_text(raw) == "2. The user likes classy, well-made blouses at a good price. …"
    assert display_text("It fits their taste.\nPrediction: Yes", "teacher") == "It fits their taste."
    assert display_text("Answer: Prediction: Yes\n1. It fits.", "teacher") == "1. It fits."
    assert display_text("Short and no end") == "Short and no end"      # nothing to fall back to


def test_only_targets_have_texts_and_every_target_has_all_systems(pool):
    for name, users in pool.users.items():
        roles = set(pool.systems[name])
        assert roles == ({"teacher", "student", "authors"} if name == "fashion"
                         else {"teacher", "student"})
        for u in users:
            target, *others = u.candidates
            assert set(target.texts) == roles and not any(c.texts for c in others)
            assert target.teacher.label == u.sample.label == target.label
            ours = target.texts["student"]
            assert 0 <= ours.p_yes <= 1 and ours.label == int(ours.p_yes >= 0.5)


def test_systems_are_named_for_visitors(pool):
    assert pool.systems["fashion"]["teacher"].title == TEACHER
    assert pool.systems["ml1m"]["teacher"].title == TEACHER + ", without a user profile"
    authors = pool.systems["fashion"]["authors"]
    assert authors.version == "llama2-7b-chat/sample256_valsample800_lr1e-4_valauc"
    assert "K=256, lr 1e-4" in authors.title and "AUC 0.7356" in authors.about
    for name in pool.users:
        ours = pool.systems[name]["student"]
        assert ours.title == ours.model and "max_tokens=" in ours.version
    assert pool.meta["command"].startswith("scripts/build_demo_pool.py")


def test_released_texts_are_the_authors_files(pool, ml1m, fashion):
    for ds in (ml1m, fashion):
        for u in pool.users[ds.name]:
            sample = ds.sample("test", u.sample.key or u.user_id)
            target = u.candidates[0]
            released = ds.teacher_rationale(sample, ds.main_teacher)
            assert target.teacher.text == display_text(released.text, "teacher")
            if "authors" in target.texts:
                out = ds.authors_output(pool.systems[ds.name]["authors"].version, sample)
                assert target.texts["authors"].text == display_text(out.explanation, "authors")
                assert target.texts["authors"].p_yes == pytest.approx(out.p_yes, abs=1e-6)
    run = fashion.authors[pool.systems["fashion"]["authors"].version]
    assert {u.sample.key or u.user_id for u in pool.users["fashion"]} <= set(run)  # the paper's draw
