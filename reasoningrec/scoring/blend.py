"""Post-hoc blend: logistic stacking of a model's P(Yes) with a classic baseline's, fitted on
the validation split and applied to the test split.

    from reasoningrec.scoring.blend import blend_with_baseline, fit_blend, report_p_yes
    valid = report_p_yes(ds, "valid", "reports/ml1m-valid-student-n1500")   # {sample_id: p}
    test = report_p_yes(ds, "test", "reports/ml1m-test-student-n1500")
    out = blend_with_baseline(ds, valid, test, baseline="mf")
    out["auc"]        # {"model": .., "mf": .., "blend": ..} on the test samples given
    out["p_yes"]      # {test sample_id: blended P(like)}
    # or with arrays: fit_blend({"student": p, "mf": q}, labels).predict({...})

Each column enters as logit(p) (clipped to [1e-6, 1 - 1e-6]), so a column that is already a
calibrated probability gets a weight near 1 and the intercept near 0. Only validation labels
are used for fitting; the test labels only for the reported AUCs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from ..auc import roc_auc
from ..data.predictions import read_predictions
from ..data.schema import Dataset

EPS = 1e-6


def _logits(columns: dict[str, np.ndarray], names: tuple[str, ...]) -> np.ndarray:
    missing = [n for n in names if n not in columns]
    if missing:
        raise KeyError(f"blend needs columns {list(names)}; missing {missing}")
    p = np.column_stack([np.asarray(columns[n], dtype=float) for n in names])
    if not np.isfinite(p).all() or (p < 0).any() or (p > 1).any():
        raise ValueError("blend columns must be probabilities in [0, 1]")
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p / (1.0 - p))


@dataclass
class Blend:
    names: tuple[str, ...]
    model: LogisticRegression

    @property
    def weights(self) -> dict[str, float]:
        """Coefficient per column's logit, plus the intercept."""
        return {**{n: float(w) for n, w in zip(self.names, self.model.coef_[0])},
                "intercept": float(self.model.intercept_[0])}

    def predict(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        return self.model.predict_proba(_logits(columns, self.names))[:, 1]


def fit_blend(columns: dict[str, np.ndarray], labels, C: float = 1.0) -> Blend:
    """A logistic regression on the columns' logits (fit on validation labels)."""
    names = tuple(columns)
    labels = np.asarray(labels, dtype=int)
    if len(set(labels.tolist())) < 2:
        raise ValueError("the blend needs liked and disliked validation samples")
    X = _logits(columns, names)
    if len(X) != len(labels):
        raise ValueError(f"{len(X)} rows of scores but {len(labels)} labels")
    return Blend(names, LogisticRegression(C=C, max_iter=1000).fit(X, labels))


def report_p_yes(ds: Dataset, split: str, folder: str | Path) -> dict[str, float]:
    """{sample_id: p_yes} from an eval report folder (evaluate/report.py) of `split`."""
    by_id = {s.sample_id: s for s in ds.splits[split]}
    rows = read_predictions(Path(folder), by_id)
    if not rows:
        raise FileNotFoundError(f"no predictions in {folder} (expected predictions.jsonl)")
    return {sid: float(row["p_yes"]) for sid, row in rows.items()}


def blend_with_baseline(ds: Dataset, valid: dict[str, float], test: dict[str, float],
                        baseline: str = "mf", model_name: str = "model") -> dict:
    """Stack a model's P(Yes) (by sample_id, on valid and test samples) with `baseline`'s,
    fitted on the valid samples given; returns test AUCs, blended test P and the weights."""
    from .baselines import make
    scorer = make(baseline).fit(ds)
    columns, labels = {}, {}
    for split, given in (("valid", valid), ("test", test)):
        by_id = {s.sample_id: s for s in ds.splits[split]}
        unknown = [sid for sid in given if sid not in by_id]
        if unknown:
            raise KeyError(f"{len(unknown)} sample ids are not in {ds.name}:{split}, "
                           f"e.g. {unknown[0]!r}")
        samples = [by_id[sid] for sid in given]
        preds = scorer.predict_many(ds, samples)
        columns[split] = {model_name: np.array(list(given.values()), dtype=float),
                          baseline: np.array([p.p_yes for p in preds])}
        labels[split] = np.array([s.label for s in samples])
    blend = fit_blend(columns["valid"], labels["valid"])
    blended = blend.predict(columns["test"])
    auc = {name: roc_auc(labels["test"], col) for name, col in columns["test"].items()}
    auc["blend"] = roc_auc(labels["test"], blended)
    return {"auc": auc, "weights": blend.weights, "n_valid": len(valid), "n_test": len(test),
            "p_yes": dict(zip(test, blended.tolist()))}
