"""The paper's released outputs (teacher rationales, the authors' student) on the real data, and
the errors a bad copy of them raises.

    .venv/bin/python -m pytest tests/test_data_outputs.py -q
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from reasoningrec.data import DataError, load_dataset, teacher_text_without_prediction
from reasoningrec.data.outputs import authors_explanation
from reasoningrec.evaluate.metrics import roc_auc

RUNS = [f"sample{k}_valsample800_lr{lr}_valauc" for k in (64, 128, 256) for lr in ("1e-4", "4e-5")]
K64 = "sample64_valsample800_lr1e-4_valauc"


def test_fashion_teacher_counts_per_variant_and_split(fashion):
    assert {v: {s: len(rows) for s, rows in splits.items()}
            for v, splits in fashion.teacher.items()} == {
        "mixtral-8x7b": {"train": 896, "valid": 896, "test": 896},
        "mixtral-8x7b-wo_profile": {"train": 896, "valid": 896, "test": 896},
        "mixtral-8x7b-wo_desc": {"train": 904, "valid": 904, "test": 904}}
    assert fashion.main_teacher == "mixtral-8x7b"


def test_ml1m_teacher_is_the_2400_test_rationales(ml1m):
    assert {v: {s: len(r) for s, r in sp.items()} for v, sp in ml1m.teacher.items()} == {
        "mixtral-8x7b-wo_profile": {"test": 2400}}
    assert ml1m.main_teacher == "mixtral-8x7b-wo_profile"  # the only variant
    assert dict(ml1m.authors) == {}
    with_rationale = [s for s in ml1m.splits["test"] if ml1m.teacher_rationale(s)]
    assert len(with_rationale) == 2400
    assert ml1m.teacher_rationale(ml1m.splits["train"][0]) is None  # not released


def test_rationales_agree_with_the_csv_labels(fashion, data_dir):
    """The loader checks labels against the CSV; here an independent read of both files."""
    folder = data_dir / "reasoningrec" / "fashion"
    with open(folder / "ctr" / "valid.csv", newline="") as f:
        labels = {row["user"]: int(row["rating"]) for row in csv.DictReader(f)}
    rows = fashion.teacher["mixtral-8x7b"]["valid"]
    assert {k: r.label for k, r in rows.items()} == {k: labels[k] for k in rows}
    for r in rows.values():  # the stated prediction is the label the teacher was told
        stated = re.findall(r"Prediction: (Yes|No)", r.text)
        assert stated == ["Yes" if r.label else "No"], r.key


def test_teacher_rationale_lookup(fashion):
    test = fashion.splits["test"]
    covered = [s for s in test if fashion.teacher_rationale(s) is not None]
    assert len(covered) == 896 and len(test) - len(covered) == 1273 - 896
    sample = covered[0]
    main = fashion.teacher_rationale(sample)
    assert (main.variant, main.split, main.key, main.label) == (
        "mixtral-8x7b", "test", sample.user_id, sample.label)
    ablation = fashion.teacher_rationale(sample, "mixtral-8x7b-wo_desc")
    assert ablation.variant == "mixtral-8x7b-wo_desc" and ablation.text != main.text
    with pytest.raises(KeyError, match="mixtral-8x7b-wo_desc"):
        fashion.teacher_rationale(sample, "gpt-4")


def test_teacher_text_without_prediction(fashion):
    assert teacher_text_without_prediction("He likes hats.\nPrediction: Yes") == "He likes hats."
    assert teacher_text_without_prediction("Prediction: No \n 1. Too big.") == "1. Too big."
    assert teacher_text_without_prediction("# Prediction: No.\n\n\nShort.") == "Short."
    bare = []
    for splits in fashion.teacher.values():
        for row in splits["test"].values():
            text = teacher_text_without_prediction(row.text)
            assert "prediction:" not in text.lower()
            if len(text) < 100:
                bare.append((row.variant, row.key, text))
    # as released: two ablation rationales are nothing but the answer; the loader says so
    assert bare == [("mixtral-8x7b-wo_profile", "195", ""), ("mixtral-8x7b-wo_profile", "991", "")]
    assert fashion.report["teacher_rationales_only_prediction"] == 2


def test_six_authors_runs_of_800_resolve_by_full_and_bare_name(fashion, data_dir):
    assert sorted(fashion.authors) == sorted(f"llama2-7b-chat/{r}" for r in RUNS)
    assert all(len(rows) == 800 for rows in fashion.authors.values())
    assert fashion.authors[K64] is fashion.authors[f"llama2-7b-chat/{K64}"]
    assert K64 in fashion.authors and "sample64" not in fashion.authors
    with pytest.raises(KeyError, match="runs: llama2-7b-chat/"):
        fashion.authors["sample64"]
    path = data_dir / "reasoningrec/fashion/authors_student/llama2-7b-chat" / K64
    first = json.loads((path / "test_outputs.jsonl").read_text().splitlines()[0])
    row = fashion.authors_output(K64, fashion.sample("test", first["user"]))
    assert (row.model, row.run, row.key, row.label, row.p_yes) == (
        "llama2-7b-chat", K64, first["user"], first["label"], first["p_yes"])
    assert row.explanation == first["student_output"]
    drawn = set(fashion.authors[K64])
    outside = next(s for s in fashion.splits["test"] if s.user_id not in drawn)
    assert fashion.authors_output(K64, outside) is None
    assert fashion.authors_output(K64, fashion.splits["valid"][0]) is None


@pytest.mark.parametrize("run", RUNS)
def test_auc_from_the_authors_rows_equals_their_results_json(fashion, data_dir, run):
    rows = list(fashion.authors[run].values())
    auc = roc_auc([r.label for r in rows], [r.p_yes for r in rows])
    results = json.loads((data_dir / "reasoningrec/fashion/authors_student/llama2-7b-chat" / run /
                          "results.json").read_text())
    reported = results["fashion"]["fashion"][run]["42"][run.split("_")[0][6:]]["auc"]
    assert auc == pytest.approx(reported, abs=5e-5)
    if run == K64:
        assert round(auc, 4) == 0.6554
    if run == "sample256_valsample800_lr1e-4_valauc":
        assert round(auc, 4) == 0.7356


def test_authors_explanation_drops_the_leading_answer(fashion):
    assert authors_explanation("Prediction: No \nn1. The user is a woman") == \
        "1. The user is a woman"
    assert authors_explanation("1Prediction: Yes \n Answer: 1. Soft.") == "Answer: 1. Soft."
    assert authors_explanation("# Yes \n 1. The user") == "1. The user"
    assert authors_explanation("The user likes hats. Prediction: Yes") == \
        "The user likes hats. Prediction: Yes"  # not a leading answer: kept
    rows = fashion.authors[K64].values()
    kept = [authors_explanation(r.explanation) for r in rows]
    assert sum(not re.match(r"\W*prediction", t, re.I) for t in kept) == len(kept)
    assert sum(t.startswith("1.") for t in kept) > 700


# ---- bad copies -----------------------------------------------------------------------------
OUTPUTS = ("teacher/mixtral-8x7b/test.jsonl",
           f"authors_student/llama2-7b-chat/{K64}/test_outputs.jsonl")


def load_copy(tmp_path: Path):
    return load_dataset("fashion", tmp_path, cache=False)


def test_a_folder_without_outputs_loads_with_none(tmp_path, fashion_copy):
    fashion_copy()
    ds = load_copy(tmp_path)
    assert ds.teacher == {} and dict(ds.authors) == {}
    assert ds.stats()["teacher"] == {} and ds.stats()["authors"] == {}
    assert ds.teacher_rationale(ds.splits["test"][0]) is None
    with pytest.raises(KeyError, match="runs: none"):
        ds.authors_output(K64, ds.splits["test"][0])


def test_the_copy_loads_like_the_original(tmp_path, fashion, fashion_copy):
    fashion_copy(OUTPUTS)
    ds = load_copy(tmp_path)
    assert ds.stats()["teacher"] == {"mixtral-8x7b": {"test": 896}}
    assert ds.stats()["authors"] == {f"llama2-7b-chat/{K64}": 800}
    assert ds.teacher["mixtral-8x7b"]["test"] == fashion.teacher["mixtral-8x7b"]["test"]


def _break(path: Path, line: int, edit) -> None:
    """Replace line `line` (1-based) of a JSONL file by edit(row) (a dict or a raw string)."""
    lines = path.read_text().splitlines()
    new = edit(json.loads(lines[line - 1]))
    lines[line - 1] = new if isinstance(new, str) else json.dumps(new)
    path.write_text("\n".join(lines) + "\n")


TEACHER = "teacher/mixtral-8x7b/test.jsonl"
AUTHORS = f"authors_student/llama2-7b-chat/{K64}/test_outputs.jsonl"


@pytest.mark.parametrize("rel, line, edit, message", [
    (TEACHER, 7, lambda r: {**r, "user": "999999"}, "user '999999' has no sample in the test"),
    (TEACHER, 5, lambda r: {**r, "label": 1 - r["label"]}, "but the test CSV says"),
    (TEACHER, 3, lambda r: '{"user": "1", "label": 1, "rationale": "cut', "invalid JSON"),
    (TEACHER, 9, lambda r: {"user": r["user"], "label": r["label"]},
     "missing field(s) ['rationale']"),
    (TEACHER, 2, lambda r: {**r, "label": "yes"}, "field 'label' must be int"),
    (TEACHER, 4, lambda r: {**r, "user": "0"}, "appears twice (first on line 1)"),
    (TEACHER, 6, lambda r: [r["user"]], "expected a JSON object"),
    (AUTHORS, 11, lambda r: {**r, "p_yes": 1.5}, "p_yes must be a number in [0, 1]"),
    (AUTHORS, 12, lambda r: {**r, "label": 1 - r["label"]}, "but the test CSV says"),
    (AUTHORS, 13, lambda r: {k: v for k, v in r.items() if k != "student_output"},
     "missing field(s) ['student_output']"),
])
def test_bad_rows_name_file_and_line(tmp_path, fashion_copy, rel, line, edit, message):
    folder = fashion_copy(OUTPUTS)
    _break(folder / rel, line, edit)
    with pytest.raises(DataError) as err:
        load_copy(tmp_path)
    assert err.value.path == str(folder / rel) and err.value.line == line
    assert message in str(err.value) and str(err.value).startswith(f"{folder / rel}:{line}: ")


def test_authors_rows_must_be_test_samples_and_files_must_name_a_split(tmp_path, fashion_copy):
    folder = fashion_copy(OUTPUTS)
    _break(folder / AUTHORS, 1, lambda r: {**r, "user": "u-404"})
    with pytest.raises(DataError, match=f"{AUTHORS}:1: user 'u-404' has no sample in the test "
                                        "split"):
        load_copy(tmp_path)
    (folder / AUTHORS).unlink()
    (folder / "teacher/mixtral-8x7b/test.jsonl").rename(folder / "teacher/mixtral-8x7b/tst.jsonl")
    with pytest.raises(DataError, match="tst.jsonl: unknown split 'tst'"):
        load_copy(tmp_path)
