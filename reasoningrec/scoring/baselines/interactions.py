"""Training data for the classic baselines, with every user's valid/test targets held out.

    from reasoningrec.scoring.baselines.interactions import training_data
    data = training_data(ds)          # cached per dataset object
    data.users, data.items, data.user, data.item, data.liked   # COO arrays

What goes in: `ds.interactions` (every raw rating; for ML-1M all 1,000,209, the targets
included) turned into like/dislike with `like_threshold(ds)`, plus the train split's histories
and targets (they are labelled already). What stays out: every (user, item) pair that is some
valid or test sample's target, wherever it occurs. That removes the answers of the evaluation
splits; it also removes a repurchased item's earlier rating (18 Fashion users), which is the
conservative choice. ML-1M ratings carry no timestamps, so ratings a user made after the test
target (in the paper's time order) stay in, as in the paper's MF baseline.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ...data.schema import Dataset

# liked iff rating >= threshold: the paper's ML-1M files use >= 3, its Amazon files and
# TALLRec's ML-100K protocol > 3 (= >= 4 on integer stars).
DEFAULT_THRESHOLDS = {"ml1m": 3.0, "ml1m-raw": 3.0, "ml100k": 4.0}
AMAZON_THRESHOLD = 4.0


def held_out_pairs(ds: Dataset) -> set[tuple[str, str]]:
    """(user, item) of every valid and test target: never used for fitting."""
    return {(s.user_id, s.target) for split in ("valid", "test")
            for s in ds.splits.get(split, [])}


def like_threshold(ds: Dataset) -> float:
    """The rating from which an interaction counts as liked, read off the dataset itself.

    The train split's labelled histories and targets are joined with the raw ratings; the
    threshold that reproduces those labels best wins, ties going to the paper's value for the
    dataset (ml1m: >= 3, Amazon and ml100k: > 3). With nothing to join, the paper's value."""
    default = DEFAULT_THRESHOLDS.get(ds.name, 3.0 if ds.domain == "movie" else AMAZON_THRESHOLD)
    ratings = {(x.user_id, x.item_id): x.rating for x in ds.interactions}
    votes: Counter[tuple[float, bool]] = Counter()
    for s in ds.splits.get("train", []):
        for item, liked in [(h.item_id, h.liked) for h in s.history] + [(s.target, s.label == 1)]:
            rating = ratings.get((s.user_id, item))
            if rating is not None:
                votes[(rating, liked)] += 1
    if not votes:
        return default
    values = sorted({r for r, _ in votes})

    def agreement(t: float) -> int:
        return sum(n for (r, liked), n in votes.items() if (r >= t) == liked)
    return max(values + [default], key=lambda t: (agreement(t), t == default))


@dataclass
class TrainingData:
    """Like/dislike events as COO arrays over dense user and item indices."""

    users: list[str]
    items: list[str]
    user: np.ndarray    # int32 row index per event
    item: np.ndarray    # int32 column index per event
    liked: np.ndarray   # float32 1.0 / 0.0 per event
    threshold: float

    def __post_init__(self):
        self.user_index = {u: i for i, u in enumerate(self.users)}
        self.item_index = {t: i for i, t in enumerate(self.items)}

    def pairs(self) -> set[tuple[str, str]]:
        return {(self.users[u], self.items[i]) for u, i in zip(self.user, self.item)}

    def like_rates(self, axis: str, prior: float, strength: float) -> np.ndarray:
        """Beta-smoothed like-rate per user ("user") or item ("item") index."""
        idx, size = (self.user, len(self.users)) if axis == "user" else (self.item, len(self.items))
        likes = np.bincount(idx, weights=self.liked, minlength=size)
        counts = np.bincount(idx, minlength=size)
        return (likes + strength * prior) / (counts + strength)


def build_training_data(ds: Dataset, exclude: set[tuple[str, str]] | None = None) -> TrainingData:
    """Events outside `exclude` (default: the valid/test targets); a pair rated twice keeps
    its last label (train-split labels come last, so they win over raw ratings)."""
    exclude = held_out_pairs(ds) if exclude is None else exclude
    threshold = like_threshold(ds)
    events: dict[tuple[str, str], float] = {}
    for x in ds.interactions:
        events[(x.user_id, x.item_id)] = float(x.rating >= threshold)
    for s in ds.splits.get("train", []):
        for h in s.history:
            events[(s.user_id, h.item_id)] = float(h.liked)
        events[(s.user_id, s.target)] = float(s.label)
    for pair in exclude:
        events.pop(pair, None)
    if not events:
        raise ValueError(f"{ds.name}: no training interactions left after holding out "
                         "the valid/test targets")
    users = sorted({u for u, _ in events})
    items = sorted({i for _, i in events})
    u_index = {u: n for n, u in enumerate(users)}
    i_index = {t: n for n, t in enumerate(items)}
    user = np.fromiter((u_index[u] for u, _ in events), np.int32, len(events))
    item = np.fromiter((i_index[i] for _, i in events), np.int32, len(events))
    liked = np.fromiter(events.values(), np.float32, len(events))
    return TrainingData(users, items, user, item, liked, threshold)


_CACHE: dict[int, tuple[Dataset, TrainingData]] = {}


def per_dataset(cache: dict, ds: Dataset, build):
    """`build(ds)` once per dataset object: `cache` maps id(ds) to (ds, value), at most 8."""
    hit = cache.get(id(ds))
    if hit is None or hit[0] is not ds:  # `is` guards against a reused id()
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        hit = cache[id(ds)] = (ds, build(ds))
    return hit[1]


def training_data(ds: Dataset) -> TrainingData:
    """`build_training_data(ds)`, computed once per dataset object."""
    return per_dataset(_CACHE, ds, build_training_data)
