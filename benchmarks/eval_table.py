"""Baselines and LLM models on ML-1M and Fashion in one harness: a markdown AUC table.

    python benchmarks/eval_table.py --data-dir ../shared/data \
        --models popularity mf sasrec zero-shot:smollm2 smollm2 student --llm-limit 200 \
        --history-k 10 --no-description

Classic baselines are scored on the paper's test subsamples (1,500 ML-1M, 800 Fashion, seed
42); LLM models on the first --llm-limit of the same seeded draw (a 135M model reads ~250
prompt tokens/s on 2 CPUs, so a full ML-1M run takes about two hours). Every run is an
ordinary resumable eval report under --reports-root (one folder per dataset, model, prompt
options and size, so a rerun only scores what is missing); the table goes to
benchmarks/results/eval_table.md with the machine and the date.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
from pathlib import Path

from reasoningrec.data import load_dataset
from reasoningrec.evaluate import run_eval
from reasoningrec.scoring.options import PromptOptions, add_prompt_args, prompt_options
from reasoningrec.scoring.registry import BASELINES, load_scorer
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results" / "eval_table.md"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--datasets", nargs="+", default=["ml1m", "fashion"], help="datasets to run")
    ap.add_argument("--models", nargs="+",
                    default=["popularity", "mf", "sasrec", "zero-shot:smollm2", "smollm2"],
                    help="model specs (baselines and LLM specs)")
    ap.add_argument("--llm-limit", type=int, default=100,
                    help="samples for LLM models (baselines use the paper's sizes)")
    ap.add_argument("--out", default=str(RESULTS), help="markdown file to write")
    ap.add_argument("--reports-root", default="reports", help="where the eval reports go")
    add_prompt_args(ap)  # prompt options for the LLM rows (the student keeps its own)
    args = ap.parse_args()
    options = dataclasses.asdict(prompt_options(args))
    defaults = dataclasses.asdict(PromptOptions())
    tag = "-".join(f"{k}{v}" for k, v in sorted(options.items())
                   if k in defaults and v != defaults[k]) or "default"

    rows = []
    for name in args.datasets:
        ds = load_dataset(name, args.data_dir)
        for spec in args.models:
            limit = None if spec in BASELINES else args.llm_limit
            llm = spec not in BASELINES
            folder = Path(args.reports_root) / (f"{name}-test-{spec.replace(':', '_')}"
                                                f"{'-' + tag if llm else ''}-n{limit or 'paper'}")
            scorer = load_scorer(spec, ds, **(options if llm else {}))
            result = run_eval(ds, scorer, split="test", model=spec, limit=limit,
                              report_dir=folder, prompt=options if llm else None)
            auc = "n/a" if result["auc"] is None else f"{result['auc']:.4f}"
            rows.append(f"| {name} | {spec} | {auc} | {result['n']} | "
                        f"{result['accuracy']:.3f} | {result['seconds']:.1f} |")
            print(rows[-1], flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"# Test AUC, one harness ({datetime.date.today()}, {machine})\n\n"
        "Baselines on the paper's subsamples (seed 42); LLM rows on the first "
        f"{args.llm_limit} of the same draw, prompt options `{tag}` (the student: its own, "
        "assets/student/student.json). `seconds` is model time summed over samples.\n\n"
        "| dataset | model | AUC | n | accuracy | seconds |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    run(main)
