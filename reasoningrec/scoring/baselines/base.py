"""What the three baselines share: fit once per dataset, score a batch at a time.

A subclass implements `_fit(ds) -> state` and `_score(state, samples) -> (p_yes array,
list of extra dicts)`. `fit` reuses a state already fitted in this process for the same
dataset object and the same settings, so the eval harness, the app and the benchmarks can
each ask for `popularity` on ml1m without refitting.
"""
from __future__ import annotations

import time
from collections import Counter

import numpy as np

from ...cache import Cache
from ...data.schema import Dataset, Sample
from ..protocol import Prediction, Scorer

_FITTED = Cache("baselines: fitted state per dataset and settings", limit=16)


def forget_fitted() -> None:
    """Drop every fitted state kept in this process (the next `fit` trains afresh)."""
    _FITTED.clear()


class BaselineScorer(Scorer):
    name = "baseline"

    def __init__(self):
        self.state = None
        self.dataset_name: str | None = None
        self.fallbacks: Counter[str] = Counter()  # cold users/items met while scoring

    def settings(self) -> tuple:
        """What, besides the dataset, determines the fitted state (the cache key)."""
        return ()

    def _fit(self, ds: Dataset):
        raise NotImplementedError

    def _score(self, state, samples: list[Sample]) -> tuple[np.ndarray, list[dict]]:
        raise NotImplementedError

    def fit(self, ds: Dataset) -> "BaselineScorer":
        state = _FITTED.get(ds, lambda: self._fit(ds), key=(type(self).__name__, self.settings()))
        self.state, self.dataset_name = state, ds.name
        return self

    def predict(self, ds: Dataset, sample: Sample, *, explain: bool = False) -> Prediction:
        return self.predict_many(ds, [sample])[0]

    def predict_many(self, ds: Dataset, samples: list[Sample]) -> list[Prediction]:
        if self.state is None:
            self.fit(ds)
        elif ds.name != self.dataset_name:
            raise ValueError(f"{self.name} was fitted on {self.dataset_name}, "
                             f"asked to score {ds.name}")
        if not samples:
            return []
        start = time.perf_counter()
        p_yes, extras = self._score(self.state, list(samples))
        each = (time.perf_counter() - start) / len(samples)
        for extra in extras:
            self.fallbacks.update(k for k, v in extra.items() if v is True)
        p_yes = np.clip(np.asarray(p_yes, dtype=float), 0.0, 1.0)
        return [Prediction(p_yes=float(p), seconds=each, extra=extra)
                for p, extra in zip(p_yes, extras)]
