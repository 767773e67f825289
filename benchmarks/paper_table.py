"""The paper's table on the paper's samples: every baseline, the authors' own 7B student runs and
our LLM students in one harness, AUC with a bootstrap 95% interval, runtime and machine per row.

    python benchmarks/paper_table.py --data-dir ../shared/data        # baselines + authors' rows
    python benchmarks/paper_table.py --data-dir ../shared/data --datasets fashion \
        --models student student-evidence                           # adds LLM rows

Fashion rows score the authors' 800 test users (`eval --sample paper`); ML-1M rows the paper's
seeded 1,500 (its test outputs were not released, so `--sample paper` is the seeded draw).
Rows: popularity, mf, sasrec, lr, like-share; `authors:<run>` for every released run of the
paper's Llama-2-7B student (replayed from its outputs: its AUC, not its runtime, which the
authors did not release); then each --models spec. Each row is an ordinary resumable eval report
under --reports-root; its figures, runtime, machine and date are kept in
<out>/paper_table_<dataset>.json, so a later run with other --models adds rows and keeps the
ones there (--rerun scores them again). The markdown table is <out>/paper_table_<dataset>.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import time
from pathlib import Path

from reasoningrec.data import load_dataset
from reasoningrec.data.predictions import read_predictions
from reasoningrec.evaluate import eval_samples, run_eval
from reasoningrec.evaluate.metrics import auc_interval
from reasoningrec.evaluate.report import model_slug
from reasoningrec.evaluate.sampling import describe_sample
from reasoningrec.scoring.registry import BASELINES, load_scorer
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results"
RESAMPLES = 2000


def machine() -> str:
    """CPU architecture and count, and the GPU when torch sees one."""
    text = f"{platform.machine()}, {os.cpu_count()} CPUs"
    try:
        import torch
        if torch.cuda.is_available():
            text += f", {torch.cuda.get_device_name(0)}"
    except ImportError:
        pass
    return text


def kind(spec: str) -> str:
    return "baseline" if spec in BASELINES else "authors" if spec.startswith("authors:") else "llm"


def score_row(ds, spec: str, limit: int | None, reports_root: Path) -> dict:
    """Fit (or load) and evaluate one model on the paper's sample; the table's row."""
    start = time.perf_counter()
    scorer = load_scorer(spec, ds)
    fit_seconds = time.perf_counter() - start
    n_tag = f"n{limit}" if limit else "all"
    folder = reports_root / f"{ds.name}-test-{model_slug(spec)}-{n_tag}-paper"
    result = run_eval(ds, scorer, split="test", model=spec, limit=limit, report_dir=folder,
                      sample="paper")
    samples = eval_samples(ds, "test", limit, sample="paper")
    rows = read_predictions(folder, {s.sample_id: s for s in samples})
    ordered = [rows[s.sample_id] for s in samples]
    low, high = auc_interval([r["label"] for r in ordered], [r["p_yes"] for r in ordered],
                             resamples=RESAMPLES)
    return {"model": spec, "kind": kind(spec), "n": result["n"],
            "sample": result["sample"]["name"], "auc": result["auc"], "auc_ci95": [low, high],
            "accuracy": result["accuracy"], "ece": result["ece"],
            "fit_seconds": round(fit_seconds, 1), "score_seconds": round(result["seconds"], 1),
            "machine": machine(), "date": datetime.date.today().isoformat(),
            "report_dir": str(folder)}


def render(dataset: str, how: str, rows: list[dict]) -> str:
    lines = [f"# {dataset}: the paper's sample, one harness",
             "",
             f"Sample: {how}. AUC = ROC-AUC of P(Yes) (mid-rank ties); 95% interval: "
             f"percentile bootstrap over samples, {RESAMPLES} resamples, seed 0 "
             "(reasoningrec/evaluate/metrics.py auc_interval). `fit s`: loading and fitting "
             "the model (baselines train on the train split and held-out ratings); `score s`: "
             "model time summed over the samples. `authors:` rows replay the released outputs "
             "of the paper's Llama-2-7B + LoRA student (their AUC equals the authors' "
             "results.json; their runtime was not released, so theirs is replay time). Each "
             "row's machine and date are its own. Written by benchmarks/paper_table.py from "
             f"paper_table_{dataset}.json.",
             "",
             "| model | AUC | 95% interval | n | sample | accuracy | fit s | score s | machine "
             "| date |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        low, high = r["auc_ci95"]
        lines.append(f"| {r['model']} | {r['auc']:.4f} | {low:.3f}–{high:.3f} | {r['n']} | "
                     f"{r['sample']} | {r['accuracy']:.3f} | {r['fit_seconds']:.1f} | "
                     f"{r['score_seconds']:.1f} | {r['machine']} | {r['date']} |")
    return "\n".join(lines) + "\n"


def _run_order(run: str) -> tuple:
    """Authors' runs by K, then name (sample64 before sample128)."""
    match = re.search(r"sample(\d+)", run)
    return (int(match.group(1)) if match else 0, run)


def run_dataset(name: str, args) -> Path:
    ds = load_dataset(name, args.data_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / f"paper_table_{name}.json"
    kept = {r["model"]: r for r in json.loads(store.read_text())["rows"]} if store.exists() else {}
    asked = list(args.baselines) + [f"authors:{run}" for run in sorted(ds.authors, key=_run_order)]
    asked += [m for m in args.models if m not in asked]
    specs = asked + [m for m in kept if m not in asked]  # rows of earlier runs stay
    how = describe_sample(ds, "test", "paper")

    def save() -> None:  # after every row: an interrupted run keeps what it did
        rows = [kept[s] for s in specs if s in kept]
        store.write_text(json.dumps({"dataset": name, "sample": how, "rows": rows}, indent=1)
                         + "\n")

    for spec in specs:
        if spec not in kept or (args.rerun and spec in asked):
            limit = args.llm_limit if kind(spec) == "llm" else None
            kept[spec] = score_row(ds, spec, limit, Path(args.reports_root))
            save()
        row = kept[spec]
        print(f"{name} {spec}: AUC {row['auc']:.4f} [{row['auc_ci95'][0]:.3f}, "
              f"{row['auc_ci95'][1]:.3f}] n={row['n']} ({row['sample']})", flush=True)
    save()
    table = out / f"paper_table_{name}.md"
    table.write_text(render(name, how, [kept[s] for s in specs]))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None,
                    help="data root (default: $REASONINGREC_DATA_DIR, then ./data)")
    ap.add_argument("--datasets", nargs="+", default=["fashion", "ml1m"],
                    help="datasets (default: fashion ml1m)")
    ap.add_argument("--models", nargs="*", default=[],
                    help="LLM model specs to add (student, student-evidence, llamacpp:..., ...)")
    ap.add_argument("--baselines", nargs="*", default=list(BASELINES),
                    help=f"baseline rows (default: {' '.join(BASELINES)})")
    ap.add_argument("--llm-limit", type=int, default=None,
                    help="score only the first N of the sample for --models rows (default: all; "
                         "the table says each row's n)")
    ap.add_argument("--rerun", action="store_true",
                    help="score the baseline, authors' and --models rows again instead of "
                         "keeping the figures already in the JSON (their eval reports resume)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for paper_table_<dataset>.md/.json (default: benchmarks/results)")
    ap.add_argument("--reports-root", default="reports/paper_table",
                    help="where the per-row eval reports go (default: reports/paper_table)")
    args = ap.parse_args()
    for name in args.datasets:
        print(f"wrote {run_dataset(name, args)}")


if __name__ == "__main__":
    run(main)
