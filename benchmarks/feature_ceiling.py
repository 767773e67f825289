"""How far the numbers a hybrid student's prompt shows can go on their own: a logistic
regression on the evidence line's figures and the history's like-share, fitted on the valid
split's paper-size draw, scored on the test split's paper sample.

    python benchmarks/feature_ceiling.py --data-dir ../shared/data            # Fashion
    python benchmarks/feature_ceiling.py --dataset fashion --out /tmp/results

Features: the like-share baseline's P(Yes) (the shown history's share of likes), then from
scoring/evidence.py (training ratings only; a missing share is the valid split's mean) the
item's like-share and log rater count, the 20 nearest raters' like-share, mf's P(like). Rows: each feature alone (test AUC), then each
combination refitted (sklearn LogisticRegression, C=1). It reads labels of valid (to fit) and
test (to score) only. Writes <out>/feature_ceiling_<dataset>.md.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from reasoningrec.auc import roc_auc
from reasoningrec.data import load_dataset
from reasoningrec.evaluate.sampling import describe_sample, eval_samples
from reasoningrec.scoring.baselines import make
from reasoningrec.scoring.evidence import EvidenceIndex
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results"
NAMES = ("history like-share", "item like-share", "log(1 + item raters)",
         "neighbours' like-share", "mf P(like)")
SETS = ((0, 4), (0, 1, 3, 4), (0, 1, 2, 3, 4))


def features(ds, index: EvidenceIndex, samples) -> np.ndarray:
    like_share = make("like-share").fit(ds).predict_many(ds, samples)  # the baseline's own
    rows = []
    for share, ev in zip(like_share, index.evidence_many(samples)):
        rows.append([share.p_yes,
                     ev["item_liked_share"] if ev["item_liked_share"] is not None else np.nan,
                     np.log1p(ev["item_raters"]),
                     ev["neighbour_liked_share"] if ev["neighbour_liked_share"] is not None
                     else np.nan, ev["mf_p_like"]])
    return np.array(rows, dtype=float)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="fashion", help="dataset name (default fashion)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for feature_ceiling_<dataset>.md (default benchmarks/results/)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    ds = load_dataset(args.dataset, args.data_dir)
    valid, test = eval_samples(ds, "valid"), eval_samples(ds, "test", sample="paper")
    index = EvidenceIndex.fit(ds)
    xv, xt = features(ds, index, valid), features(ds, index, test)
    means = np.nanmean(xv, axis=0)
    xv, xt = np.where(np.isnan(xv), means, xv), np.where(np.isnan(xt), means, xt)
    yv, yt = [s.label for s in valid], [s.label for s in test]
    lines = [f"| {NAMES[i]} alone | - | {roc_auc(yt, xt[:, i]):.4f} |" for i in range(len(NAMES))]
    for cols in SETS:
        fit = LogisticRegression(C=1.0, max_iter=1000).fit(xv[:, cols], yv)
        lines.append(f"| LR: {' + '.join(NAMES[c] for c in cols)} | "
                     f"{', '.join(f'{w:+.2f}' for w in fit.coef_[0])} | "
                     f"{roc_auc(yt, fit.predict_proba(xt[:, cols])[:, 1]):.4f} |")
    text = (f"# {args.dataset}: what the hybrid prompt's numbers reach on their own\n\n"
            f"Written by benchmarks/feature_ceiling.py on {time.strftime('%Y-%m-%d')} in "
            f"{time.perf_counter() - start:.0f} s (mf fit included). Fit: valid split, "
            f"{describe_sample(ds, 'valid')} (n={len(valid)}); test: "
            f"{describe_sample(ds, 'test', 'paper')} (n={len(test)}).\n\n"
            "| features | LR weights | test AUC |\n|---|---|---|\n" + "\n".join(lines) + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"feature_ceiling_{args.dataset}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    run(main)
