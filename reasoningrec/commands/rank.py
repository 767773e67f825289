"""`reasoningrec rank`: score N candidate items for one user and print the best.

    reasoningrec rank --dataset ml1m --data-dir ../shared/data --user 1 --candidates 100 \
        --model smollm2 --top 10
"""
from __future__ import annotations

from ..scoring.options import add_prompt_args
from . import positive_int
from .data import add_dataset_args
from .predict import load_target


def register(sub) -> None:
    p = sub.add_parser("rank", help="rank candidate items for one user (shared-prefix reuse)")
    add_dataset_args(p, split=True)
    p.add_argument("--user", required=True, help="user id (sample key) whose history is used")
    p.add_argument("--candidates", type=positive_int, default=100,
                   help="how many candidates: the sample's target + N-1 unseen items (default 100)")
    p.add_argument("--items", default=None,
                   help="comma-separated item ids to rank instead of drawn candidates")
    p.add_argument("--seed", type=int, default=42, help="seed for drawing candidates")
    p.add_argument("--top", type=positive_int, default=10, help="how many of the best to print")
    p.add_argument("--model", default="student", help="LLM model spec (default: student)")
    p.add_argument("--naive", action="store_true",
                   help="score every prompt from scratch (the slow reference path)")
    add_prompt_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> dict:
    from ..scoring.llm import LLMScorer
    from ..scoring.rank import candidate_items, rank_candidates
    ds, sample, scorer = load_target(args)
    if not isinstance(scorer, LLMScorer):
        raise ValueError(f"rank needs an LLM model spec, not {args.model!r}")
    ids = ([i.strip() for i in args.items.split(",") if i.strip()] if args.items
           else candidate_items(ds, sample, args.candidates, args.seed))
    ranked, stats = rank_candidates(scorer, ds, sample, ids, fast=not args.naive)
    top = [{"item": i, "title": ds.item(i).title, "p_yes": round(p, 4),
            "is_target": i == sample.target} for i, p in ranked[:args.top]]
    if not args.json:
        for n, row in enumerate(top, 1):
            mark = "  <- held-out target" if row["is_target"] else ""
            print(f"{n:3d}. {row['p_yes']:.4f}  {row['title']} [{row['item']}]{mark}")
    target_rank = next(n for n, (i, _) in enumerate(ranked, 1) if i == sample.target) \
        if sample.target in ids else None
    out = {"sample_id": sample.sample_id, "model": args.model, "target_rank": target_rank,
           **{k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}}
    return {**out, "top": top} if args.json else out
