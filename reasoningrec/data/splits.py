"""`ml1m-raw`: the paper's ML-1M split rebuilt from GroupLens ratings.dat (with timestamps).

    reasoningrec data splits --data-dir <data-dir> --out my_ctr/
        reads {ratings,movies,users}.dat from <data-dir>/movielens-1m/ (or ml-1m/, or the
        folder itself) and writes
        my_ctr/{train,valid,test}.csv in the paper's ctr layout.

The windowing follows the paper's released ctr/*.csv (ReasoningRec repository,
millenniumbismay/llm-based-seq-rec, ml_1m/create_ml1m_dataset.ipynb reads them; every one of the
6,040 rows per split fits this rule, checked against reasoningrec/ml_1m/ctr): per user, ratings
sorted by timestamp (ties keep file order); the first 15 are kept for the user profile; the last
three ratings are the train, valid and test targets, each with the up to 20 ratings before it
(never reaching into the profile) as history. Liked = rating >= 3, for history and target alike.
A user needs 15 + 3 + 1 ratings (ML-1M has at least 20); fewer are skipped and counted.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .readers import gc_paused
from .movielens import ml1m_items, read_ml1m_ratings, read_ml1m_users
from .schema import SPLITS, DataError, Dataset, HistoryEntry, Interaction, Sample, User

PROFILE_RATINGS = 15
HISTORY_LENGTH = 20
LIKE_THRESHOLD = 3  # rating >= 3 counts as liked in the paper's ML-1M data
CTR_COLUMNS = ["user", "history_item_id", "history_rating", "item_id", "rating", "timestamp"]


def build_ml1m_splits(interactions: list[Interaction], dataset: str = "ml1m-raw"):
    """(splits, report) from timestamped ratings: one train, valid and test sample per user."""
    per_user: dict[str, list[Interaction]] = {}
    for x in interactions:
        if x.timestamp is None:
            raise ValueError("the ML-1M split needs timestamps (ratings.dat, not "
                             "ratings_no_timestamp.dat)")
        per_user.setdefault(x.user_id, []).append(x)
    splits: dict[str, list[Sample]] = {s: [] for s in SPLITS}
    report = {"users_with_too_few_ratings": 0}
    for user, events in per_user.items():
        events.sort(key=lambda x: x.timestamp)  # stable: ties keep file order
        if len(events) < PROFILE_RATINGS + len(SPLITS) + 1:
            report["users_with_too_few_ratings"] += 1
            continue
        for offset, split in enumerate(SPLITS):
            t = len(events) - len(SPLITS) + offset
            window = events[max(PROFILE_RATINGS, t - HISTORY_LENGTH):t]
            history = tuple(HistoryEntry(x.item_id, x.rating >= LIKE_THRESHOLD) for x in window)
            splits[split].append(Sample(dataset, split, user, history, events[t].item_id,
                                        int(events[t].rating >= LIKE_THRESHOLD), key=user))
    return splits, report


@gc_paused
def load_ml1m_raw(root: Path) -> Dataset:
    """The paper's split built from GroupLens ratings.dat (UserID::MovieID::Rating::Timestamp)
    in <root>/movielens-1m/, <root>/ml-1m/ or <root> itself (an unzipped ml-1m folder); items
    as for `ml1m` (the paper's summary CSV when present, else movies.dat)."""
    root, report = Path(root), {}
    folders = [root / "movielens-1m", root / "ml-1m", root]
    grouplens = next((f for f in folders if (f / "ratings.dat").is_file()), folders[0])
    ratings_path = grouplens / "ratings.dat"
    if not ratings_path.is_file():
        hint = (" (ratings_no_timestamp.dat has no time order: use dataset 'ml1m')"
                if (grouplens / "ratings_no_timestamp.dat").is_file() else "")
        raise DataError(ratings_path, "file not found: ml1m-raw needs GroupLens ratings.dat "
                                      "with timestamps" + hint)
    items = ml1m_items(root, report, grouplens)
    interactions = read_ml1m_ratings(ratings_path, items)
    users_dat = grouplens / "users.dat"
    users = read_ml1m_users(users_dat) if users_dat.is_file() else {}
    splits, split_report = build_ml1m_splits(interactions)
    report.update(split_report)
    for x in interactions:
        if x.user_id not in users:  # no users.dat row: keep the user, without demographics
            users[x.user_id] = User(x.user_id)
            report["users_without_demographics"] = report.get("users_without_demographics", 0) + 1
    return Dataset("ml1m-raw", "movie", items, users, splits, interactions, report)


def write_ctr_csv(splits: dict[str, list[Sample]], out_dir: Path) -> list[Path]:
    """Write {train,valid,test}.csv in the paper's ctr layout (rows ordered by user id as text,
    history as "[1, 2]", timestamp column 0, as in the released files)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for split, samples in splits.items():
        path = out_dir / f"{split}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(CTR_COLUMNS)
            for s in sorted(samples, key=lambda s: s.user_id):
                writer.writerow([s.user_id, "[" + ", ".join(h.item_id for h in s.history) + "]",
                                 "[" + ", ".join(str(int(h.liked)) for h in s.history) + "]",
                                 s.target, s.label, 0])
        written.append(path)
    return written
