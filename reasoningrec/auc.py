"""ROC-AUC, the paper's accuracy, below every layer that reports one: scoring (blend.py) and
evaluate/metrics.py, which builds the other metrics on `labels_and_scores`.

    from reasoningrec.auc import roc_auc
    roc_auc([1, 0, 1], [0.9, 0.2, 0.4])      # 1.0

AUC is the Mann-Whitney statistic with mid-ranks, so tied scores count one half: the same
number as sklearn's `roc_auc_score`, without sklearn. One class only → `UndefinedMetric`.
"""
from __future__ import annotations

import numpy as np


class UndefinedMetric(ValueError):
    """A metric that the data cannot define (AUC with one class only)."""


def labels_and_scores(labels, scores) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of 0/1 labels and finite scores of one length (else a ValueError)."""
    y = np.asarray(labels, dtype=float).ravel()
    p = np.asarray(scores, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"{len(y)} labels but {len(p)} scores")
    if len(y) == 0:
        raise ValueError("no predictions to evaluate")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError(f"labels must be 0 or 1, got {sorted(set(y.tolist()) - {0.0, 1.0})[:5]}")
    if not np.isfinite(p).all():
        raise ValueError("scores contain NaN or infinity")
    return y, p


def midranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks where tied values share the mean of the ranks they span."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    # Start index of each run of equal values, and the run lengths.
    starts = np.flatnonzero(np.r_[True, sorted_vals[1:] != sorted_vals[:-1]])
    lengths = np.diff(np.r_[starts, len(values)])
    run_rank = starts + (lengths + 1) / 2.0          # mean of ranks start+1 .. start+length
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(run_rank, lengths)
    return ranks


def roc_auc(labels, scores) -> float:
    """P(score of a random positive > score of a random negative), ties counting 1/2."""
    y, p = labels_and_scores(labels, scores)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        only = "1 (Yes)" if n_neg == 0 else "0 (No)"
        raise UndefinedMetric(f"AUC is undefined: all {len(y)} labels are {only}")
    rank_sum = midranks(p)[y == 1].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


