"""The generic Amazon loader on real Fashion data and on a hand-written Beauty folder.

    .venv/bin/python -m pytest tests/test_data_amazon.py -q
"""
from __future__ import annotations

import csv
import json
import re

import pytest

from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.amazon import load_amazon
from reasoningrec.data.clean import (MAX_TITLE_CHARS, clean_title, looks_like_script,
                                     title_from_description, truncate_words)

SPLITS = ("train", "valid", "test")
SCRIPT_TITLE = ("var aPageStart = (new Date()).getTime();\nfunction(d){var e=d.ue;};\n"
                "window.ue_ihb = 1;\n\nAmazon.com: Rosewater Facial Mist 4oz: Beauty\n\n"
                "// ====\nfunction amz_js_PopWin(url){ var w = window.open(url); }\n" * 3)
BEAUTY_ITEMS = {
    "b1": {"title": "Rosewater Facial Mist", "description": "\n\nA light spray toner.",
           "brand": "Heritage Store", "price": "$7.99"},
    "b2": {"title": "Argan Oil Hair Serum 100ml", "description": "\n\nSmooths frizz.",
           "brand": "Moroccan Gold"},
    "b3": {"title": "Mineral Sunscreen SPF 50", "description": ""},
    "b4": {"title": "Vitamin C Serum", "description": "\n\nBrightens skin, sticky feel.",
           "price": "$19.50", "brand": "Glow Lab"},
    "b5": {"title": SCRIPT_TITLE, "description": "\n\nProduct: Rose Mist\nFresh scent."},
    "b6": {"title": "Clay Mask Jar", "description": "\n\nDeep cleansing mask."},
}
# user -> (history ids, history likes, target, label) for every split
BEAUTY_CTR = {
    "u1": (["b1", "b2"], [1, 0], "b3", 1),
    "u2": (["b4", "b5"], [1, 1], "b6", 0),
    "u3": (["b2", "b6"], [0, 1], "b1", 1),
}


def write_beauty(root, name="beauty"):
    """<root>/reasoningrec/<name>/ in the paper's Amazon layout; returns the folder."""
    folder = root / "reasoningrec" / name
    (folder / "ctr").mkdir(parents=True)
    (folder / "processed_item_information.json").write_text(json.dumps(BEAUTY_ITEMS, indent=1))
    (folder / "user_profile_summary.json").write_text(
        json.dumps({"u1": "\n\nLikes light skincare.", "u3": "  Prefers natural oils. "}))
    with open(folder / "ratings.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["item", "user", "rating", "timestamp"])
        for n, (user, (hist, likes, target, label)) in enumerate(BEAUTY_CTR.items()):
            for k, (item, like) in enumerate(zip(hist + [target], likes + [label])):
                out.writerow([item, user, 5.0 if like else 2.0, 1500000000 + 100 * n + k])
    for split in SPLITS:
        with open(folder / "ctr" / f"{split}.csv", "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["user", "history_item_id", "history_rating", "item_id", "rating",
                          "timestamp"])
            for user, (hist, likes, target, label) in BEAUTY_CTR.items():
                out.writerow([user, "[" + ", ".join(f"'{h}'" for h in hist) + "]",
                              str(likes), target, label, 0])
    (folder / "user_train.json").write_text(
        json.dumps({u: h + [t] for u, (h, _, t, _) in BEAUTY_CTR.items()}))
    return folder


def ctr_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- real Fashion data ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fashion_raw_items(data_dir):
    path = data_dir / "reasoningrec" / "fashion" / "processed_item_information.json"
    return json.loads(path.read_text())


def test_fashion_counts_and_labels_match_the_ctr_files(fashion, data_dir):
    assert fashion.domain == "product"
    assert len(fashion.items) == 6089
    assert len(fashion.users) == 1273
    for split in SPLITS:
        rows = ctr_rows(data_dir / "reasoningrec" / "fashion" / "ctr" / f"{split}.csv")
        samples = fashion.splits[split]
        assert len(samples) == len(rows) == 1273
        for row, sample in zip(rows, samples):
            assert sample.user_id == row["user"]
            assert sample.target == row["item_id"]
            assert sample.label == int(row["rating"])
            assert [h.item_id for h in sample.history] == [str(i) for i in
                                                             json.loads(row["history_item_id"])]
            assert [int(h.liked) for h in sample.history] == json.loads(row["history_rating"])
    assert fashion.sample("test", "0").sample_id == "fashion:test:0"


def test_fashion_interactions_and_profiles(fashion, data_dir):
    folder = data_dir / "reasoningrec" / "fashion"
    rows = ctr_rows(folder / "ratings.csv")
    assert len(fashion.interactions) == len(rows) == 11136
    first = fashion.interactions[0]
    assert (first.user_id, first.item_id, first.rating, first.timestamp) == (
        rows[0]["user"], rows[0]["item"], float(rows[0]["rating"]), int(rows[0]["timestamp"]))
    raw = json.loads((folder / "user_profile_summary.json").read_text())
    with_profile = [u for u in fashion.users.values() if u.profile]
    assert len(with_profile) == len(raw) == 848
    for user in with_profile:
        assert user.profile == raw[user.id].strip() and not user.profile[0].isspace()


def test_fashion_attributes_in_display_order(fashion, fashion_raw_items):
    full = next(k for k, v in fashion_raw_items.items()
                if {"brand", "price"} <= v.keys() and v["description"].strip())
    item = fashion.item(full)
    assert list(item.attributes) == ["brand", "price", "description"]
    assert item.attributes["price"] == fashion_raw_items[full]["price"]
    assert item.description == " ".join(fashion_raw_items[full]["description"].split())
    no_description = next(k for k, v in fashion_raw_items.items() if not v["description"].strip())
    assert "description" not in fashion.item(no_description).attributes


def test_fashion_dirty_titles_are_cleaned_and_counted(fashion, fashion_raw_items):
    long_titles = {k for k, v in fashion_raw_items.items() if len(v.get("title", "")) > 300}
    assert len(long_titles) == 14
    assert fashion.report["titles_cleaned"] == len(long_titles)
    assert fashion.report["title_script"] == 11
    assert max(len(i.title) for i in fashion.items.values()) <= MAX_TITLE_CHARS
    for item_id in long_titles:
        raw, title = fashion_raw_items[item_id]["title"], fashion.item(item_id).title
        assert not looks_like_script(title)
        if "Amazon.com: " in raw:  # the scraped page's own title line
            assert title == raw.split("Amazon.com: ")[1].split(":")[0].strip()
        else:
            assert title.endswith("...") and raw.startswith(title[:-3])
    untouched = next(k for k, v in fashion_raw_items.items() if 0 < len(v.get("title", "")) < 100)
    assert fashion.item(untouched).title == " ".join(fashion_raw_items[untouched]["title"].split())


def test_fashion_item_without_title_gets_a_name_from_its_description(fashion, fashion_raw_items):
    missing = [k for k, v in fashion_raw_items.items() if "title" not in v]
    assert fashion.report.get("title_missing", 0) == len(missing) == 1
    title = fashion.item(missing[0]).title
    assert title and title.lower() in fashion_raw_items[missing[0]]["description"].lower()


# --- text cleaning ----------------------------------------------------------------------------

def test_truncate_words_cuts_at_a_word_boundary():
    text = "Lace anklet chain with flower design " * 20
    cut = truncate_words(text, 100)
    assert len(cut) <= 100 and cut.endswith("...")
    stem = cut[:-3]
    assert text.startswith(stem) and text[len(stem)] == " "
    assert truncate_words("short title", 100) == "short title"


def test_clean_title_cases():
    assert clean_title("  Clay   Mask\nJar ") == ("Clay Mask Jar", None)
    assert clean_title("Tom &amp; Jerry Socks")[0] == "Tom & Jerry Socks"
    assert clean_title(SCRIPT_TITLE) == ("Rosewater Facial Mist 4oz", "script")
    no_page = "var a = 1; function(x){ return x; }" * 10
    assert clean_title(no_page, "\n\nThe product is a pair of wool socks, warm.") == (
        "Wool socks", "script")
    assert clean_title(no_page) == ("untitled item", "script")
    assert clean_title(None, "Product: Zumba Shoes\nComfy.") == ("Zumba Shoes", "missing")
    assert title_from_description("") is None


# --- a second dataset in the same layout: no code specific to it -------------------------------

def test_beauty_loads_through_the_generic_loader(tmp_path):
    write_beauty(tmp_path)
    ds = load_dataset("beauty", tmp_path, cache=False)
    assert ds.name == "beauty" and ds.domain == "product"
    assert set(ds.items) == set(BEAUTY_ITEMS)
    assert sorted(ds.users) == sorted(BEAUTY_CTR)
    for split in SPLITS:
        got = {s.user_id: ([h.item_id for h in s.history], [int(h.liked) for h in s.history],
                           s.target, s.label) for s in ds.splits[split]}
        assert got == BEAUTY_CTR
    assert ds.users["u1"].profile == "Likes light skincare."
    assert ds.users["u3"].profile == "Prefers natural oils."
    assert ds.users["u2"].profile is None
    assert list(ds.item("b4").attributes) == ["brand", "price", "description"]
    assert ds.item("b5").title == "Rosewater Facial Mist 4oz"
    assert ds.report["titles_cleaned"] == 1 and ds.report["description_empty"] == 1
    assert len(ds.interactions) == 9 and all(i.timestamp for i in ds.interactions)
    assert ds.stats()["like_rate"]["test"] == round(2 / 3, 4)


def _rewrite(path, old, new):
    text = path.read_text()
    assert old in text, f"test setup: {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("file, old, new, line, problem", [
    ("ctr/test.csv", ",item_id,", ",target,", 1, "missing column(s) ['item_id']"),
    ("ctr/valid.csv", "\"['b4', 'b5']\"", "b4", 3, "expected a list"),
    ("ctr/train.csv", "\"[1, 1]\"", "\"[1]\"", 3, "2 history items but 1 history ratings"),
    ("ctr/test.csv", "b6,0,0", "b9,0,0", 3, "unknown item id 'b9'"),
    ("ctr/test.csv", "b6,0,0", "b6,3,0", 3, "rating must be 0 or 1"),
    ("ctr/test.csv", "u3,", "u1,", 4, "second sample for user 'u1' (first on line 2)"),
    ("ratings.csv", "5.0", "five", 2, "rating must be a number, got 'five'"),
    ("processed_item_information.json", '"b2": {', '"b2" {', 8, "invalid JSON: Expecting ':'"),
    ("user_profile_summary.json", '"u3": "', '"u3": 3, "x": "', 1, "profile must be text"),
    ("user_train.json", '"b3"', '"b4"', 1, "disagrees with the ctr file"),
])
def test_bad_input_names_file_line_and_problem(tmp_path, file, old, new, line, problem):
    folder = write_beauty(tmp_path)
    _rewrite(folder / file, old, new)
    with pytest.raises(DataError) as err:      # strict: rows amazon_rows.py would skip, too
        load_amazon(folder, "beauty", strict=True)
    assert err.value.path == str(folder / file)
    assert err.value.line == line
    assert problem in err.value.problem


def test_missing_file_is_an_error(tmp_path):
    folder = write_beauty(tmp_path)
    (folder / "ratings.csv").unlink()
    with pytest.raises(DataError, match="ratings.csv: file not found"):
        load_amazon(folder, "beauty")
    other = write_beauty(tmp_path, "beauty2")
    (other / "ctr" / "valid.csv").unlink()
    missing = f"{other / 'ctr' / 'valid.csv'}: file not found"
    with pytest.raises(DataError, match=re.escape(missing)):
        load_dataset("beauty2", tmp_path, cache=False)


def test_skipped_rows_are_counted_not_silent(tmp_path):
    folder = write_beauty(tmp_path)
    with open(folder / "ratings.csv", "a") as f:
        f.write("b99,u1,4.0,1600000000\n")
    _rewrite(folder / "user_profile_summary.json", '"u1"', '"ghost": "x", "u1"')
    ds = load_amazon(folder, "beauty")
    assert ds.report["ratings_unknown_item"] == 1
    assert ds.report["profiles_unknown_user"] == 1
    assert len(ds.interactions) == 9 and "ghost" not in ds.users
