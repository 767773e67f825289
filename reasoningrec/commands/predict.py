"""`reasoningrec predict`: one user's prediction and explanation.

    reasoningrec predict --dataset ml1m --data-dir ../shared/data --split test --user 1 \
        --model smollm2 --json
"""
from __future__ import annotations

import dataclasses

from ..scoring.options import add_prompt_args, prompt_options
from .data import add_dataset_args


def register(sub) -> None:
    p = sub.add_parser("predict", help="predict and explain for one user")
    add_dataset_args(p, split=True)
    p.add_argument("--user", required=True, help="user id (sample key) to predict for")
    p.add_argument("--model", default="student",
                   help="model spec: student, smollm2, llamacpp:..., hf:..., openai:...#..., "
                        "zero-shot:<spec>, popularity, mf, sasrec, lr (default: student)")
    p.add_argument("--no-explain", action="store_true", help="score only, no rationale")
    add_prompt_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def load_target(args):
    """(dataset, the --user sample of --split, the --model scorer) for predict and rank."""
    from ..data import load_dataset
    from ..scoring.registry import load_scorer
    ds = load_dataset(args.dataset, args.data_dir, strict=args.strict)
    sample = ds.sample(args.split, args.user)
    return ds, sample, load_scorer(args.model, ds, **dataclasses.asdict(prompt_options(args)))


def run(args) -> dict:
    ds, sample, scorer = load_target(args)
    pred = scorer.predict(ds, sample, explain=not args.no_explain)
    return {"sample_id": sample.sample_id, "model": args.model, "p_yes": round(pred.p_yes, 6),
            "prediction": "Yes" if pred.label else "No", "hard_label": pred.hard_label,
            "label": sample.label, "rationale": pred.rationale,
            "prompt_tokens": pred.prompt_tokens, "seconds": round(pred.seconds, 3)}
