"""`--model like-share`: the share of liked items in the history the prompt shows.

    reasoningrec eval --dataset fashion --model like-share --sample paper
    reasoningrec eval --dataset ml1m --model like-share --history-k 10   # the last 10 only

P(Yes) = liked / shown over the sample's own history (the most recent `history_k` items when
given, as `--history-k` shows them to an LLM; else all of it); an empty history scores 0.5.
It reads nothing but the sample, so it needs no training data: the trivial baseline a reader
must see beside any LLM, whose prompt holds exactly these Liked/Disliked marks. Many samples
tie (ML-1M shows 20 marks, Fashion 4), which the mid-rank AUC counts as one half.
"""
from __future__ import annotations

import numpy as np

from ...data.schema import Dataset, Sample
from .base import BaselineScorer


class LikeShareScorer(BaselineScorer):
    name = "like-share"

    def __init__(self, history_k: int | None = None):
        super().__init__()
        if history_k is not None and history_k < 1:
            raise ValueError(f"history_k must be >= 1, got {history_k}")
        self.history_k = history_k

    def settings(self) -> tuple:
        return (self.history_k,)

    def _fit(self, ds: Dataset) -> int | None:
        return self.history_k  # nothing to learn

    def _score(self, history_k: int | None, samples: list[Sample]):
        p_yes, extras = [], []
        for sample in samples:
            shown = sample.history[-history_k:] if history_k else sample.history
            p_yes.append(sum(h.liked for h in shown) / len(shown) if shown else 0.5)
            extras.append({"shown": len(shown), "empty_history": not shown})
        return np.array(p_yes, dtype=float), extras
