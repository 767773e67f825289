"""Fast ranking vs the naive loop: N candidates for one user, same scores, how much faster, and
how close the fast path runs to llama.cpp's raw prompt speed on the same model.

    python benchmarks/rank_speed.py --data-dir ../shared/data --candidates 100 --model student
    python benchmarks/rank_speed.py --out /tmp/results            # on a read-only checkout

One process, one model: the fast path (the shared user prefix evaluated once, then each
candidate's tail), the naive loop (every prompt from scratch) and a plain llama_cpp.Llama on the
same GGUF + LoRA timing one batch (the raw ceiling). The floor is the tokens the fast path must
evaluate (prefix + every tail) at that raw speed: no exact scoring of these prompts can beat it
on this machine. Appends a row to <out>/rank_speed.md with the load averages before and after.
"""
from __future__ import annotations

from pathlib import Path

from speed_common import load, machine, ranking_args, raw_llama, raw_prompt_speed, renice, run

from reasoningrec.data import load_dataset
from reasoningrec.models.session import common_prefix_length
from reasoningrec.scoring.rank import candidate_items, candidate_prompts, rank_candidates
from reasoningrec.scoring.registry import load_scorer

HEADER = ("| date, machine | load before; after | model | dataset:user | N | prefix + mean tail"
          " tokens | naive s | fast s | speed-up | max abs dP | raw prompt tok/s | fast path"
          " tok/s | floor s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def main() -> None:
    ap = ranking_args(__doc__.splitlines()[0], 100, "rank_speed.md")
    args = ap.parse_args()
    out = Path(args.out) / "rank_speed.md"
    reniced, load_before = renice(), load()

    ds = load_dataset(args.dataset, args.data_dir)
    sample = ds.sample("test", args.user)
    scorer = load_scorer(args.model, ds)
    if not hasattr(scorer, "backend") or not hasattr(scorer.backend, "llm"):
        raise SystemExit(f"rank_speed needs a llama.cpp model, not {args.model!r}")
    ids = candidate_items(ds, sample, args.candidates)
    texts = [r.text for r in candidate_prompts(scorer, ds, sample, ids)]
    tokens = [scorer.backend.tokenize(t) for t in texts]
    prefix = min(common_prefix_length(tokens[0], t) for t in tokens)
    evaluated = prefix + sum(len(t) - prefix for t in tokens)
    mean_tail = (evaluated - prefix) / len(tokens)

    scorer.backend.p_yes(texts[-1], reuse_cache=False)  # untimed: pages the model in
    fast, fast_stats = rank_candidates(scorer, ds, sample, ids, fast=True)
    naive, naive_stats = rank_candidates(scorer, ds, sample, ids, fast=False)
    raw = raw_prompt_speed(raw_llama(scorer.backend), max(tokens, key=len))
    naive_scores = dict(naive)
    max_diff = max(abs(p - naive_scores[i]) for i, p in fast)
    fast_s, naive_s = fast_stats["seconds"], naive_stats["seconds"]
    print(f"naive loop: {naive_s:.1f} s   shared prefix: {fast_s:.1f} s   speed-up "
          f"{naive_s / fast_s:.1f}x   max |dP(Yes)| {max_diff:.2e}   ({len(ids)} candidates; "
          f"{prefix} + {mean_tail:.0f} tokens a candidate; raw llama.cpp {raw:.0f} tokens/s, "
          f"fast path {evaluated / fast_s:.0f}; floor {evaluated / raw:.1f} s)")
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a") as f:
        if new:
            f.write(HEADER)
        f.write(f"| {machine()}{'' if reniced else ' (not reniced)'} | {load_before}; {load()} "
                f"| {args.model} | {args.dataset}:{args.user} | {len(ids)} | {prefix} + "
                f"{mean_tail:.0f} | {naive_s:.1f} | {fast_s:.1f} | {naive_s / fast_s:.1f}x | "
                f"{max_diff:.1e} | {raw:.0f} | {evaluated / fast_s:.0f} | "
                f"{evaluated / raw:.1f} |\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    run(main)
