"""llama.cpp threads on a shared CPU: how OpenMP threads wait at barriers, 1 vs N threads.

    python benchmarks/threads_under_load.py --data-dir ../shared/data [--threads 1 2] [--out DIR]
    python benchmarks/threads_under_load.py --model student-ml1m-k112-last --tail 30 \
        --waits default PASSIVE spin:10000 --hogs 0 4        # idle, then 4 busy processes beside

Each configuration runs in its own process (libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT
once, at load) on a shipped student and the real prompt of ML-1M test user 1: the prompt's last
--tail tokens evaluated after the rest (what ranking does per candidate, best of 3) and greedy
decoding one token per llama_decode (what generation does). A phase stops after --budget
seconds and reports what it got by then. Waits: `ACTIVE` (spin for ever), `PASSIVE` (sleep at
once), `spin:N` (GOMP_SPINCOUNT=N spins, then sleep; reasoningrec's default is spin:10000,
models/llamacpp.py), `default` (GNU OpenMP's own: ~3 ms of spinning). `--hogs N` runs N busy
processes beside the workers, a shared machine made on purpose; the load averages are written
beside every row. Appends a section to <out>/threads_under_load.md.
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


def wait_env(wait: str) -> dict:
    """The environment a --waits value stands for."""
    if wait in ("ACTIVE", "PASSIVE"):
        return {"OMP_WAIT_POLICY": wait}
    if wait == "default":
        return {}
    count = wait.removeprefix("spin:")
    if wait.startswith("spin:") and count.isdigit():
        return {"GOMP_SPINCOUNT": count}
    raise SystemExit(f"--waits: {wait!r} is not ACTIVE, PASSIVE, spin:N or default")


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
    ap.add_argument("--model", default="student",
                    help="shipped student or llama.cpp spec whose GGUF is timed (default student)")
    ap.add_argument("--waits", nargs="+", default=["ACTIVE", "PASSIVE"],
                    help="barrier waits to compare: ACTIVE, PASSIVE, spin:N, default "
                         "(default: ACTIVE PASSIVE)")
    ap.add_argument("--hogs", type=int, nargs="+", default=[0],
                    help="busy processes run beside the workers, one pass per count (default 0)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for threads_under_load.md (default benchmarks/results/)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    envs = {w: wait_env(w) for w in args.waits}
    if min(args.hogs) < 0:
        raise SystemExit(f"--hogs must be counts >= 0, got {args.hogs}")
    from reasoningrec.data import load_dataset
    from reasoningrec.scoring.registry import load_scorer
    reniced, load_before = renice(), load()
    ds = load_dataset("ml1m", args.data_dir)
    scorer = load_scorer(args.model, ds)
    text = scorer.render(ds, ds.sample("test", "1")).text
    llm = scorer.backend.llm
    base = {"model": llm.model_path, "lora": llm.lora_path, "tail": args.tail,
            "tokens": scorer.backend.tokenize(text), "decode": args.decode,
            "budget": args.budget}
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    rows = []
    for hogs in args.hogs:
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
        try:
            configs = [(w, t) for w in args.waits for t in args.threads]
            for wait, threads in [c for _ in range(args.rounds) for c in configs]:
                out = subprocess.run([sys.executable, __file__, "--worker",
                                      json.dumps({**base, "threads": threads})],
                                     env={**clean, **envs[wait]}, capture_output=True, text=True,
                                     check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                where = machine(settings=False) + ("" if reniced else " (not reniced)")
                rows.append(f"| {where} | {hogs} | {load()} | {wait} | {threads} | "
                            f"{r['tail_tok_s']:.0f} | {r['decode_tok_s']:.1f} ({r['decoded']} tokens) |")
                print(rows[-1], flush=True)
        finally:
            for p in busy:
                p.kill()
    path = Path(args.out) / "threads_under_load.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.write(f"\n## {args.model}, the prompt of ML-1M test user 1 ({len(base['tokens'])} tokens)\n\n"
                f"`{' '.join(['python', 'benchmarks/threads_under_load.py'] + sys.argv[1:])}`; "
                f"llama.cpp through llama-cpp-python; load before the first row: {load_before}. "
                "Busy processes: Python busy loops run beside the workers.\n\n"
                "| date, machine | busy processes | load after the row | wait | threads | "
                f"{args.tail}-token tail tok/s | greedy decode tok/s |\n"
                "|---|---|---|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n")
    print(f"appended to {path}")


if __name__ == "__main__":
    run(main)
