"""Binary CTR metrics on P(Yes): ROC-AUC (the paper's accuracy), accuracy, F1, log loss, ECE.

    from reasoningrec.evaluate.metrics import compute_metrics, roc_auc
    compute_metrics(labels=[1, 0, 1], p_yes=[0.9, 0.2, 0.4])
    paired_auc_difference(labels, p_model_a, p_model_b)   # paired bootstrap of the AUC gap
    auc_interval(labels, p_yes)                           # bootstrap 95% interval of the AUC

Conventions (kept identical everywhere a number is reported):
- AUC is reasoningrec/auc.py's (Mann-Whitney with mid-ranks, ties count one half, sklearn's
  number); one class only → `UndefinedMetric` (compute_metrics reports auc=None and says why).
- Hard labels are `p_yes >= 0.5` (as `Prediction.label`); F1 is for the positive class "Yes"
  and is 0 when there are no true and no predicted positives.
- Log loss clips probabilities to [1e-7, 1 - 1e-7]: a confidently wrong hard label (p = 0 or
  1 parsed from text) costs -ln(1e-7) = 16.1 nats instead of infinity.
- ECE uses 10 equal-width bins of P(Yes), right-closed like sklearn's `calibration_curve`
  and Guo et al. 2017: (0, .1], (.1, .2], ..., (.9, 1], with p = 0 in the first bin.
  ECE = sum over bins of (bin count / n) * |like rate in bin - mean P(Yes) in bin|.
"""
from __future__ import annotations

import math

import numpy as np

from ..auc import UndefinedMetric, labels_and_scores, midranks, roc_auc

__all__ = ["UndefinedMetric", "accuracy", "auc_interval", "calibration_bins", "compute_metrics",
           "confusion", "ece", "f1", "log_loss", "midranks", "paired_auc_difference", "roc_auc",
           "roc_curve", "rounded"]

THRESHOLD = 0.5
LOGLOSS_EPS = 1e-7
ECE_BINS = 10


def paired_auc_difference(labels, a, b, resamples: int = 2000, seed: int = 0) -> dict:
    """AUC(a) - AUC(b) on the same samples with a paired bootstrap (samples drawn with
    replacement, both models scored on each draw; draws with one class skipped): the
    difference, its 95% percentile interval and the share of draws with a <= b."""
    y, sa = labels_and_scores(labels, a)
    _, sb = labels_and_scores(labels, b)
    diffs = np.array(_bootstrap(y, lambda i: roc_auc(y[i], sa[i]) - roc_auc(y[i], sb[i]),
                                resamples, seed))
    return {"difference": roc_auc(y, sa) - roc_auc(y, sb),
            "ci95": (float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))),
            "share_a_not_better": float((diffs <= 0).mean()), "resamples": len(diffs)}


def auc_interval(labels, scores, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the AUC (samples drawn with replacement; draws
    with one class skipped), as paired_auc_difference draws them."""
    y, p = labels_and_scores(labels, scores)
    aucs = _bootstrap(y, lambda i: roc_auc(y[i], p[i]), resamples, seed)
    if not aucs:
        raise UndefinedMetric("AUC interval is undefined: every draw had one class only")
    return float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5))


def _bootstrap(y: np.ndarray, statistic, resamples: int, seed: int) -> list[float]:
    """statistic(indices) on `resamples` draws of the samples with replacement, skipping draws
    with one class only (the AUC is undefined there)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            values.append(statistic(idx))
    return values


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds), one point per distinct score from high to low, starting at (0, 0);
    the trapezoid area under it equals `roc_auc`."""
    y, p = labels_and_scores(labels, scores)
    n_pos, n_neg = y.sum(), len(y) - y.sum()
    if n_pos == 0 or n_neg == 0:
        raise UndefinedMetric("ROC curve is undefined with one class only")
    order = np.argsort(-p, kind="mergesort")
    p_sorted, y_sorted = p[order], y[order]
    last_of_run = np.r_[p_sorted[1:] != p_sorted[:-1], True]  # a threshold after each tie run
    tp = np.cumsum(y_sorted)[last_of_run]
    fp = np.cumsum(1 - y_sorted)[last_of_run]
    fpr = np.r_[0.0, fp / n_neg]
    tpr = np.r_[0.0, tp / n_pos]
    thresholds = np.r_[np.inf, p_sorted[last_of_run]]
    return fpr, tpr, thresholds


def confusion(labels, scores, threshold: float = THRESHOLD) -> dict[str, int]:
    y, p = labels_and_scores(labels, scores)
    pred = p >= threshold
    truth = y == 1
    return {"tp": int((pred & truth).sum()), "fp": int((pred & ~truth).sum()),
            "tn": int((~pred & ~truth).sum()), "fn": int((~pred & truth).sum())}


def accuracy(labels, scores, threshold: float = THRESHOLD) -> float:
    c = confusion(labels, scores, threshold)
    return (c["tp"] + c["tn"]) / sum(c.values())


def f1(labels, scores, threshold: float = THRESHOLD) -> float:
    c = confusion(labels, scores, threshold)
    denom = 2 * c["tp"] + c["fp"] + c["fn"]
    return 2 * c["tp"] / denom if denom else 0.0


def log_loss(labels, scores, eps: float = LOGLOSS_EPS) -> float:
    y, p = labels_and_scores(labels, scores)
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def calibration_bins(labels, scores, n_bins: int = ECE_BINS) -> list[dict]:
    """One dict a bin: lo, hi, count, mean_p (None when empty), like_rate (None when empty)."""
    y, p = labels_and_scores(labels, scores)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_of = np.searchsorted(edges[1:-1], p, side="left")   # right-closed bins
    out = []
    for b in range(n_bins):
        mask = bin_of == b
        count = int(mask.sum())
        out.append({"lo": float(edges[b]), "hi": float(edges[b + 1]), "count": count,
                    "mean_p": float(p[mask].mean()) if count else None,
                    "like_rate": float(y[mask].mean()) if count else None})
    return out


def ece(labels, scores, n_bins: int = ECE_BINS) -> float:
    bins = calibration_bins(labels, scores, n_bins)
    n = sum(b["count"] for b in bins)
    return float(sum(b["count"] / n * abs(b["like_rate"] - b["mean_p"])
                     for b in bins if b["count"]))


def compute_metrics(labels, p_yes, hard_labels=None) -> dict:
    """Every reported number for one run. `hard_labels`: per-row flags, True where the model
    gave a text answer (p = 0/1) rather than a probability; they are counted, not dropped."""
    y, p = labels_and_scores(labels, p_yes)
    out: dict = {"n": len(y), "positives": int(y.sum()), "auc": None}
    try:
        out["auc"] = roc_auc(y, p)
    except UndefinedMetric as exc:
        out["auc_undefined"] = str(exc)
    out.update(accuracy=accuracy(y, p), f1=f1(y, p), logloss=log_loss(y, p), ece=ece(y, p))
    out["confusion"] = confusion(y, p)
    out["hard_labels"] = int(sum(bool(h) for h in hard_labels)) if hard_labels is not None else 0
    out["predicted_yes"] = out["confusion"]["tp"] + out["confusion"]["fp"]
    return out


def rounded(metrics: dict, digits: int = 6) -> dict:
    """The same dict with floats rounded, for printing."""
    return {k: round(v, digits) if isinstance(v, float) and math.isfinite(v) else v
            for k, v in metrics.items()}
