"""llama.cpp threads on a shared CPU: OpenMP spinning vs passive waiting, 1 vs N threads.

    python benchmarks/threads_under_load.py --data-dir ../shared/data [--threads 1 2] [--out DIR]

Each configuration runs in its own process (libgomp reads OMP_WAIT_POLICY once, at load) on
the shipped student (SmolLM2 Q4_1 + LoRA) and the real prompt of ML-1M test user 1: the
prompt's last --tail tokens evaluated after the rest (what ranking does per candidate, best
of 3) and greedy decoding one token per llama_decode (what generation does). A phase stops
after --budget seconds and reports what it got by then. ACTIVE is GNU OpenMP's default
(spin at barriers); PASSIVE is what reasoningrec sets (models/llamacpp.py). The figures
depend on what else the machine runs: the load averages are written beside them.
Appends rows to <out>/threads_under_load.md.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from speed_common import RESULTS, load, machine, renice, run


def worker(spec: dict) -> dict:
    import llama_cpp
    import numpy as np
    llm = llama_cpp.Llama(model_path=spec["model"], lora_path=spec["lora"], n_ctx=2048,
                          n_batch=512, n_threads=spec["threads"],
                          n_threads_batch=spec["threads"], verbose=False)
    tokens, tail, budget = spec["tokens"], spec["tail"], spec["budget"]
    keep = len(tokens) - tail
    llm.eval(tokens[:keep])
    best, start = float("inf"), time.perf_counter()
    for _ in range(3):
        llm.n_tokens = keep
        t = time.perf_counter()
        llm.eval(tokens[keep:])
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start > budget:
            break
    done, start = 0, time.perf_counter()
    while done < spec["decode"] and time.perf_counter() - start < budget:
        row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        llm.eval([int(np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).argmax())])
        done += 1
    return {"tail_tok_s": tail / best, "decode_tok_s": done / (time.perf_counter() - start),
            "decoded": done}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="thread counts to compare (default: 1 2)")
    ap.add_argument("--tail", type=int, default=96, help="tail tokens evaluated (default 96)")
    ap.add_argument("--decode", type=int, default=32, help="greedy tokens (default 32)")
    ap.add_argument("--budget", type=float, default=60,
                    help="seconds a phase may take before it reports (default 60)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds over all configurations, interleaved (default 3)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for threads_under_load.md (default benchmarks/results/)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    from reasoningrec.data import load_dataset
    from reasoningrec.scoring.registry import load_scorer
    reniced, load_before = renice(), load()
    ds = load_dataset("ml1m", args.data_dir)
    scorer = load_scorer("student", ds)
    text = scorer.render(ds, ds.sample("test", "1")).text
    llm = scorer.backend.llm
    base = {"model": llm.model_path, "lora": llm.lora_path, "tail": args.tail,
            "tokens": scorer.backend.tokenize(text), "decode": args.decode,
            "budget": args.budget}
    rows = []
    configs = [(p, t) for p in ("ACTIVE", "PASSIVE") for t in args.threads]
    for policy, threads in [c for _ in range(args.rounds) for c in configs]:
        env = {**os.environ, "OMP_WAIT_POLICY": policy}
        out = subprocess.run([sys.executable, __file__, "--worker",
                              json.dumps({**base, "threads": threads})], env=env,
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        where = machine(settings=False) + ("" if reniced else " (not reniced)")
        rows.append(f"| {where} | {load()} | {policy} | {threads} | {r['tail_tok_s']:.0f} | "
                    f"{r['decode_tok_s']:.1f} ({r['decoded']} tokens) |")
        print(rows[-1], flush=True)
    path = Path(args.out) / "threads_under_load.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with path.open("a") as f:
        if new:
            f.write(f"Shipped student (SmolLM2-135M Q4_1 + LoRA), the prompt of ML-1M test user "
                    f"1 ({len(base['tokens'])} tokens), llama.cpp through llama-cpp-python. "
                    f"Load before the first row: {load_before}.\n\n"
                    "| date, machine | load after the row | OMP_WAIT_POLICY | threads | "
                    f"{args.tail}-token tail tok/s | greedy decode tok/s |\n"
                    "|---|---|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n")
    print(f"appended to {path}")


if __name__ == "__main__":
    run(main)
