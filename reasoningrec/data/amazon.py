"""Any Amazon dataset in the ReasoningRec paper's layout (Fashion, Beauty, ...), one loader.

    from reasoningrec.data import load_dataset
    ds = load_dataset("fashion", "../shared/data")   # <data-dir>/reasoningrec/fashion/

Folder layout (all files required unless marked optional):
    ratings.csv                      item,user,rating,timestamp        -> Dataset.interactions
    processed_item_information.json  {item_id: {title, description, brand?, price?, ...}}
    user_profile_summary.json        {user_id: LLM-written profile} (only some users)
    ctr/{train,valid,test}.csv       user,history_item_id,history_rating,item_id,rating
    user_{train,valid,test}.json     optional {user_id: history + target ids}; checked if present
    teacher/, authors_student/       optional: the paper's released outputs (outputs.py)

Labels come from the ctr files. Dirty text is repaired by data/clean.py, faulty ctr rows by
data/amazon_rows.py (repaired or skipped, warned on stderr; errors with strict); every repair
or skip is counted in Dataset.report, which `reasoningrec data stats` prints.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .amazon_rows import RowFaults
from .clean import clean_field, clean_title
from .outputs import attach_outputs
from .readers import (parse_float, parse_id_list, parse_int, read_csv_rows, read_json,
                      read_text, require_file)
from .schema import SPLITS, DataError, Dataset, HistoryEntry, Interaction, Item, Sample, User

ITEM_FILE = "processed_item_information.json"
PROFILE_FILE = "user_profile_summary.json"
RATINGS_FILE = "ratings.csv"
CTR_COLUMNS = ("user", "history_item_id", "history_rating", "item_id", "rating")
# Attributes shown first, in this order; any other scalar field follows; description is last.
LEADING_ATTRIBUTES = ("brand", "price")


def load_amazon(folder: str | Path, name: str, strict: bool = False) -> Dataset:
    """strict: the row faults amazon_rows.py repairs or skips are errors instead."""
    folder = Path(folder)
    report: Counter[str] = Counter(titles_cleaned=0)  # always printed, even when 0
    items = load_items(folder / ITEM_FILE, report)
    rated: dict[tuple[str, str], float] = {}
    interactions = load_ratings(folder / RATINGS_FILE, items, report, rated)
    splits, raw = {}, {}
    for split in SPLITS:
        faults = RowFaults(folder / "ctr" / f"{split}.csv", rated, items, strict)
        splits[split] = load_ctr(faults.path, name, split, items, faults, raw)
        faults.count_into(report)
        faults.warn()
    for split, samples in splits.items():
        check_windows(folder / f"user_{split}.json", samples, raw)
    user_ids = {i.user_id for i in interactions} | {s.user_id for v in splits.values() for s in v}
    profiles = load_profiles(folder / PROFILE_FILE, user_ids, report)
    users = {u: User(id=u, profile=profiles.get(u)) for u in sorted(user_ids, key=_natural)}
    titles_cleaned = report.pop("titles_cleaned")
    ds = Dataset(name=name, domain="product", items=items, users=users, splits=splits,
                 interactions=interactions,
                 report={"titles_cleaned": titles_cleaned, **dict(sorted(report.items()))})
    return attach_outputs(ds, folder)


def load_items(path: Path, report: Counter) -> dict[str, Item]:
    info = read_json(path)
    if not isinstance(info, dict):
        raise DataError(path, f"expected an object {{item_id: {{title, ...}}}}, "
                              f"got {type(info).__name__}", 1)
    items = {}
    for item_id, fields in info.items():
        if not isinstance(fields, dict):
            raise DataError(path, f"item {item_id!r}: expected an object with title/description, "
                                  f"got {type(fields).__name__}", _key_line(path, item_id))
        texts = {}
        for key, value in fields.items():
            if isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            elif value is not None and not isinstance(value, (str, int, float)):
                raise DataError(path, f"item {item_id!r}: field {key!r} must be text, got "
                                      f"{type(value).__name__}", _key_line(path, item_id))
            texts[key] = None if value is None else str(value)
        description, fix = clean_field(texts.pop("description", None))
        _count(report, "description", fix)
        title, fix = clean_title(texts.pop("title", None), description)
        if fix:
            report[f"title_{fix}"] += 1
            report["titles_cleaned"] += fix in ("script", "too_long")
        order = [k for k in LEADING_ATTRIBUTES if k in texts] + \
                [k for k in texts if k not in LEADING_ATTRIBUTES]
        attributes = {}
        for key in order:
            value, fix = clean_field(texts[key])
            _count(report, key, fix)
            if value is not None:
                attributes[key] = value
        if description is not None:
            attributes["description"] = description
        items[str(item_id)] = Item(id=str(item_id), title=title, attributes=attributes)
    if not items:
        raise DataError(path, "no items")
    return items


def load_ratings(path: Path, items: dict[str, Item], report: Counter,
                 rated: dict | None = None) -> list[Interaction]:
    """Every rating; one whose item has no entry in the item file is skipped and counted.
    `rated`, when given, gets every (user, item) -> rating, unknown items included."""
    interactions = []
    for line, row in read_csv_rows(path, ["item", "user", "rating", "timestamp"]):
        item_id, user_id = row["item"].strip(), row["user"].strip()
        if not item_id or not user_id:
            raise DataError(path, "empty item or user id", line)
        rating = parse_float(row["rating"], path, line, "rating")
        timestamp = parse_int(row["timestamp"], path, line, "timestamp")
        if rated is not None:
            rated[(user_id, item_id)] = rating
        if item_id not in items:
            report["ratings_unknown_item"] += 1
            continue
        interactions.append(Interaction(user_id, item_id, rating, timestamp))
    return interactions


def load_ctr(path: Path, name: str, split: str, items: dict[str, Item],
             faults: RowFaults | None = None, raw: dict | None = None) -> list[Sample]:
    """One sample per row; an unknown item id, a bad list or a non-0/1 label is an error,
    except the faults `faults` repairs or skips (amazon_rows.py; raw[(split, user)] gets a
    repaired row's history as written)."""
    samples, first_line = [], {}
    for line, row in read_csv_rows(require_file(path), CTR_COLUMNS):
        user_id = row["user"].strip()
        if not user_id:
            raise DataError(path, "empty user id", line)
        if user_id in first_line:
            raise DataError(path, f"second sample for user {user_id!r} (first on line "
                                  f"{first_line[user_id]}); one sample per user and split", line)
        first_line[user_id] = line
        history = parse_id_list(row["history_item_id"], path, line, "history_item_id")
        liked = parse_id_list(row["history_rating"], path, line, "history_rating")
        target = row["item_id"].strip()
        if faults is not None:
            fixed = faults.check(line, user_id, history, liked, target)
            if fixed is None:
                continue
            if fixed[0] != history and raw is not None:
                raw[(split, user_id)] = history
            history, liked = fixed
        if len(history) != len(liked):
            raise DataError(path, f"{len(history)} history items but {len(liked)} history "
                                  "ratings", line)
        for item_id in history + [target]:
            if item_id not in items:
                raise DataError(path, f"unknown item id {item_id!r} (not in {ITEM_FILE})", line)
        entries = tuple(HistoryEntry(i, bool(_binary(v, path, line, "history_rating")))
                        for i, v in zip(history, liked))
        label = _binary(row["rating"], path, line, "rating")
        samples.append(Sample(name, split, user_id, entries, target, label))
    return samples


def check_windows(path: Path, samples: list[Sample], raw: dict | None = None) -> None:
    """user_<split>.json, when present, must agree with the ctr file (history + target; for a
    repaired row, its history as written may match instead)."""
    if not path.exists():
        return
    windows = read_json(path)
    if not isinstance(windows, dict):
        raise DataError(path, f"expected an object {{user_id: [item ids]}}, "
                              f"got {type(windows).__name__}", 1)
    for s in samples:
        if s.user_id not in windows:
            continue  # the ctr file is the source of truth; the window file is a cross-check
        expected = [h.item_id for h in s.history] + [s.target]
        got = windows[s.user_id]
        written = (raw or {}).get((s.split, s.user_id))
        if written is not None and isinstance(got, list) and [str(i) for i in got] == written + [s.target]:
            continue
        if not isinstance(got, list) or [str(i) for i in got] != expected:
            raise DataError(path, f"user {s.user_id!r}: {got!r} disagrees with the ctr file's "
                                  f"history + target {expected}", _key_line(path, s.user_id))


def load_profiles(path: Path, user_ids: set[str], report: Counter) -> dict[str, str]:
    """{user_id: profile}; texts are stripped (the paper's start with a blank line)."""
    raw = read_json(path)
    if not isinstance(raw, dict):
        raise DataError(path, f"expected an object {{user_id: profile}}, "
                              f"got {type(raw).__name__}", 1)
    profiles = {}
    for user_id, text in raw.items():
        if not isinstance(text, str):
            raise DataError(path, f"user {user_id!r}: profile must be text, got "
                                  f"{type(text).__name__}", _key_line(path, user_id))
        if user_id not in user_ids:
            report["profiles_unknown_user"] += 1
        elif not text.strip():
            report["profiles_empty"] += 1
        else:
            profiles[user_id] = text.strip()
    return profiles


def _binary(value: str, path: Path, line: int, what: str) -> int:
    number = parse_float(value, path, line, what)
    if number not in (0.0, 1.0):
        raise DataError(path, f"{what} must be 0 or 1, got {value.strip()[:20]!r}", line)
    return int(number)


def _count(report: Counter, field: str, fix: str | None) -> None:
    if fix:
        report[f"{field}_{fix}"] += 1


def _key_line(path: Path, key: str) -> int | None:
    """The line where `"key":` first appears in a JSON object file (for error messages)."""
    text = read_text(path)
    pos = text.find(f'"{key}"')
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def _natural(user_id: str):
    return (0, int(user_id), "") if user_id.isdigit() else (1, 0, user_id)
