"""Evaluation: the paper's samples, metrics on P(Yes), resumable per-sample reports, plots.

    reasoningrec eval --dataset ml1m --data-dir ../shared/data --split test --model popularity --json

    sampling.py  which samples (the paper's seed-42 subsamples: 1,500 / 800 / 600)
    metrics.py   AUC (mid-rank), accuracy, F1, log loss, ECE
    report.py    report folder: config.json, predictions.jsonl (resume), metrics.json
    plots.py     roc.png, calibration.png
    runner.py    run_eval(ds, scorer, ...) ties them together
    explanations.py, stance.py   --explanations: consistency (checker), grounding, length,
                 similarity to the teacher
"""
from .metrics import UndefinedMetric, compute_metrics, roc_auc
from .runner import run_eval
from .sampling import PAPER_SIZES, SEED, eval_samples

__all__ = ["PAPER_SIZES", "SEED", "UndefinedMetric", "compute_metrics", "eval_samples",
           "roc_auc", "run_eval"]
