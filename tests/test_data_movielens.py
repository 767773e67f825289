"""MovieLens loaders on the real data (`data_dir`): the paper's ML-1M protocol, TALLRec's ML-100K
protocol from RecBole and from GroupLens files, and DataError on broken copies.

    .venv/bin/python -m pytest tests/test_data_movielens.py -q
"""
from __future__ import annotations

import csv
import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.movielens import ML100K_GENRES, load_ml1m, load_ml100k, read_ml1m_movies
from reasoningrec.data.readers import parse_id_list, read_dat

# ---------------------------------------------------------------- ml1m on the real data



def test_ml1m_counts(ml1m):
    assert len(ml1m.items) == 3883
    assert len(ml1m.users) == 6040
    assert {s: len(v) for s, v in ml1m.splits.items()} == {"train": 6040, "valid": 6040,
                                                           "test": 6040}
    assert ml1m.domain == "movie"
    assert len({s.sample_id for s in ml1m.splits["test"]}) == 6040


def test_ml1m_user1_test_sample_matches_csv(ml1m, data_dir):
    with open(data_dir / "reasoningrec/ml_1m/ctr/test.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, line2 = rows[0], dict(zip(rows[0], rows[1]))  # CSV line 2 = first data row
    assert header[:2] == ["user", "history_item_id"] and line2["user"] == "1"
    sample = ml1m.sample("test", "1")
    assert [h.item_id for h in sample.history] == [str(i) for i in
                                                   json.loads(line2["history_item_id"])]
    assert [int(h.liked) for h in sample.history] == json.loads(line2["history_rating"])
    assert len(sample.history) == 20 and sample.history[0].item_id == "531"
    assert (sample.target, sample.label) == (line2["item_id"], int(line2["rating"]))


def test_ml1m_items_and_users(ml1m, data_dir):
    toy = ml1m.item("1")
    assert toy.title == "Toy Story"
    assert list(toy.attributes)[:3] == ["year", "genres", "description"]
    assert toy.attributes["year"] == "1995" and toy.description.startswith("Toy Story is")
    assert "Woody" in toy.attributes["plot"]  # OMDb plot from movies_extrainfos.dat
    assert all(not i.title.endswith(" ") and i.description for i in ml1m.items.values())
    assert ml1m.users["1"].demographics == "female k-12 student under 18 years of age"
    n_ratings = (data_dir / "movielens-1m/ratings_no_timestamp.dat").read_bytes().count(b"\n")
    assert len(ml1m.interactions) == n_ratings == 1_000_209


def test_ml1m_labels_agree_with_raw_ratings(ml1m):
    """history_rating and rating of the ctr files are 1 exactly when the raw rating is >= 3."""
    raw = {(x.user_id, x.item_id): x.rating for x in ml1m.interactions}
    for sample in ml1m.splits["valid"][:500]:
        assert sample.label == int(raw[sample.user_id, sample.target] >= 3)
        assert all(h.liked == (raw[sample.user_id, h.item_id] >= 3) for h in sample.history)


def test_latin1_movies_dat(data_dir):
    path = data_dir / "movielens-1m/movies.dat"
    items = read_ml1m_movies(path)
    assert len(items) == 3883
    raw_line = next(b for b in path.read_bytes().split(b"\n") if b.startswith(b"73::"))
    assert b"Mis\xe9rables" in raw_line  # the original byte is latin-1 0xE9
    assert items["73"].title == "Misérables, Les"


def test_users_dat_sentences_equal_papers_users_csv(data_dir):
    from reasoningrec.data.movielens import read_ml1m_users
    users = read_ml1m_users(data_dir / "movielens-1m/users.dat")
    with open(data_dir / "reasoningrec/ml_1m/users.csv", newline="") as f:
        paper = {r["user_id"]: r["user_profile"] for r in csv.DictReader(f)}
    assert {u: users[u].demographics for u in users} == paper


# ---------------------------------------------------------------- ml1m: bad input


@pytest.fixture
def ml1m_copy(data_dir, tmp_path):
    """The paper's ml_1m folder copied to tmp (without the optional GroupLens files)."""
    shutil.copytree(data_dir / "reasoningrec/ml_1m", tmp_path / "reasoningrec/ml_1m")
    return tmp_path


def _edit_line(path: Path, line_no: int, old: str, new: str) -> None:
    lines = path.read_text().split("\n")
    assert old in lines[line_no - 1]
    lines[line_no - 1] = lines[line_no - 1].replace(old, new, 1)
    path.write_text("\n".join(lines))


def test_missing_file(ml1m_copy):
    (ml1m_copy / "reasoningrec/ml_1m/ctr/test.csv").unlink()
    with pytest.raises(DataError, match=r"ctr/test\.csv: file not found"):
        load_ml1m(ml1m_copy)


def test_wrong_column(ml1m_copy):
    _edit_line(ml1m_copy / "reasoningrec/ml_1m/users.csv", 1, "user_profile", "profile")
    with pytest.raises(DataError, match=r"users\.csv:1: missing column\(s\) \['user_profile'\]"):
        load_ml1m(ml1m_copy)


def test_malformed_line(ml1m_copy):
    _edit_line(ml1m_copy / "reasoningrec/ml_1m/ctr/train.csv", 5, '"[', '"(')
    with pytest.raises(DataError, match=r"train\.csv:5: column 'history_item_id': expected a list"):
        load_ml1m(ml1m_copy)


def test_unknown_item_in_sample(ml1m_copy):
    path = ml1m_copy / "reasoningrec/ml_1m/ctr/valid.csv"
    with open(path, newline="") as f:
        target = list(csv.reader(f))[2][3]  # the item_id of CSV line 3
    _edit_line(path, 3, f",{target},", ",999999,")
    with pytest.raises(DataError, match=r"valid\.csv:3: unknown item id '999999'"):
        load_ml1m(ml1m_copy)


def test_wrong_encoding(data_dir, tmp_path):
    original = data_dir / "movielens-1m/movies.dat"
    with pytest.raises(DataError, match=r"movies\.dat:73: not valid utf-8 .*latin-1"):
        list(read_dat(original, 3, "utf-8", hint="GroupLens ships this file as latin-1"))
    resaved = tmp_path / "movies.dat"  # someone opened it in an editor and saved it as UTF-8
    resaved.write_text(original.read_text("latin-1"), encoding="utf-8")
    with pytest.raises(DataError, match=r"movies\.dat:73: looks UTF-8 encoded.*latin-1"):
        read_ml1m_movies(resaved)


def test_parse_id_list_errors():
    assert parse_id_list("[1, 2, 3]", "f.csv", 2) == ["1", "2", "3"]
    assert parse_id_list("[]", "f.csv", 2) == []
    with pytest.raises(DataError, match=r"f\.csv:7: empty element"):
        parse_id_list("[1,, 3]", "f.csv", 7)


# ---------------------------------------------------------------- ml100k


def tallrec_reference(inter_path: Path):
    """TALLRec's preprocess_movie.py, re-done from the raw rows: per user in order of first
    appearance, sort by timestamp, windows of 10, keep the last 10,000, cut 80/10/10."""
    per_user = defaultdict(list)
    for line in inter_path.read_text().splitlines()[1:]:
        user, item, rating, stamp = line.split("\t")
        per_user[user].append((item, int(float(rating)) > 3, int(float(stamp))))
    rows = []
    for user, events in per_user.items():
        events = sorted(events, key=lambda e: e[2])
        rows += [(user, tuple((i, liked) for i, liked, _ in events[k - 10:k]), events[k][0],
                  int(events[k][1])) for k in range(10, len(events))]
    rows = rows[-10000:]
    return {"train": rows[:8000], "valid": rows[8000:9000], "test": rows[9000:]}


def _as_rows(ds, split):
    return [(s.user_id, tuple((h.item_id, h.liked) for h in s.history), s.target, s.label)
            for s in ds.splits[split]]


@pytest.fixture(scope="module")
def ml100k(data_dir):
    return load_dataset("ml100k", data_dir)


def test_ml100k_recbole(ml100k, data_dir):
    assert len(ml100k.items) == 1682 and len(ml100k.users) == 943
    assert ml100k.item("1").title == "Toy Story"
    assert ml100k.item("1").attributes["genres"] == "Animation, Children's, Comedy"
    reference = tallrec_reference(data_dir / "movielens-100k/ml-100k.inter")
    for split in ("train", "valid", "test"):
        assert _as_rows(ml100k, split) == reference[split]
        assert len({s.key for s in ml100k.splits[split]}) == len(ml100k.splits[split])
    assert ml100k.report["samples_dropped_older"] == 100_000 - 943 * 10 - 10_000
    assert len(ml100k.interactions) == 100_000


def test_ml100k_grouplens_files_give_same_samples(ml100k, data_dir, tmp_path):
    """Write the RecBole data out as GroupLens u.data/u.item/u.user and load that."""
    src = data_dir / "movielens-100k"
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    inter = src.joinpath("ml-100k.inter").read_text().splitlines()[1:]
    folder.joinpath("u.data").write_text("".join(line + "\n" for line in inter))
    items = []
    for line in src.joinpath("ml-100k.item").read_text().splitlines()[1:]:
        item_id, title, year, genres = line.split("\t")
        flags = ["1" if g in genres.split() else "0" for g in ML100K_GENRES]
        items.append("|".join([item_id, f"{title} ({year})" if year else title,
                               f"01-Jan-{year}", "", "http://x"] + flags))
    folder.joinpath("u.item").write_bytes("\n".join(items).encode("latin-1") + b"\n")
    users = [line.split("\t") for line in src.joinpath("ml-100k.user").read_text().splitlines()[1:]]
    folder.joinpath("u.user").write_text("".join(f"{u}|{a}|{g}|{o}|{z}\n" for u, a, g, o, z in users))
    grouplens = load_ml100k(tmp_path)
    for split in ("train", "valid", "test"):
        assert _as_rows(grouplens, split) == _as_rows(ml100k, split)
    assert grouplens.item("1").title == "Toy Story"
    assert grouplens.users["1"].demographics == ml100k.users["1"].demographics


def test_ml100k_small_grouplens_fixture(tmp_path):
    """A hand-sized u.data: one user with 12 ratings gives 2 samples, one with 10 gives none."""
    folder = tmp_path / "movielens-100k"
    folder.mkdir()
    flags = "|".join(["0"] * 18 + ["1"])
    folder.joinpath("u.item").write_bytes("".join(
        f"{i}|Café {i} (1995)|01-Jan-1995||http://x|{flags}\n" for i in range(1, 13)
    ).encode("latin-1"))
    folder.joinpath("u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n")
    rows = [f"1\t{i}\t{1 + i % 5}\t{1000 - i}\n" for i in range(1, 13)]  # newest first in file
    rows += [f"2\t{i}\t5\t{2000 + i}\n" for i in range(1, 11)]
    folder.joinpath("u.data").write_text("".join(rows))
    ds = load_ml100k(tmp_path)
    samples = [s for split in ds.splits.values() for s in split]
    assert [(s.key, s.target) for s in samples] == [("1:10", "2"), ("1:11", "1")]
    assert [h.item_id for h in samples[0].history] == [str(i) for i in range(12, 2, -1)]
    assert ds.item("3").title == "Café 3" and ds.item("3").attributes["genres"] == "Western"
    assert ds.report["users_with_too_few_ratings"] == 1
    folder.joinpath("u.data").write_text("".join(rows) + "1\t77\t4\t5\n")
    with pytest.raises(DataError, match=r"u\.data:23: unknown item id '77'"):
        load_ml100k(tmp_path)
