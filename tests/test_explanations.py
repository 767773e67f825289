"""Explanation quality on real samples: grounding catches invented titles, the checker catches
a rationale that argues against its own prediction, `eval --explanations` writes and resumes,
similarity (MiniLM cosine, BERTScore F1) to the paper's real Mixtral teacher is computed
whenever the dataset has its rationales, the authors' replayed 7B student is measured, and the
README's GPU command (hf: student and hf: judge) runs end to end.

    nice -n 19 .venv/bin/python -m pytest tests/test_explanations.py -q     # + -m slow: SmolLM2

The rationales are written here from the real samples (their real history titles and
candidates), so what each must be judged as is known by construction.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from reasoningrec.cli import main
from reasoningrec.data.schema import DataError
from reasoningrec.evaluate import eval_samples, run_eval
from reasoningrec.data.outputs import authors_explanation
from reasoningrec.evaluate.bertscore import BACKBONE_NOTE, bertscore_f1
from reasoningrec.evaluate.explanations import (_read_rows, evaluate_explanations,
                                                find_mentions, judge_one)
from reasoningrec.evaluate.similarity import compared_text, read_teacher
from reasoningrec.evaluate.stance import LexicalChecker, load_checker, strip_prediction
from reasoningrec.citations import TitleIndex, word_seq
from reasoningrec.scoring.protocol import Prediction, Scorer

LIKES = ["The user liked {a} and {b}, both warm family films. {t} is a gentle animated family "
         "story in the same spirit, so the user will enjoy it.",
         "Most of what the user rated highly is light comedy like {a}. {t} is a light comedy "
         "with a lot of heart; it fits their taste and they will like it.",
         "The user's history shows a love of adventure such as {b}. {t} is an adventure too, "
         "so it is a great match and the user should like it."]
DISLIKES = ["The user disliked slow dramas and preferred upbeat films like {a}. {t} is a slow, "
            "bleak drama, so the user will not like it.",
            "Although the user liked {a}, they avoid this kind of story. {t} goes against their "
            "taste, and the user will dislike it.",
            "The user enjoys fast, funny films such as {b}; {t} is long and solemn, so they are "
            "unlikely to enjoy it."]


@pytest.fixture(scope="module")
def ml1m_index(ml1m):
    return TitleIndex(ml1m.items.values())


def history_titles(ds, sample):
    return [ds.item(e.item_id).title for e in sample.history]


def absent_title(ds, sample, words: int = 2):
    """A catalogue title of `words`+ words that no history item or the candidate shares a word
    sequence with: a film this user never saw (found in the data, not hard-coded)."""
    own = {i for i in [e.item_id for e in sample.history] + [sample.target]}
    index = TitleIndex(ds.items.values())
    for item in ds.items.values():
        spans = index.spans(item.title)
        if (item.id not in own and len(word_seq(item.title)) >= words and len(spans) == 1
                and spans[0][2] == [item.id] and item.title[0].isupper()):
            return item
    raise AssertionError("no suitable absent title")


def test_rationale_naming_a_movie_absent_from_the_history_is_caught(ml1m, ml1m_index):
    sample = ml1m.sample("test", "1")
    titles = history_titles(ml1m, sample)
    target = ml1m.item(sample.target).title
    absent = absent_title(ml1m, sample)
    unknown = "The Moonlit Harbour of Ashgrove"
    assert not ml1m_index.spans(unknown)  # really in no catalogue
    text = (f"The user liked {titles[-1]} and {titles[0]}, and \"{target}\" has the same charm. "
            f"Like {absent.title}, it mixes humour and heart, and it recalls \"{unknown}\". "
            "The user will like it.")
    shown = {e.item_id for e in sample.history}
    mentions = find_mentions(text, ml1m_index, shown, sample.target, shown)
    kinds = {(m["item_id"], m["kind"]) for m in mentions}
    first, last = sample.history[0].item_id, sample.history[-1].item_id
    assert kinds == {(last, "history"), (first, "history"), (sample.target, "candidate"),
                     (absent.id, "invented"), (None, "unknown")}
    # Through the evaluation path: 3 of 5 titles grounded, 2 invented.
    row = judge_one(ml1m, sample, {"prediction": "Yes", "rationale": text}, LexicalChecker(),
                    ml1m_index)
    assert (row["mentioned"], row["grounded"], row["invented"]) == (5, 3, 2)
    # An item of the user's history that the prompt did not show is not grounded either.
    last_five = [e.item_id for e in sample.history[-5:]]
    row = judge_one(ml1m, sample, {"prediction": "Yes", "rationale": text,
                                   "extra": {"history_shown": last_five}},
                    LexicalChecker(), ml1m_index)
    assert {m["kind"] for m in row["mentions"] if m["item_id"] == sample.history[0].item_id} \
        == {"history_not_shown"} and row["grounded"] == 2


def test_ordinary_words_and_prompt_echoes_are_not_invented_titles(ml1m, ml1m_index):
    sample = ml1m.sample("test", "1")
    shown = {e.item_id for e in sample.history}
    singles = [i for i in ml1m.items.values() if len(word_seq(i.title)) == 1
               and i.id not in shown and i.title.isalpha() and len(i.title) >= 6
               and ml1m_index.spans(i.title)[0][2] == [i.id]]
    word = singles[0].title  # a one-word film title that is also a plain word in running text
    text = f"the user likes {word.lower()} and quiet evenings."
    assert find_mentions(text, ml1m_index, shown, sample.target, shown) == []
    quoted = find_mentions(f"The user will like it, as they liked \"{word}\".", ml1m_index,
                           shown, sample.target, shown)
    assert [(m["item_id"], m["kind"]) for m in quoted] == [(singles[0].id, "invented")]
    # Words the prompt itself showed (a shown item's description) are not an invented title.
    echoed = ml1m.item(sample.history[-1].item_id).description
    row = judge_one(ml1m, sample, {"prediction": "Yes", "rationale": echoed}, LexicalChecker(),
                    ml1m_index)
    assert row["invented"] == 0, row["mentions"]


def test_fashion_product_outside_the_history_is_invented(fashion):
    sample = fashion.splits["test"][0]
    index = TitleIndex(fashion.items.values())
    absent = absent_title(fashion, sample, words=4)
    first = fashion.item(sample.history[0].item_id).title
    text = f"The user bought {first}. They also wear {absent.title}, so the user will like it."
    row = judge_one(fashion, sample, {"prediction": "Yes", "rationale": text}, LexicalChecker(),
                    index)
    assert {(m["item_id"], m["kind"]) for m in row["mentions"]} == \
        {(sample.history[0].item_id, "history"), (absent.id, "invented")}


def clear_cases(ds, samples):
    """(rationale, stance) pairs about real users: argued like or dislike by construction."""
    cases = []
    for n, sample in enumerate(samples):
        titles = history_titles(ds, sample)
        fill = {"a": titles[-1], "b": titles[-2], "t": ds.item(sample.target).title}
        cases.append((LIKES[n % 3].format(**fill), "Yes"))
        cases.append((DISLIKES[n % 3].format(**fill), "No"))
    return cases


def test_strip_prediction_and_lexical_checker(ml1m):
    assert strip_prediction("Prediction: Yes\nReasoning: They will not like it.") == \
        "They will not like it."
    # the paper's 7B student puts its whole explanation on an "Answer:" line: it stays
    assert strip_prediction("# Prediction: No \n # Answer:  1. The user likes silk.") == \
        "1. The user likes silk."
    assert strip_prediction("Answer: No. They will not like it.\n**Prediction:** No") == \
        "They will not like it."
    checker = LexicalChecker()
    for text, stance in clear_cases(ml1m, ml1m.splits["test"][:6]):
        assert checker.p_like(text) == (1.0 if stance == "Yes" else 0.0), text
    assert checker.p_like("The user will like or dislike the item based on taste.") is None


def test_rationale_arguing_against_its_prediction_is_caught_lexical(ml1m, ml1m_index):
    sample = ml1m.sample("test", "1")
    (likes, _), (dislikes, _) = clear_cases(ml1m, [sample])
    for text, prediction, consistent in ((likes, "Yes", True), (dislikes, "Yes", False),
                                         (f"Prediction: No\nReasoning: {likes}", "No", False)):
        row = judge_one(ml1m, sample, {"prediction": prediction, "rationale": text},
                        LexicalChecker(), ml1m_index)
        assert row["consistent"] is consistent, text


@pytest.mark.slow
def test_smollm2_judge_gets_clear_cases_right_and_catches_contradictions(ml1m, fashion,
                                                                         ml1m_index):
    judge = load_checker("smollm2")
    assert judge.mode == "continuation"
    cases = (clear_cases(ml1m, ml1m.splits["test"][:4])
             + clear_cases(fashion, fashion.splits["test"][:2]))
    judged = [(t, s, judge.p_like(t)) for t, s in cases]
    wrong = [case for case in judged if (case[2] >= 0.5) != (case[1] == "Yes")]
    assert not wrong, wrong
    sample = ml1m.sample("test", "1")
    (likes, _), (dislikes, _) = clear_cases(ml1m, [sample])
    contradicting = judge_one(ml1m, sample, {"prediction": "Yes", "rationale": dislikes},
                              judge, ml1m_index)
    agreeing = judge_one(ml1m, sample, {"prediction": "Yes", "rationale": likes}, judge,
                         ml1m_index)
    assert contradicting["consistent"] is False and agreeing["consistent"] is True
    assert contradicting["checker"].startswith("llm-continuation:llamacpp:")


class ArguingScorer(Scorer):
    """P(Yes) from the candidate's like rate in train; the rationale argues for the prediction,
    or against it when `flips(sample)`, and names a film the user never saw when `invents`."""

    name = "arguing"

    def __init__(self, invented_title: str):
        self.invented_title = invented_title

    def fit(self, ds):
        self.rate = {}
        for s in ds.splits["train"]:
            likes, seen = self.rate.get(s.target, (0, 0))
            self.rate[s.target] = (likes + s.label, seen + 1)
        return self

    def predict(self, ds, sample, *, explain=False):
        likes, seen = self.rate.get(sample.target, (0, 0))
        pred = Prediction((likes + 1) / (seen + 2))
        argues_like = bool(pred.label) != flips(sample)
        text = clear_cases(ds, [sample])[0 if argues_like else 1][0]
        if invents(sample):
            text += f" It is much like {self.invented_title}."
        pred.rationale = text if explain else None
        return pred


def _bit(sample, salt: str) -> bool:
    return hashlib.sha1(f"{salt}{sample.sample_id}".encode()).digest()[0] % 3 == 0


def flips(sample):
    return _bit(sample, "flip")


def invents(sample):
    return _bit(sample, "invent")


def test_eval_explanations_report_resume_and_teacher_similarity(ml1m, tmp_path):
    invented = absent_title(ml1m, ml1m.sample("test", "1"), words=3)
    scorer = ArguingScorer(invented.title).fit(ml1m)
    samples = eval_samples(ml1m, "test", 12)
    teacher = tmp_path / "teacher.jsonl"
    with open(teacher, "w") as f:  # the teacher wrote exactly the model's rationale for 4
        for s in samples[:4]:
            rationale = scorer.predict(ml1m, s, explain=True).rationale
            f.write(json.dumps({"sample_id": s.sample_id, "rationale": rationale}) + "\n")
    folder = tmp_path / "report"
    result = run_eval(ml1m, scorer, split="test", model="arguing", limit=12, explain=True,
                      report_dir=folder, checker="lexical", teacher_jsonl=teacher,
                      progress=False)
    summary = result["explanations"]
    expected_consistency = sum(not flips(s) for s in samples) / len(samples)
    assert summary["consistency"] == pytest.approx(expected_consistency, abs=1e-4)
    assert summary["checker"] == "lexical" and summary["n_rationales"] == 12
    assert summary["rationales_with_invented"] == sum(invents(s) for s in samples) > 0
    assert json.loads((folder / "metrics.json").read_text())["explanations"] == summary
    rows = [json.loads(line) for line in (folder / "explanations.jsonl").read_text().splitlines()]
    assert [r["sample_id"] for r in rows] == [s.sample_id for s in samples]
    assert all(r["teacher_cosine"] == pytest.approx(1.0, abs=1e-4) for r in rows[:4])
    assert all(r["teacher_cosine"] is None for r in rows[4:])
    assert summary["teacher"]["n"] == 4 and summary["teacher"]["source"] == "teacher-jsonl"
    assert all(r["teacher_bertscore_f1"] == pytest.approx(1.0, abs=1e-4) for r in rows[:4])
    assert summary["teacher"]["bertscore_f1"]["n"] == 4
    assert all(r["words"] == len(strip_prediction(p).split()) for r, p in
               zip(rows, [scorer.predict(ml1m, s, explain=True).rationale for s in samples]))

    # A run killed while judging: 5 rows kept, a torn sixth line; the rerun finishes the rest.
    lines = (folder / "explanations.jsonl").read_text().splitlines(keepends=True)
    (folder / "explanations.jsonl").write_text("".join(lines[:5]) + lines[5][:40])
    assert len(_read_rows(folder / "explanations.jsonl")) == 5  # and the torn line is cut off
    assert (folder / "explanations.jsonl").read_text() == "".join(lines[:5])
    (folder / "explanations.jsonl").write_text("".join(lines[:5]) + lines[5][:40])
    again = run_eval(ml1m, scorer, split="test", model="arguing", limit=12, explain=True,
                     report_dir=folder, checker="lexical", teacher_jsonl=teacher, progress=False)
    assert again["explanations"] == summary and again["resumed"] == 12
    assert (folder / "explanations.jsonl").read_text().splitlines() == \
        [json.dumps(r, ensure_ascii=False) for r in rows]


def test_bad_teacher_file_and_flags_without_explanations(tmp_path, data_dir, capsys):
    bad = tmp_path / "teacher.jsonl"
    bad.write_text('{"sample_id": "ml1m:test:1", "rationale": "fine"}\n{"sample_id": 3}\n')
    with pytest.raises(DataError, match=r"teacher.jsonl:2: .*rationale"):
        read_teacher(bad)
    code = main(["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--model",
                 "popularity", "--teacher-jsonl", str(bad), "--report-dir",
                 str(tmp_path / "r")])
    assert code == 2 and "add --explanations" in capsys.readouterr().err
    assert not Path(tmp_path / "r").exists()
    code = main(["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--model",
                 "popularity", "--explanations", "--teacher-variant", "gpt-5", "--report-dir",
                 str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "'gpt-5'" in err and "mixtral-8x7b-wo_desc" in err
    assert not Path(tmp_path / "r").exists()


# -- similarity to the paper's real teacher (Mixtral-8x7B rationales in the dataset folder) --
def with_rationale(ds, split="test", variants=(None,), n=6):
    return [s for s in ds.splits[split]
            if all(ds.teacher_rationale(s, v) for v in variants)][:n]


def test_bertscore_on_real_teacher_texts(fashion, ml1m):
    """Identical texts score ~1; the same user and item explained from another prompt (the
    paper's w/o-profile teacher) beats another user's rationale, which beats a film's."""
    samples = with_rationale(fashion, variants=(None, "mixtral-8x7b-wo_profile"))
    main = [compared_text(fashion.teacher_rationale(s).text) for s in samples]
    paraphrase = [compared_text(fashion.teacher_rationale(s, "mixtral-8x7b-wo_profile").text)
                  for s in samples]
    other_user = main[1:] + main[:1]
    films = [compared_text(ml1m.teacher_rationale(s).text) for s in with_rationale(ml1m)]
    assert not any("Prediction" in t for t in main + paraphrase + films)
    same = bertscore_f1(main, main)
    assert same == pytest.approx([1.0] * len(main), abs=1e-4)
    close, far, unrelated = (bertscore_f1(c, main) for c in (paraphrase, other_user, films))
    assert all(c > f > u for c, f, u in zip(close, far, unrelated)), (close, far, unrelated)
    assert max(close) < 0.95  # a paraphrase is not a copy
    assert "all-MiniLM-L6-v2 (layer 6" in BACKBONE_NOTE and "deberta-xlarge-mnli" in BACKBONE_NOTE
    with pytest.raises(ValueError, match="2 candidates but 1 references"):
        bertscore_f1(main[:2], main[:1])
    # an explanation that was only "Prediction: No" is empty once compared: F1 0, not a crash
    assert bertscore_f1([compared_text("Prediction: No"), main[1]], main[:2]) == \
        pytest.approx([0.0, 1.0], abs=1e-4)


class TeacherEchoScorer(Scorer):
    """P(Yes) = the label; the rationale is the dataset teacher's text for this sample when
    `echo(sample)`, else the teacher's text for another sample (a wrong-user explanation)."""

    name = "echo"

    def __init__(self, ds, samples, variant=None):
        self.texts = {s.sample_id: ds.teacher_rationale(s, variant) for s in samples}
        self.others = [r.text for r in self.texts.values() if r]

    def predict(self, ds, sample, *, explain=False):
        own = self.texts.get(sample.sample_id)
        text = (own.text if own and echo(sample)
                else next(t for t in self.others if not own or t != own.text))
        return Prediction(float(sample.label), rationale=text if explain else None)


def echo(sample):
    return not _bit(sample, "echo")


@pytest.mark.parametrize("name, variant", [("fashion", "mixtral-8x7b"),
                                           ("ml1m", "mixtral-8x7b-wo_profile")])
def test_similarity_to_the_dataset_teacher_is_computed_automatically(name, variant, fashion,
                                                                     ml1m, tmp_path):
    ds = {"fashion": fashion, "ml1m": ml1m}[name]
    assert ds.main_teacher == variant
    samples = eval_samples(ds, "test", 12)
    scorer = TeacherEchoScorer(ds, samples)
    result = run_eval(ds, scorer, split="test", model="echo", limit=12, explain=True,
                      report_dir=tmp_path / "r", checker="lexical", progress=False)
    teacher = result["explanations"]["teacher"]
    covered = [s for s in samples if ds.teacher_rationale(s)]
    assert 0 < len(covered) and teacher["n"] == len(covered)
    assert teacher["without_reference"] == len(samples) - len(covered)
    assert (teacher["source"], teacher["variant"], teacher["split"]) == ("dataset", variant,
                                                                         "test")
    assert teacher["bertscore_backbone"] == BACKBONE_NOTE
    rows = {r["sample_id"]: r for r in map(json.loads, (tmp_path / "r" / "explanations.jsonl")
                                           .read_text().splitlines())}
    for s in samples:
        row = rows[s.sample_id]
        if ds.teacher_rationale(s) is None:
            assert row["teacher_cosine"] is None and row["teacher_bertscore_f1"] is None
        elif echo(s):   # its own teacher text: identical once "Prediction:" is gone
            assert row["teacher_bertscore_f1"] == pytest.approx(1.0, abs=1e-4)
            assert row["teacher_cosine"] == pytest.approx(1.0, abs=1e-4)
        else:           # another user's rationale
            assert row["teacher_bertscore_f1"] < 0.9 and row["teacher_cosine"] < 0.98
    f1 = [rows[s.sample_id]["teacher_bertscore_f1"] for s in covered]
    assert teacher["bertscore_f1"]["mean"] == pytest.approx(sum(f1) / len(f1), abs=1e-4)


def test_teacher_variant_is_selectable_and_checked(fashion, tmp_path):
    samples = with_rationale(fashion, variants=(None, "mixtral-8x7b-wo_desc"), n=3)
    scorer = TeacherEchoScorer(fashion, samples)
    preds = [{"sample_id": s.sample_id, "prediction": "Yes" if s.label else "No",
              "rationale": scorer.texts[s.sample_id].text} for s in samples]
    main = evaluate_explanations(fashion, samples, preds, tmp_path, checker="lexical",
                                 progress=False)["teacher"]
    ablated = evaluate_explanations(fashion, samples, preds, tmp_path, checker="lexical",
                                    teacher_variant="mixtral-8x7b-wo_desc",
                                    progress=False)["teacher"]
    assert main["variant"] == "mixtral-8x7b" and main["bertscore_f1"]["mean"] > 0.9999
    assert ablated["variant"] == "mixtral-8x7b-wo_desc" and ablated["n"] == 3
    assert ablated["bertscore_f1"]["mean"] < 0.95  # the references changed, so did the scores
    with pytest.raises(ValueError, match="mixtral-8x7b-wo_profile"):
        evaluate_explanations(fashion, samples, preds, tmp_path, checker="lexical",
                              teacher_variant="gpt-5", progress=False)


def test_rationales_the_loop_stop_ended_are_counted(fashion, tmp_path):
    samples = with_rationale(fashion, variants=(None,), n=3)
    texts = TeacherEchoScorer(fashion, samples).texts
    preds = [{"sample_id": s.sample_id, "prediction": "Yes" if s.label else "No",
              "rationale": texts[s.sample_id].text,
              "extra": {"stopped": "repeating"} if i == 1 else {}} for i, s in enumerate(samples)]
    summary = evaluate_explanations(fashion, samples, preds, tmp_path, checker="lexical",
                                    progress=False)
    assert summary["loop_stopped"] == 1
    rows = [json.loads(line) for line in (tmp_path / "explanations.jsonl").read_text().splitlines()]
    assert [r["loop_stopped"] for r in rows] == [False, True, False]


def test_fashion_grounding_on_real_teacher_and_authors_texts(fashion):
    """Long Amazon titles: Mixtral and the authors' student name the candidate and history
    products, in their own spellings ("QIYUN.Z Tribal ..." for "QIYUN.Z (TM) Tribal ..."); a
    quoted long passage or a quoted question is not an invented title."""
    index = TitleIndex(fashion.items.values())
    run = fashion.authors["sample64_valsample800_lr1e-4_valauc"]
    samples = [s for s in fashion.splits["test"] if (s.key or s.user_id) in run][:60]
    totals = {"mentioned": 0, "grounded": 0, "invented": 0}
    for s in samples:
        output = run[s.key or s.user_id]
        pred = "Yes" if output.p_yes >= 0.5 else "No"
        for text in (fashion.teacher_rationale(s).text, output.explanation):
            row = judge_one(fashion, s, {"prediction": pred, "rationale": text},
                            LexicalChecker(), index)
            for k in totals:
                totals[k] += row[k]
    assert totals["mentioned"] > 60 and totals["invented"] <= 1, totals
    sample = fashion.sample("test", "1242")  # Mixtral drops the "(TM)" of a history title
    row = judge_one(fashion, sample, {"prediction": "No",
                                      "rationale": fashion.teacher_rationale(sample).text},
                    LexicalChecker(), index)
    assert row["invented"] == 0 and row["grounded"] >= 2, row["mentions"]
    first = fashion.item(sample.history[0].item_id).title
    text = (f'They liked "{first}, a necklace with a long description that runs on and on past '
            f'any title length, as Amazon copy does" 2. Will the user like the next purchased '
            f'item? "Will the user like the next purchased item?" "Strong features:" none.')
    row = judge_one(fashion, sample, {"prediction": "No", "rationale": text}, LexicalChecker(),
                    index)
    assert row["invented"] == 0, row["mentions"]


def test_film_titles_across_a_sentence_end_or_inside_a_name_are_not_mentions(ml1m, ml1m_index):
    sample = ml1m.sample("test", "1")
    shown = {e.item_id for e in sample.history}
    postman = [i for i in ml1m.items.values() if i.title == "Postman, The"]
    assert postman and ml1m_index.spans("We watched Postman, The again")
    text = ("They like true stories such as Awakenings and The Postman. The user also likes "
            "actors; the ensemble cast, featuring Michael Douglas, is a draw.")
    kinds = {m["text"]: m["kind"] for m in find_mentions(text, ml1m_index, shown,
                                                         sample.target, shown)}
    assert "Postman. The" not in kinds and "Michael" not in kinds, kinds
    assert any(i.title.startswith("L.A. Confidential") for i in ml1m.items.values())
    assert ml1m_index.spans("I loved L.A. Confidential.")  # a title with a stop inside


def test_authors_replayed_explanations_are_measured_without_generation(data_dir, fashion,
                                                                      tmp_path, capsys):
    run = "sample64_valsample800_lr1e-4_valauc"
    code = main(["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--model",
                 f"authors:{run}", "--sample", "paper", "--explanations", "--limit", "8",
                 "--checker", "lexical", "--report-dir", str(tmp_path / "r"), "--json",
                 "--no-progress"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    expl = result["explanations"]
    assert expl["n_rationales"] == 8 and expl["consistency"] is not None
    assert expl["grounding"] is not None and isinstance(expl["invented"], int)
    teacher = expl["teacher"]
    assert (teacher["variant"], teacher["n"]) == ("mixtral-8x7b", 8)
    assert 0.5 < teacher["bertscore_f1"]["mean"] < 0.95
    assert 0.3 < teacher["cosine_all-MiniLM-L6-v2"]["mean"] < 0.99
    preds = [json.loads(line) for line in (tmp_path / "r" / "predictions.jsonl").read_text()
             .splitlines()]
    assert [p["sample_id"] for p in preds] == [s.sample_id for s in
                                               eval_samples(fashion, "test", 8, sample="paper")]
    rows = fashion.authors[run]
    # the rationale is the authors' text (no model was run), compared without its prediction
    for p in preds:
        key = p["sample_id"].rsplit(":", 1)[1]
        assert p["rationale"] == authors_explanation(rows[key].explanation)
        assert "Prediction" not in compared_text(p["rationale"])
    judged = [json.loads(line) for line in (tmp_path / "r" / "explanations.jsonl").read_text()
              .splitlines()]
    direct = bertscore_f1([compared_text(p["rationale"]) for p in preds],
                          [compared_text(fashion.teacher_rationale(
                              fashion.sample("test", p["sample_id"].rsplit(":", 1)[1])).text)
                           for p in preds])
    assert [r["teacher_bertscore_f1"] for r in judged] == pytest.approx(direct, abs=1e-5)


def test_checker_never_reads_a_prediction_written_mid_text(fashion, tmp_path):
    """The paper's 7B student writes "... fit.  Prediction: No  The user ..." inside its text:
    the checker must not read it; rows judged before this stripping are judged again."""
    run = fashion.authors["sample64_valsample800_lr1e-4_valauc"]
    sample = next(s for s in eval_samples(fashion, "test", sample="paper")
                  if "Prediction:" in strip_prediction(
                      authors_explanation(run[s.key or s.user_id].explanation)))
    text = authors_explanation(run[sample.key or sample.user_id].explanation)

    class Reader:  # a checker that records what it was given
        name, seen = "reader", []

        def p_like(self, t):
            self.seen.append(t)
            return 0.5

    reader = Reader()
    row = judge_one(fashion, sample, {"prediction": "No", "rationale": text}, reader,
                    TitleIndex(fashion.items.values()))
    assert "Prediction" not in reader.seen[0] and "Prediction" in text
    assert row["words"] == len(compared_text(text).split())
    preds = [{"sample_id": sample.sample_id, "prediction": "No", "rationale": text}]
    evaluate_explanations(fashion, [sample], preds, tmp_path, checker="lexical", progress=False)
    path = tmp_path / "explanations.jsonl"
    stored = json.loads(path.read_text())
    assert stored["checker_input"] == 3
    for before in (None, 2):  # rows written before the mid-text / "Answer:" stripping
        stale = {**stored, "lexical_stance": "stale", "checker_input": before}
        path.write_text(json.dumps(stale) + "\n")
        evaluate_explanations(fashion, [sample], preds, tmp_path, checker="lexical",
                              progress=False)
        again = json.loads(path.read_text())
        assert again["lexical_stance"] != "stale" and again["checker_input"] == 3


@pytest.mark.slow
def test_the_gpu_path_of_eval_explanations_runs(fashion, data_dir, tmp_path, capsys):
    """The README's GPU command for the paper's 800 (student and checker on transformers,
    `hf:` specs), run here on the CPU for 2 samples and short texts: P(Yes), generation, the
    hf: judge and the similarity to Mixtral all go through."""
    from reasoningrec.models import smollm2_gguf
    base = smollm2_gguf()
    folder = tmp_path / "r"
    code = main(["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--sample",
                 "paper", "--limit", "2", "--model",
                 f"hf:{base}+assets/student_fashion_k896/peft", "--explanations", "--checker",
                 f"hf:{base}", "--max-tokens", "24", "--report-dir", str(folder),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    explained = json.loads((folder / "metrics.json").read_text())["explanations"]
    assert explained["n_rationales"] == 2
    assert explained["checker"] == f"llm-continuation:hf:{base}"
    assert explained["consistency"] is not None
    assert explained["teacher"]["variant"] == "mixtral-8x7b" and explained["teacher"]["n"] == 2
    assert 0 < explained["teacher"]["bertscore_f1"]["mean"] < 1
    rows = [json.loads(line) for line in (folder / "explanations.jsonl").read_text().splitlines()]
    assert len(rows) == 2 and all(0 < r["tokens"] <= 24 for r in rows)
