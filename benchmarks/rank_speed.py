"""Fast ranking vs the naive loop: N candidates for one user, same scores, how much faster.

    python benchmarks/rank_speed.py --data-dir ../shared/data --candidates 100 --model smollm2

Prints both wall times, the speed-up and the largest P(Yes) difference, and appends a row
to benchmarks/results/rank_speed.md. Both paths run in this one process on the same model.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
from pathlib import Path

from reasoningrec.config import cpu_threads
from reasoningrec.data import load_dataset
from reasoningrec.rank import candidate_items, rank_candidates
from reasoningrec.scorers import load_scorer

RESULTS = Path(__file__).resolve().parent / "results" / "rank_speed.md"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="ml1m", help="dataset name (default ml1m)")
    ap.add_argument("--user", default="1", help="user id of the test sample (default 1)")
    ap.add_argument("--candidates", type=int, default=100, help="how many candidates (default 100)")
    ap.add_argument("--model", default="smollm2", help="LLM model spec (default smollm2)")
    args = ap.parse_args()

    ds = load_dataset(args.dataset, args.data_dir)
    sample = ds.sample("test", args.user)
    scorer = load_scorer(args.model, ds)
    ids = candidate_items(ds, sample, args.candidates)
    fast, fast_stats = rank_candidates(scorer, ds, sample, ids, fast=True)
    naive, naive_stats = rank_candidates(scorer, ds, sample, ids, fast=False)
    naive_scores = dict(naive)
    max_diff = max(abs(p - naive_scores[i]) for i, p in fast)
    speedup = naive_stats["seconds"] / fast_stats["seconds"]
    print(f"naive loop: {naive_stats['seconds']:.1f} s   shared prefix: "
          f"{fast_stats['seconds']:.1f} s   speed-up {speedup:.1f}x   "
          f"max |dP(Yes)| {max_diff:.2e}   ({len(ids)} candidates, {cpu_threads()} threads)")
    RESULTS.parent.mkdir(exist_ok=True)
    new = not RESULTS.exists()
    with RESULTS.open("a") as f:
        if new:
            f.write("| date | machine | model | dataset:user | N | naive s | fast s | speed-up |"
                    " max abs dP |\n|---|---|---|---|---|---|---|---|---|\n")
        f.write(f"| {datetime.date.today()} | {platform.machine()}, {os.cpu_count()} CPUs, "
                f"{cpu_threads()} threads | {args.model} | {args.dataset}:{args.user} | "
                f"{len(ids)} | {naive_stats['seconds']:.1f} | {fast_stats['seconds']:.1f} | "
                f"{speedup:.1f}x | {max_diff:.1e} |\n")


if __name__ == "__main__":
    main()
