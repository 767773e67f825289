"""Statistics for the ratings, in numpy only (the Space has no scipy): cluster-bootstrap
confidence intervals, Bradley-Terry scores, Krippendorff's alpha, and which votes count.

    from reasoningrec.ratings import stats
    mean, lo, hi = stats.bootstrap_mean(values, clusters=sample_ids, seed=0)
    scores = stats.bradley_terry([("teacher", "student", 1.0), ...])     # {system: log-strength}
    stats.krippendorff_alpha([[1, 1, 1], [2, 2, 3, 2], ...], level="ordinal")  # values per unit
    rows = stats.counted_votes(store.votes())   # blind votes of raters who passed their checks

Intervals resample whole samples (clusters), not single votes: votes on the same sample are
not independent. Alpha follows Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability"
(coincidence matrix, difference functions for nominal, ordinal, interval and ratio data).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

CARELESS_SHARE = 0.5   # a rater failing at least half of their attention checks is excluded


def careless_raters(rows: list[dict]) -> set[str]:
    checks: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        if r["mode"] == "attention" and r.get("attention_failed") is not None:
            checks[r["rater_id"]].append(int(r["attention_failed"]))
    return {rater for rater, fails in checks.items()
            if sum(fails) and sum(fails) / len(fails) >= CARELESS_SHARE}


def counted_votes(rows: list[dict]) -> list[dict]:
    """The votes results are computed from: blind ones, of raters not flagged careless."""
    careless = careless_raters(rows)
    return [r for r in rows if r["mode"] == "blind" and r["rater_id"] not in careless]


def bootstrap_mean(values, clusters=None, n_boot: int = 2000, level: float = 0.95,
                   seed: int = 0) -> tuple[float, float, float]:
    """(mean, low, high): a percentile interval for the mean, resampling clusters (each value
    its own cluster when None). NaN for no data."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return float("nan"), float("nan"), float("nan")
    if clusters is None:
        clusters = np.arange(values.size)
    _, index = np.unique(np.asarray(clusters), return_inverse=True)
    sums = np.bincount(index, weights=values)
    counts = np.bincount(index).astype(float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, sums.size, size=(n_boot, sums.size))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(values.mean()), float(low), float(high)


def bradley_terry(comparisons, prior: float = 0.0, iters: int = 10_000,
                  tol: float = 1e-10) -> dict[str, float]:
    """Log-strengths (mean 0) from (system_i, system_j, score_i) with score_i 1, 0.5 (tie) or 0,
    by Hunter's (2004) MM algorithm for the maximum-likelihood fit; a tie counts half a win
    each way. `prior` > 0 adds that many virtual ties to every pair met, so a system that never
    won (or never lost) still gets a finite score."""
    systems = sorted({s for c in comparisons for s in c[:2]})
    idx = {s: k for k, s in enumerate(systems)}
    k = len(systems)
    wins = np.zeros((k, k))          # wins[i, j]: points i scored against j
    for a, b, score in comparisons:
        wins[idx[a], idx[b]] += score
        wins[idx[b], idx[a]] += 1 - score
    games = wins + wins.T
    if prior:
        met = games > 0
        wins = wins + prior / 2 * met
        games = wins + wins.T
    total_wins = wins.sum(axis=1)
    strength = np.ones(k)
    for _ in range(iters):
        denom = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        new = np.where(denom > 0, total_wins / np.where(denom > 0, denom, 1), strength)
        new = new / np.exp(np.mean(np.log(np.maximum(new, 1e-300))))
        if np.max(np.abs(np.log(np.maximum(new, 1e-300)) - np.log(np.maximum(strength, 1e-300)))) < tol:
            strength = new
            break
        strength = new
    logs = np.log(np.maximum(strength, 1e-300))
    return {s: float(logs[idx[s]] - logs.mean()) for s in systems}


# -- Krippendorff's alpha ------------------------------------------------------------------------
def _delta2(values: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    """Squared differences between the (sorted) values, per level of measurement."""
    a, b = values[:, None], values[None, :]
    if level == "nominal":
        return (a != b).astype(float)
    if level == "interval":
        return (a - b) ** 2
    if level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            out = ((a - b) / (a + b)) ** 2
        return np.nan_to_num(out)
    if level == "ordinal":
        # (sum of n_g for g from c to k, minus half of n_c and n_k)^2, on ranks of the values
        cum = np.concatenate([[0.0], np.cumsum(n_c)])
        i, j = np.meshgrid(np.arange(len(values)), np.arange(len(values)), indexing="ij")
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        between = cum[hi + 1] - cum[lo] - (n_c[i] + n_c[j]) / 2
        return between ** 2
    raise ValueError(f"unknown level of measurement {level!r}: nominal, ordinal, interval or ratio")


def krippendorff_alpha(units, level: str = "ordinal") -> float | None:
    """Alpha from the values each unit received (missing ones left out). Units with a single
    value are not pairable and are dropped; None when fewer than two pairable values remain
    or they show no variation at all."""
    units = [[v for v in u if v is not None] for u in units]
    units = [u for u in units if len(u) >= 2]
    if not units:
        return None
    values = np.array(sorted({v for u in units for v in u}), dtype=float)
    pos = {v: n for n, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))     # the coincidence matrix
    for u in units:
        counts = np.zeros(len(values))
        for v in u:
            counts[pos[float(v)]] += 1
        o += (np.outer(counts, counts) - np.diag(counts)) / (len(u) - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d2 = _delta2(values, n_c, level)
    expected = (np.outer(n_c, n_c) * d2).sum()
    if n < 2 or expected == 0:
        return None
    return float(1 - (n - 1) * (o * d2).sum() / expected)


def alpha_from_matrix(matrix, level: str = "ordinal") -> float | None:
    """Alpha from a coders x units reliability matrix (None or NaN = missing)."""
    columns = zip(*matrix)
    return krippendorff_alpha([[v for v in col if v is not None and v == v] for col in columns],
                              level)
