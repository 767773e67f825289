"""Metrics on the first n samples of existing eval reports, without scoring anything again.

    python benchmarks/first_n_table.py --data-dir ../shared/data --dataset ml1m --first 200 \
        --reports reports/paper_table/ml1m-test-{popularity,mf,sasrec,lr,like-share}-all-paper \
        --out benchmarks/results/ml1m_first200_baselines

Each --reports folder is an ordinary `reasoningrec eval` report (config.json + predictions.jsonl)
of the test split; a smaller run's samples are a prefix of the larger draw, so its first n are
the samples that `eval --limit n` (same --sample) scores. The table gives, per report, AUC with a
percentile-bootstrap 95% interval (2,000 resamples, seed 0), accuracy at P(Yes) > 0.5, ECE, the
mean P(Yes), the model time summed over those n samples and the date the report was written;
--paired A B adds a paired bootstrap of AUC(A) - AUC(B). Writes <out>.md and <out>.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from reasoningrec.data import load_dataset
from reasoningrec.evaluate import eval_samples
from reasoningrec.evaluate.metrics import (accuracy, auc_interval, ece, paired_auc_difference,
                                          roc_auc)
from speed_common import command_line, run  # benchmarks/ is the script's folder

RESAMPLES = 2000


def first_n_rows(ds, folder: Path, first: int) -> tuple[dict, list[dict]]:
    """The report's config and its prediction rows for the first `first` samples of its draw."""
    config_path = folder / "config.json"
    if not config_path.exists():
        raise SystemExit(f"error: {folder} is not an eval report (no config.json)")
    config = json.loads(config_path.read_text())
    if config.get("dataset") != ds.name or config.get("split") != "test":
        raise SystemExit(f"error: {folder} is {config.get('dataset')}:{config.get('split')}, "
                         f"not {ds.name}:test")
    if (config.get("n") or 0) < first:
        raise SystemExit(f"error: {folder} holds {config.get('n')} samples, "
                         f"fewer than --first {first}")
    samples = eval_samples(ds, "test", first, sample=config.get("sample", "seeded"))
    rows = {}
    path = folder / "predictions.jsonl"
    for number, line in enumerate(path.read_text().splitlines() if path.exists() else [], 1):
        try:
            row = json.loads(line)
            rows[row["sample_id"]] = row
        except (ValueError, KeyError, TypeError):
            raise SystemExit(f"error: {path}:{number} is not a prediction row") from None
    for s in samples:   # read only: the report is left as it is
        if s.sample_id in rows and rows[s.sample_id]["label"] != s.label:
            raise SystemExit(f"error: {path}: {s.sample_id} has label "
                             f"{rows[s.sample_id]['label']}, the data says {s.label}")
    missing = [s.sample_id for s in samples if s.sample_id not in rows]
    if missing:
        raise SystemExit(f"error: {folder} lacks {len(missing)} of the first {first} samples "
                         f"(e.g. {missing[0]}); finish that eval first")
    return config, [{**rows[s.sample_id], "sample_id": s.sample_id} for s in samples]


def table_row(config: dict, rows: list[dict], folder: Path) -> dict:
    labels = [r["label"] for r in rows]
    p_yes = [r["p_yes"] for r in rows]
    low, high = auc_interval(labels, p_yes, resamples=RESAMPLES)
    return {"model": config["model"], "prompt": config.get("prompt") or {},
            "n": len(rows), "positives": int(sum(labels)), "sample": config.get("sample"),
            "auc": round(roc_auc(labels, p_yes), 4), "auc_ci95": [round(low, 4), round(high, 4)],
            "accuracy": round(accuracy(labels, p_yes), 4), "ece": round(ece(labels, p_yes), 4),
            "mean_p_yes": round(float(np.mean(p_yes)), 4),
            "score_seconds": round(sum(r.get("seconds") or 0.0 for r in rows), 1),
            "source_report": str(folder), "source_n": config.get("n"),
            "source_created": config.get("created")}


def render(dataset: str, first: int, how: str, rows: list[dict], paired: list[dict],
           command: str, wall: float, notes: list[str] = ()) -> str:
    lines = [f"# {dataset} test: the first {first} samples of existing eval reports",
             "",
             *[f"- {note}" for note in notes],
             f"- sample: the first {first} of {how}",
             f"- command: `{command}` ({wall:.0f} s; nothing scored again)",
             f"- date: {datetime.date.today().isoformat()}, {platform.machine()}, "
             f"{os.cpu_count()} CPUs",
             "- AUC 95% interval: percentile bootstrap over samples, "
             f"{RESAMPLES} resamples, seed 0; accuracy at P(Yes) > 0.5; ECE with 10 bins",
             "- `score s`: model time summed over these samples, from the source report "
             "(baselines: fitting not included)",
             "",
             "| model | AUC | 95% interval | n | Yes share | accuracy | ECE | mean P(Yes) "
             "| score s | source report (its n, written) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        low, high = r["auc_ci95"]
        written = (r["source_created"] or "")[:10]
        lines.append(f"| {r['model']} | {r['auc']:.4f} | {low:.3f}–{high:.3f} "
                     f"| {r['n']} | {r['positives'] / r['n']:.3f} | {r['accuracy']:.3f} "
                     f"| {r['ece']:.3f} | {r['mean_p_yes']:.3f} | {r['score_seconds']} "
                     f"| `{r['source_report']}` ({r['source_n']}, {written}) |")
    for p in paired:
        lines.append("")
        lines.append(f"- paired bootstrap, AUC({p['a']}) - AUC({p['b']}) = {p['difference']:+.4f}, "
                     f"95% interval [{p['ci95'][0]:+.3f}, {p['ci95'][1]:+.3f}], "
                     f"{p['a']} not better in {100 * p['share_a_not_better']:.0f}% of "
                     f"{p['resamples']} draws")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", required=True,
                    help="dataset the reports were run on (ml1m, fashion, ...)")
    ap.add_argument("--first", type=int, required=True,
                    help="how many samples of each draw to keep")
    ap.add_argument("--reports", nargs="+", required=True,
                    help="eval report folders of the test split")
    ap.add_argument("--paired", nargs=2, action="append", default=[], metavar=("A", "B"),
                    help="add a paired bootstrap of AUC(A) - AUC(B) (model names as in the "
                         "reports)")
    ap.add_argument("--out", required=True,
                    help="output path without extension (.md and .json are written)")
    ap.add_argument("--note", action="append", default=[],
                    help="a line for the table's header (repeatable; shown as <note> in the "
                         "command), e.g. where reports of other machines or backends came from")
    args = ap.parse_args()
    if args.first < 2:
        raise SystemExit(f"error: --first must be at least 2, got {args.first}")
    start = time.perf_counter()
    ds = load_dataset(args.dataset, args.data_dir)
    rows, predictions, how, ids = [], {}, None, None
    for folder in map(Path, args.reports):
        config, kept = first_n_rows(ds, folder, args.first)
        if ids is None:
            how = config.get("sampler") or config.get("sample") or "the report's draw"
            ids = [r["sample_id"] for r in kept]
        elif [r["sample_id"] for r in kept] != ids:
            raise SystemExit(f"error: {folder} drew other samples than {args.reports[0]}")
        rows.append(table_row(config, kept, folder))
        predictions[config["model"]] = kept
    paired = []
    for a, b in args.paired:
        if a not in predictions or b not in predictions:
            raise SystemExit(f"error: --paired {a} {b}: both must be models of --reports "
                             f"({', '.join(predictions)})")
        labels = [r["label"] for r in predictions[a]]
        result = paired_auc_difference(labels, [r["p_yes"] for r in predictions[a]],
                                       [r["p_yes"] for r in predictions[b]], resamples=RESAMPLES)
        paired.append({"a": a, "b": b, **result})
    wall = time.perf_counter() - start
    command = "python benchmarks/first_n_table.py " + command_line(sys.argv[1:])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.md").write_text(render(ds.name, args.first, how, rows, paired, command, wall,
                                           args.note))
    Path(f"{out}.json").write_text(json.dumps(
        {"dataset": ds.name, "split": "test", "first": args.first, "sample": how,
         "command": command, "wall_seconds": round(wall, 1),
         "date": datetime.date.today().isoformat(),
         "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
         "notes": args.note, "rows": rows, "paired": paired}, indent=1) + "\n")
    print(Path(f"{out}.md").read_text())


if __name__ == "__main__":
    run(main)
