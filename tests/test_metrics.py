"""Metrics of reasoningrec.evaluate.metrics against sklearn and against brute-force definitions.

    .venv/bin/python -m pytest tests/test_metrics.py -q
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from reasoningrec.evaluate.metrics import (
    UndefinedMetric, accuracy, calibration_bins, compute_metrics, ece, f1, log_loss, midranks,
    roc_auc, roc_curve)

# Small data with ties across classes (0.4 three times, 0.1 twice) and within a class.
LABELS = [0, 0, 1, 1, 0, 1, 1, 0, 1, 0]
SCORES = [0.1, 0.4, 0.35, 0.8, 0.4, 0.4, 0.9, 0.1, 0.1, 0.65]


def pairwise_auc(labels, scores) -> float:
    """The definition: share of (positive, negative) pairs ranked right, ties counting 1/2."""
    pos = [s for y, s in zip(labels, scores) if y == 1]
    neg = [s for y, s in zip(labels, scores) if y == 0]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_with_ties_matches_sklearn_and_pair_counting():
    ours = roc_auc(LABELS, SCORES)
    assert ours == pytest.approx(skm.roc_auc_score(LABELS, SCORES), abs=1e-12)
    assert ours == pytest.approx(pairwise_auc(LABELS, SCORES), abs=1e-12)


def test_midranks_average_tied_positions():
    assert midranks(np.array([0.3, 0.1, 0.3, 0.2, 0.3])).tolist() == [4.0, 1.0, 4.0, 2.0, 4.0]


@pytest.mark.parametrize("seed", range(5))
def test_auc_on_random_data_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 700)
    # Rounded scores make many ties; the label-dependent shift makes AUC far from 0.5.
    scores = np.round(np.clip(rng.normal(0.45 + 0.1 * labels, 0.2), 0, 1), 2)
    assert roc_auc(labels, scores) == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)


def test_auc_of_hard_labels_only():
    labels = [1, 1, 0, 0, 1, 0, 1]
    hard = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    assert roc_auc(labels, hard) == pytest.approx(skm.roc_auc_score(labels, hard))


def test_roc_curve_matches_sklearn_points_and_area():
    fpr, tpr, thr = roc_curve(LABELS, SCORES)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(LABELS, SCORES, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(thr[1:], sk_thr[1:])
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(LABELS, SCORES))


@pytest.mark.parametrize("labels", [[1, 1, 1], [0, 0]])
def test_one_class_gives_a_clear_error_and_none_in_the_summary(labels):
    scores = [0.2, 0.7, 0.9][:len(labels)]
    with pytest.raises(UndefinedMetric, match="AUC is undefined"):
        roc_auc(labels, scores)
    summary = compute_metrics(labels, scores)
    assert summary["auc"] is None and "undefined" in summary["auc_undefined"]
    assert summary["accuracy"] == pytest.approx(skm.accuracy_score(labels, [p >= .5 for p in scores]))


def test_accuracy_and_f1_at_half_match_sklearn():
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 2, 300)
    scores = rng.random(300)
    scores[:5] = 0.5   # exactly the threshold counts as Yes
    hard = (scores >= 0.5).astype(int)
    assert accuracy(labels, scores) == pytest.approx(skm.accuracy_score(labels, hard))
    assert f1(labels, scores) == pytest.approx(skm.f1_score(labels, hard))
    assert f1([0, 0, 0], [0.1, 0.2, 0.3]) == 0.0   # no positives at all: 0, not a crash


def test_log_loss_matches_sklearn_and_clips_hard_mistakes():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 400)
    scores = rng.uniform(0.01, 0.99, 400)
    assert log_loss(labels, scores) == pytest.approx(skm.log_loss(labels, scores), rel=1e-12)
    # One confident mistake (p=0 for a positive) and one confident hit, clipped at 1e-7.
    expected = (-math.log(1e-7) - math.log(1 - 1e-7)) / 2
    assert log_loss([1, 1], [0.0, 1.0]) == pytest.approx(expected)


def test_ece_matches_sklearn_calibration_curve():
    rng = np.random.default_rng(11)
    scores = rng.random(2000)
    labels = (rng.random(2000) < scores ** 1.5).astype(int)   # miscalibrated on purpose
    prob_true, prob_pred = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
    counts, _ = np.histogram(scores, bins=np.linspace(0, 1, 11))
    counts = counts[counts > 0]
    expected = float(np.sum(counts / len(scores) * np.abs(prob_true - prob_pred)))
    assert ece(labels, scores) == pytest.approx(expected, abs=1e-12)
    assert ece([1, 0], [1.0, 0.0]) == 0.0


def test_calibration_bins_are_right_closed():
    bins = calibration_bins([1, 0, 1, 1], [0.0, 0.1, 0.1000001, 1.0])
    assert [b["count"] for b in bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert bins[0]["like_rate"] == 0.5 and bins[2]["mean_p"] is None


def test_compute_metrics_counts_hard_labels_and_confusion():
    summary = compute_metrics(LABELS, SCORES, hard_labels=[True, False] * 5)
    assert summary["hard_labels"] == 5 and summary["n"] == 10 and summary["positives"] == 5
    c = summary["confusion"]
    cm = skm.confusion_matrix(LABELS, [int(p >= .5) for p in SCORES])
    assert (c["tn"], c["fp"], c["fn"], c["tp"]) == tuple(cm.ravel().tolist())


@pytest.mark.parametrize("labels, scores, message", [
    ([1, 0], [0.5], "2 labels but 1 scores"),
    ([1, 2], [0.5, 0.5], "labels must be 0 or 1"),
    ([1, 0], [float("nan"), 0.5], "NaN"),
    ([], [], "no predictions"),
])
def test_bad_input_is_a_clear_error(labels, scores, message):
    with pytest.raises(ValueError, match=message):
        compute_metrics(labels, scores)


def test_paired_auc_difference_bootstraps_the_gap():
    from reasoningrec.evaluate.metrics import paired_auc_difference, roc_auc
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    good = labels + rng.normal(0, 0.6, 300)         # informative
    noise = rng.normal(0, 1, 300)                   # not
    same = paired_auc_difference(labels, good, good, resamples=200)
    assert same["difference"] == 0 and same["ci95"] == (0.0, 0.0)
    assert same["share_a_not_better"] == 1.0
    gap = paired_auc_difference(labels, good, noise, resamples=500)
    assert gap["difference"] == pytest.approx(roc_auc(labels, good) - roc_auc(labels, noise))
    assert 0 < gap["ci95"][0] < gap["difference"] < gap["ci95"][1]
    assert gap["share_a_not_better"] == 0.0 and gap["resamples"] == 500
    with pytest.raises(ValueError):
        paired_auc_difference(labels, good, noise[:-1])
