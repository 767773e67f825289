"""training.import_teacher: the paper's released Mixtral rationales as training.sft's input."""
from __future__ import annotations

import json

import pytest

from training import import_teacher
from training.sft_data import teacher_rows


def test_imports_every_train_rationale_without_its_prediction(data_dir, fashion, tmp_path):
    out = tmp_path / "fashion-train-mixtral.jsonl"
    assert import_teacher.main(["--dataset", "fashion", "--data-dir", str(data_dir),
                                "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    released = fashion.teacher["mixtral-8x7b"]["train"]
    assert len(rows) == len(released) == 896
    by_id = {s.sample_id: s for s in fashion.splits["train"]}
    for row in rows:
        sample = by_id[row["sample_id"]]
        assert row["label"] == sample.label == released[sample.user_id].label
        assert "Prediction:" not in row["rationale"]
        words = " ".join(row["rationale"].split())  # the same words, whitespace aside
        assert " ".join(released[sample.user_id].text.split()).startswith(words)
    # what training.sft reads from it: every sample id joins the dataset, few rows dropped
    used = teacher_rows(out, only_verified=True)
    assert set(used) <= set(by_id) and len(used) >= 880


def test_bad_variant_and_non_train_split_are_refused(data_dir, tmp_path, capsys):
    with pytest.raises(SystemExit, match="no teacher variant 'gpt-9'"):
        import_teacher.main(["--dataset", "fashion", "--data-dir", str(data_dir),
                             "--variant", "gpt-9", "--out", str(tmp_path / "x.jsonl")])
    with pytest.raises(SystemExit):  # argparse: valid/test rationales are references only
        import_teacher.main(["--dataset", "fashion", "--data-dir", str(data_dir),
                             "--split", "test", "--out", str(tmp_path / "x.jsonl")])
    assert "invalid choice" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()
