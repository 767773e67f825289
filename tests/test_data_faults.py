"""Data that never shrinks silently (issue #14 points 9 and 10), on copies of the real data:
an Amazon ctr row whose history_rating list is one short (repaired when one unrated history
item explains it, else skipped), a target in neither the item file nor the ratings (skipped),
each counted under `skipped`, warned on stderr with line numbers, refused with --strict; and
a split cut at a line end (ML-1M test with 3,000 of 6,040 users, Fashion test with 399 rows)
said loudly.

    .venv/bin/python -m pytest tests/test_data_faults.py -q
"""
from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reasoningrec.data import DataError, load_dataset
from reasoningrec.evaluate.sampling import eval_samples

ROOT = Path(__file__).resolve().parent.parent
FASHION_FILES = ("ratings.csv", "processed_item_information.json", "user_profile_summary.json",
                 "user_train.json", "user_valid.json", "user_test.json", "ctr")


def copy_layout(data_dir: Path, tmp: Path, name: str, files) -> Path:
    """<tmp>/reasoningrec/<name>/ with `files` of the real folder (no released outputs)."""
    src, dst = data_dir / "reasoningrec" / name, tmp / "reasoningrec" / name
    dst.mkdir(parents=True)
    for f in files:
        (shutil.copytree if (src / f).is_dir() else shutil.copy)(src / f, dst / f)
    return dst


def rewrite(path: Path, change) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    change(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)
    return rows


@pytest.fixture
def faulty_fashion(data_dir, tmp_path):
    folder = copy_layout(data_dir, tmp_path, "fashion", FASHION_FILES)
    rated = {}
    with (folder / "ratings.csv").open() as f:
        for row in csv.DictReader(f):
            rated.setdefault(row["user"], set()).add(row["item"])
    original = {}

    def change(rows):
        a, b, c = rows[0], rows[1], rows[2]            # CSV lines 2, 3, 4
        original.update(a=dict(a), b=b["user"], c=c["user"])
        history = json.loads(a["history_item_id"])
        unrated = next(i for i in range(10_000) if str(i) not in rated[a["user"]])
        a["history_item_id"] = json.dumps(history[:2] + [unrated] + history[2:]).replace(",", ", ")
        b["history_rating"] = json.dumps(json.loads(b["history_rating"])[:-1])
        c["item_id"] = "99999999"
    rewrite(folder / "ctr" / "test.csv", change)
    return tmp_path, original


def test_faulty_amazon_rows_are_repaired_or_skipped_and_counted(faulty_fashion, caplog):
    root, original = faulty_fashion
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("fashion", root, cache=False)
    skipped = ds.stats()["skipped"]
    assert skipped["ctr_history_repaired"] == 1
    assert skipped["ctr_history_mismatch_skipped"] == 1
    assert skipped["ctr_unknown_target_skipped"] == 1
    test = {s.user_id: s for s in ds.splits["test"]}
    a = original["a"]
    assert [h.item_id for h in test[a["user"]].history] == [str(i) for i in json.loads(a["history_item_id"])]
    assert original["b"] not in test and original["c"] not in test
    assert len(ds.splits["test"]) == len(ds.splits["train"]) - 2
    text = caplog.text
    assert "first on line(s) 2" in text and "first on line(s) 3" in text and "first on line(s) 4" in text
    assert "cut short" not in text                  # the two skipped rows explain the gap
    with pytest.raises(DataError, match=r"test.csv:2: .*without --strict"):
        load_dataset("fashion", root, cache=False, strict=True)


def test_data_stats_shows_the_skipped_rows_and_strict_fails(faulty_fashion):
    root, _ = faulty_fashion
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "reasoningrec", "data", "stats", "--dataset", "fashion",
           "--data-dir", str(root)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "ctr_history_repaired=1" in r.stdout and "ctr_unknown_target_skipped=1" in r.stdout
    assert "first on line(s) 4" in r.stderr
    r = subprocess.run(cmd + ["--strict"], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "test.csv:2" in r.stderr.strip().splitlines()[-1]


def test_a_split_cut_at_a_line_end_is_said_loudly(data_dir, tmp_path, caplog):
    folder = copy_layout(data_dir, tmp_path, "ml_1m", ("ctr", "movie_summary_25_words.csv",
                                                       "users.csv", "movies.csv"))
    rewrite(folder / "ctr" / "test.csv", lambda rows: rows.__delitem__(slice(3000, None)))
    with caplog.at_level(logging.WARNING):
        ds = load_dataset("ml1m", tmp_path, cache=False)
    assert len(ds.splits["test"]) == 3000
    assert "the test split has 3,000 users but the splits together have 6,040" in caplog.text
    with pytest.raises(DataError, match="probably cut short"):
        load_dataset("ml1m", tmp_path, cache=False, strict=True)


def test_the_papers_sample_size_out_of_reach_is_said_loudly(data_dir, tmp_path, caplog):
    folder = copy_layout(data_dir, tmp_path, "fashion", FASHION_FILES)
    for split in ("train", "valid", "test"):                   # every split cut the same way
        rewrite(folder / "ctr" / f"{split}.csv", lambda rows: rows.__delitem__(slice(399, None)))
    for split in ("train", "valid", "test"):
        (folder / f"user_{split}.json").unlink()
    ds = load_dataset("fashion", tmp_path, cache=False)
    with caplog.at_level(logging.WARNING):
        samples = eval_samples(ds, "test")
    assert len(samples) == 399
    assert "fashion:test has 399 samples, fewer than the paper's 800" in caplog.text
