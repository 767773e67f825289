"""ml1m-raw: the paper's ML-1M split rebuilt from a GroupLens ratings.dat (tiny synthetic fixture
in the exact original format: tests/fixtures/ml-1m-mini, made by make_fixture.py there).

    .venv/bin/python -m pytest tests/test_data_raw_split.py -q
"""
from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.movielens import _ctr_samples
from reasoningrec.data.splits import load_ml1m_raw, write_ctr_csv

MINI = Path(__file__).parent / "fixtures" / "ml-1m-mini"


def expected_windows() -> dict[str, dict[str, tuple[list[tuple[str, int]], str, int]]]:
    """Recompute the split from the raw lines: sort each user's ratings by (timestamp, file
    line), skip 15 profile ratings, the last three ratings are train/valid/test targets with up
    to 20 earlier non-profile ratings as history; liked = rating >= 3."""
    by_user = defaultdict(list)
    for line_no, line in enumerate((MINI / "ratings.dat").read_text("latin-1").splitlines()):
        user, movie, rating, stamp = line.split("::")
        by_user[user].append((int(stamp), line_no, movie, int(rating)))
    out = {"train": {}, "valid": {}, "test": {}}
    for user, rows in by_user.items():
        rows.sort()
        if len(rows) < 19:
            continue
        for k, split in enumerate(["train", "valid", "test"]):
            t = len(rows) - 3 + k
            hist = [(m, int(r >= 3)) for _, _, m, r in rows[15:t][-20:]]
            out[split][user] = (hist, rows[t][2], int(rows[t][3] >= 3))
    return out


@pytest.fixture(scope="module")
def mini_ds():
    return load_ml1m_raw(MINI)


def test_split_matches_independent_recomputation(mini_ds):
    expected = expected_windows()
    assert set(expected["test"]) == {"1", "2", "3", "4", "5", "6"}
    for split, samples in mini_ds.splits.items():
        got = {s.user_id: ([(h.item_id, int(h.liked)) for h in s.history], s.target, s.label)
               for s in samples}
        assert got == expected[split], split
    assert mini_ds.report["users_with_too_few_ratings"] == 1  # user 7 has 17 ratings


def test_split_shape(mini_ds):
    test = mini_ds.sample("test", "1")
    assert len(test.history) == 20
    assert len(mini_ds.sample("train", "6").history) == 1  # 19 ratings: 15 profile + 1 + 3
    # the valid target is the last history item of test, the train target that of valid
    assert mini_ds.sample("valid", "1").target == test.history[-1].item_id
    assert mini_ds.sample("train", "1").target == mini_ds.sample("valid", "1").history[-1].item_id
    assert len(mini_ds.interactions) == len((MINI / "ratings.dat").read_text().splitlines())


def test_latin1_movies_and_users(mini_ds):
    assert mini_ds.items["73"].title == "Misérables, Les"
    assert mini_ds.items["73"].attributes == {"year": "1995", "genres": "Drama, Musical"}
    assert mini_ds.items["649"].title == "Cold Fever (Á köldum klaka)"
    assert mini_ds.users["1"].demographics == "female k-12 student under 18 years of age"
    assert mini_ds.users["5"].demographics == "female unknown between 35 to 44 years of age"


def test_write_ctr_csv_round_trips(mini_ds, tmp_path):
    paths = write_ctr_csv(mini_ds.splits, tmp_path / "ctr")
    assert [p.name for p in paths] == ["train.csv", "valid.csv", "test.csv"]
    with open(paths[2], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["user", "history_item_id", "history_rating", "item_id", "rating",
                       "timestamp"]
    first = mini_ds.sample("test", rows[1][0])
    assert json.loads(rows[1][1]) == [int(h.item_id) for h in first.history]
    for path in paths:
        split = path.stem
        again = _ctr_samples(path, "ml1m-raw", split, mini_ds.items)
        assert sorted(again, key=lambda s: s.user_id) == sorted(mini_ds.splits[split],
                                                                key=lambda s: s.user_id)


def test_load_dataset_reads_movielens_1m_folder(tmp_path):
    shutil.copytree(MINI, tmp_path / "movielens-1m")
    ds = load_dataset("ml1m-raw", tmp_path, cache=False)
    assert len(ds.splits["test"]) == 6


def test_no_timestamps_is_a_clear_error(data_dir):
    with pytest.raises(DataError, match="ratings_no_timestamp.dat has no time order"):
        load_ml1m_raw(data_dir)


def test_bad_ratings_line_names_file_and_line(tmp_path):
    for name in ("movies.dat", "users.dat"):
        shutil.copy(MINI / name, tmp_path / name)
    lines = (MINI / "ratings.dat").read_text().splitlines()
    lines[4] = lines[4].rsplit("::", 1)[0] + "::yesterday"
    (tmp_path / "ratings.dat").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"ratings\.dat:5: timestamp must be an integer"):
        load_ml1m_raw(tmp_path)
    lines[4] = "1::99999::4::956703932"
    (tmp_path / "ratings.dat").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"ratings\.dat:5: unknown movie id '99999'"):
        load_ml1m_raw(tmp_path)
