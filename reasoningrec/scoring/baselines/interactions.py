"""Training data for the classic baselines, with every user's valid/test targets held out.

    from reasoningrec.scoring.baselines.interactions import training_data
    data = training_data(ds)          # cached per dataset object
    data.users, data.items, data.user, data.item, data.liked   # COO arrays
    user, item, own = data.locate(samples, leave_one_out=True)  # indices, own pair in data?
    LikeRates.of(data, 5.0).logits("item", item, samples, own)  # smoothed, own rating out

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
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ...cache import Cache
from ...data.schema import Dataset, Sample

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

    def locate(self, samples: list[Sample], leave_one_out: bool = False):
        """(user, item, own) per sample: its user's and target's index (-1 = not in the data)
        and, with leave_one_out, whether its own (user, target) pair is a training event (a
        train target), which the features of lr and mf then leave out (else all False)."""
        user = np.array([self.user_index.get(s.user_id, -1) for s in samples])
        item = np.array([self.item_index.get(s.target, -1) for s in samples])
        own = np.zeros(len(samples), bool)
        if leave_one_out:
            known = (user >= 0) & (item >= 0)
            own = known & (np.asarray(self.rated[np.maximum(user, 0),
                                                 np.maximum(item, 0)]).ravel() != 0)
        return user, item, own

    @cached_property
    def rated(self) -> sp.csr_matrix:
        """1 at every (user, item) event."""
        return sp.csr_matrix((np.ones(len(self.user)), (self.user, self.item)),
                             shape=(len(self.users), len(self.items)))


@dataclass
class LikeRates:
    """Like and rating counts per user and per item, Beta-smoothed towards the global like-rate
    with strength k: popularity's P(like) and the like-rate features of lr and mf."""

    likes: dict[str, np.ndarray]    # "user"/"item" -> like counts per index
    counts: dict[str, np.ndarray]   # "user"/"item" -> rating counts per index
    global_rate: float
    prior_strength: float

    @classmethod
    def of(cls, data: TrainingData, prior_strength: float) -> "LikeRates":
        index = {"user": (data.user, len(data.users)), "item": (data.item, len(data.items))}
        return cls({a: np.bincount(i, data.liked, n) for a, (i, n) in index.items()},
                   {a: np.bincount(i, minlength=n).astype(float) for a, (i, n) in index.items()},
                   float(data.liked.mean()), prior_strength)

    def _smooth(self, likes, counts):
        k, g = self.prior_strength, self.global_rate
        return (likes + k * g) / (counts + k)

    def rates(self, axis: str) -> np.ndarray:
        """The smoothed like-rate of every user ("user") or item ("item") index."""
        return self._smooth(self.likes[axis], self.counts[axis])

    def logits(self, axis: str, index: np.ndarray, samples: list[Sample], own: np.ndarray):
        """(logit of the smoothed like-rate, rating count) at each index (-1: unseen, so the
        global rate and count 0), each sample's own rating taken out where `own` is set."""
        own_like = np.array([s.label for s in samples], float) * own
        seen = index >= 0
        likes = np.where(seen, self.likes[axis][np.maximum(index, 0)], 0.0) - own_like
        counts = np.where(seen, self.counts[axis][np.maximum(index, 0)], 0.0) - own
        rate = self._smooth(likes, counts)
        return np.log(rate / (1.0 - rate)), counts


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


_TRAINING_DATA = Cache("baselines: training data per dataset", limit=8)


def training_data(ds: Dataset) -> TrainingData:
    """`build_training_data(ds)`, computed once per dataset object."""
    return _TRAINING_DATA.get(ds, lambda: build_training_data(ds))
