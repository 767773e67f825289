"""How far the numbers a hybrid student's prompt shows can go on their own: a logistic
regression on the evidence line's figures and the history's like-share, fitted on the valid
split's paper-size draw, scored on the test split's paper sample.

    python benchmarks/feature_ceiling.py --data-dir ../shared/data            # Fashion
    python benchmarks/feature_ceiling.py --dataset fashion --out /tmp/results
    python benchmarks/feature_ceiling.py --data-dir ../shared/data \
        --student-report reports/paper_table/fashion-test-student-fashion-k896-all-paper

Features: the like-share baseline's P(Yes) (the shown history's share of likes), then from
scoring/evidence.py (training ratings only; a missing share is the valid split's mean) the
item's like-share and log rater count, the 20 nearest raters' like-share, mf's P(like). Rows: each feature alone (test AUC), then each
combination refitted (sklearn LogisticRegression, C=1). It reads labels of valid (to fit) and
test (to score) only. Writes <out>/feature_ceiling_<dataset>.md.
--student-report (an eval report of the paper's test sample, e.g. from benchmarks/paper_table.py)
adds a late-fusion section: the student's P(Yes) (as a logit) with those features, refitted by
5-fold cross-validation on the test sample itself (the mean of the folds' held-out AUCs; the
student's valid P(Yes) is not scored here), so its AUCs are an optimistic bound on what blending
the student with them can reach.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import json

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

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
FUSION_SETS = ((), (0,), (4,), (0, 4), (0, 1, 2, 3, 4))  # feature columns beside the student's


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


def student_logits(folder: Path, samples) -> np.ndarray:
    """The report's P(Yes) for `samples`, as logits; SystemExit when one is missing."""
    path = Path(folder) / "predictions.jsonl"
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass an eval report folder (reasoningrec eval)")
    p_yes = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            p_yes[row["sample_id"]] = row["p_yes"]
    missing = [s.sample_id for s in samples if s.sample_id not in p_yes]
    if missing:
        raise SystemExit(f"{path} has no P(Yes) for {len(missing)} of the {len(samples)} test "
                         f"samples (first: {missing[0]}): evaluate the whole sample")
    p = np.clip([p_yes[s.sample_id] for s in samples], 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fusion_lines(student: np.ndarray, xt: np.ndarray, yt: list[int]) -> list[str]:
    """Late fusion rows: the student with feature sets, 5-fold CV on the test labels."""
    folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(student, yt))
    y = np.asarray(yt)
    lines = []
    for cols in FUSION_SETS:
        x = np.column_stack([student, xt[:, cols]]) if cols else student[:, None]
        aucs = []
        for fit_rows, held in folds:   # each fold's AUC on its own held-out fifth
            model = LogisticRegression(C=1.0, max_iter=1000).fit(x[fit_rows], y[fit_rows])
            aucs.append(roc_auc(y[held], model.predict_proba(x[held])[:, 1]))
        lines.append(f"| student{''.join(f' + {NAMES[c]}' for c in cols)} | "
                     f"{np.mean(aucs):.4f} ({min(aucs):.3f}-{max(aucs):.3f}) |")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="fashion", help="dataset name (default fashion)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for feature_ceiling_<dataset>.md (default benchmarks/results/)")
    ap.add_argument("--student-report", nargs="+", default=[],
                    help="eval report folders of students on the paper's test sample: a "
                         "late-fusion section each (default: none)")
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
    for report in args.student_report:
        fused = fusion_lines(student_logits(Path(report), test), xt, yt)
        text += (f"\n## Late fusion with `{report}`\n\nThe student's P(Yes) as a "
                 "logit, alone and with the features above, logistic regression (C=1) refitted "
                 "by 5-fold stratified cross-validation (seed 0) on the test sample's own labels "
                 f"(n={len(test)}): the mean of the folds' AUCs on their held-out fifth (range "
                 "in brackets), an optimistic bound, as the fits see test labels; each fold's "
                 "AUC of the student alone is its own AUC on that fifth.\n\n"
                 "| inputs | test AUC, 5-fold mean (range) |\n|---|---|\n" + "\n".join(fused)
                 + "\n")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"feature_ceiling_{args.dataset}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    run(main)
