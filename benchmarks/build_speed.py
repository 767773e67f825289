"""llama.cpp builds, settings and backends side by side: rank N candidates for one user with
each variant, alternating in one run, and compare with the first (the current build).

    python benchmarks/build_speed.py --data-dir ../shared/data \
        --variant avx2= --variant avx512=/work/venv-avx512/lib/python3.11/site-packages/llama_cpp/lib
    python benchmarks/build_speed.py --variant base= --variant ub128=:N_UBATCH=128 \
        --variant t1=:CPU_CORES=1 --variant hf-bf16=:KIND=hf,DTYPE=bfloat16,BATCH=16

A variant is NAME=[LIBDIR][:KEY=VAL,...]. LIBDIR: a llama_cpp/lib folder of another build
(LLAMA_CPP_LIB_PATH; empty: this venv's own). Keys: CPU_CORES (prompt threads), N_BATCH,
N_UBATCH, GGUF (another base model file, same LoRA), KIND=hf (the transformers backend on the
same base GGUF dequantised + the student's PEFT adapter; DTYPE float32|bfloat16, BATCH padded
batch size, REF candidates also scored one at a time). Each variant runs in its own process
(one llama.cpp library per process), `--rounds` times, variants alternating; every process
pages the model in untimed, times llama.cpp's raw prompt speed on the longest prompt and the
fast ranking path (the student's p_yes_many). Appends one row per variant to
<out>/build_speed.md: median seconds (wall and CPU), the median of the per-round ratios to the
first variant, and the max and mean |dP(Yes)| against the first variant's scores; every score
goes to <out>/build_speed_<date>.json.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from speed_common import load, machine, ranking_args, renice, run

HEADER = ("| date, machine | load before; after | variant | settings | N | tokens evaluated | "
          "rank s (each round) | rank CPU s | time ratio to first | CPU ratio to first | raw prompt "
          "tok/s | max abs dP vs first | mean abs dP vs first | notes |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")


def child(args) -> None:
    """One variant, one process: print a JSON line with its timings and scores."""
    from reasoningrec.data import load_dataset
    from reasoningrec.models.session import common_prefix_length
    from reasoningrec.scoring.rank import candidate_items, candidate_prompts, rank_candidates
    from reasoningrec.scoring.registry import load_scorer
    from speed_common import raw_decode_speed, raw_llama, raw_prompt_speed

    opts = json.loads(os.environ["BUILD_SPEED_OPTS"])
    ds = load_dataset(args.dataset, args.data_dir)
    sample = ds.sample("test", args.user)
    scorer = load_scorer(args.model, ds)
    llm = scorer.backend.llm
    ids = candidate_items(ds, sample, args.candidates)
    texts = [r.text for r in candidate_prompts(scorer, ds, sample, ids)]
    tokens = [scorer.backend.tokenize(t) for t in texts]
    prefix = min(common_prefix_length(tokens[0], t) for t in tokens)
    out = {"n": len(ids), "ids": ids, "notes": ""}
    if opts.get("KIND") == "hf":
        from reasoningrec.models.hf import HFBackend
        adapter = Path(llm.lora_path).parent / "peft"
        backend = HFBackend(llm.model_path, adapter=str(adapter), device="cpu",
                            dtype=opts.get("DTYPE", "float32"), batch_size=int(opts.get("BATCH", 16)))
        scorer.backend = backend
        hf_tokens = [backend.tokenize(t) for t in texts]
        out["evaluated"] = sum(map(len, hf_tokens))  # no prefix sharing: every full prompt
        backend.p_yes(texts[-1])  # untimed warm-up
        out["raw_tok_s"] = None
    else:
        import llama_cpp
        from functools import partial
        from reasoningrec.models.llamacpp import LlamaCppBackend
        if "N_UBATCH" in opts:  # LlamaCppBackend builds its Llama inside: give it n_ubatch
            llama_cpp.Llama = partial(llama_cpp.Llama, n_ubatch=int(opts["N_UBATCH"]))
        if {"N_UBATCH", "N_BATCH", "GGUF"} & opts.keys():
            backend = LlamaCppBackend(opts.get("GGUF", llm.model_path), llm.lora_path,
                                      n_ctx=llm.n_ctx(), n_batch=int(opts.get("N_BATCH", 512)))
            scorer.backend = backend
        out["evaluated"] = prefix + sum(len(t) - prefix for t in tokens)
        scorer.backend.p_yes(texts[-1], reuse_cache=False)  # untimed: pages the model in
        raw = raw_llama(scorer.backend)
        out["raw_tok_s"] = raw_prompt_speed(raw, max(tokens, key=len), 3)
        out["notes"] = (f"raw decode {raw_decode_speed(raw, tokens[0], 64):.1f} tok/s "
                        f"(64 greedy tokens, {raw.n_threads} thread(s)); ")
    cpu = time.process_time()
    ranked, stats = rank_candidates(scorer, ds, sample, ids, fast=True)
    out.update(seconds=stats["seconds"], cpu_seconds=time.process_time() - cpu,
               scores=dict(ranked))
    ref = int(opts.get("REF", 0))
    if ref:  # the same backend, one prompt at a time, on the first REF candidates
        one = [scorer.backend.p_yes(t, reuse_cache=False).p_yes for t in texts[:ref]]
        out["notes"] += (f"max abs dP batched vs one at a time ({ref} candidates): "
                        f"{max(abs(p - out['scores'][i]) for i, p in zip(ids, one)):.1e}")
    print("BUILD_SPEED " + json.dumps(out))


KEYS = {"CPU_CORES", "N_BATCH", "N_UBATCH", "GGUF", "KIND", "DTYPE", "BATCH", "REF"}


def parse_variant(spec: str) -> tuple[str, str, dict]:
    name, _, rest = spec.partition("=")
    lib, _, keys = rest.partition(":")
    opts = dict(kv.split("=", 1) for kv in keys.split(",") if kv)
    if not name or (lib and not Path(lib).is_dir()):
        raise SystemExit(f"bad --variant {spec!r}: want NAME=[LIBDIR][:KEY=VAL,...] with an "
                         f"existing LIBDIR")
    unknown = opts.keys() - KEYS
    if unknown or opts.get("KIND", "hf") != "hf":
        raise SystemExit(f"bad --variant {spec!r}: keys are {', '.join(sorted(KEYS))} "
                         f"(KIND=hf only)")
    return name, lib, opts


def run_variant(args, lib: str, opts: dict) -> dict:
    env = dict(os.environ, BUILD_SPEED_OPTS=json.dumps(opts))
    env.pop("LLAMA_CPP_LIB_PATH", None)
    if lib:
        env["LLAMA_CPP_LIB_PATH"] = lib
    if "CPU_CORES" in opts:
        env["CPU_CORES"] = opts["CPU_CORES"]
    cmd = [sys.executable, __file__, "--child", "--dataset", args.dataset, "--user", args.user,
           "--candidates", str(args.candidates), "--model", args.model]
    if args.data_dir:
        cmd += ["--data-dir", args.data_dir]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BUILD_SPEED ")]
    if proc.returncode or not lines:
        raise SystemExit(f"variant failed (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(lines[-1][len("BUILD_SPEED "):])


def main() -> None:
    ap = ranking_args(__doc__.splitlines()[0], 100, "build_speed.md")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME=[LIBDIR][:KEY=VAL,...] (repeat; the first is the reference)")
    ap.add_argument("--rounds", type=int, default=2, help="times each variant runs (default 2)")
    ap.add_argument("--child", action="store_true", help=argparse_hidden())
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.rounds < 1:
        raise SystemExit(f"--rounds must be at least 1, got {args.rounds}")
    variants = [parse_variant(v) for v in args.variant or ["current="]]
    if len({name for name, _, _ in variants}) < len(variants):
        raise SystemExit("--variant names must differ")
    import reasoningrec.models.llamacpp  # noqa: F401  (its OpenMP settings, for the children)
    reniced, load_before = renice(), load()
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in variants}
    for r in range(args.rounds):
        for name, lib, opts in variants:
            res = run_variant(args, lib, opts)
            runs[name].append(res)
            print(f"round {r + 1} {name}: rank {res['seconds']:.1f} s (CPU {res['cpu_seconds']:.1f}"
                  f" s), raw prompt {res['raw_tok_s'] or 0:.0f} tok/s {res['notes']}", flush=True)
    load_after, first = load(), variants[0][0]
    out = Path(args.out) / "build_speed.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a") as f:
        if new:
            f.write(HEADER)
        for name, lib, opts in variants:
            rs, base = runs[name], runs[first]
            ratios = [a["seconds"] / b["seconds"] for a, b in zip(rs, base)]
            diffs = [abs(p - base[0]["scores"][i]) for i, p in rs[0]["scores"].items()]
            dp = max(diffs)
            cpu_ratios = [a["cpu_seconds"] / b["cpu_seconds"] for a, b in zip(rs, base)]
            raw = [x["raw_tok_s"] for x in rs if x["raw_tok_s"]]
            settings = ", ".join([f"lib {lib or 'venv'}"] + [f"{k}={v}" for k, v in opts.items()])
            each = ", ".join("%.1f" % x["seconds"] for x in rs)
            med = statistics.median(x["seconds"] for x in rs)
            raw_s = "%.0f" % statistics.median(raw) if raw else "-"
            notes = "; ".join(sorted({x["notes"] for x in rs if x["notes"]}))
            f.write(f"| {machine()}{'' if reniced else ' (not reniced)'} | {load_before}; "
                    f"{load_after} | {name} | {settings} | {rs[0]['n']} | {rs[0]['evaluated']} | "
                    f"{med:.1f} ({each}) | "
                    f"{statistics.median(x['cpu_seconds'] for x in rs):.1f} | "
                    f"{statistics.median(ratios):.2f} | {statistics.median(cpu_ratios):.2f} | "
                    f"{raw_s} | {dp:.1e} | {statistics.mean(diffs):.1e} | {notes} |\n")
            print(f"{name}: median rank {med:.1f} s, "
                  f"ratio to {first} {statistics.median(ratios):.2f}, max |dP| {dp:.1e}")
    scores = out.with_name(f"build_speed_{time.strftime('%Y%m%d-%H%M')}.json")
    scores.write_text(json.dumps({name: [x["scores"] for x in rs] for name, rs in runs.items()}))
    print(f"appended to {out}; every variant's P(Yes) per candidate in {scores}")


def argparse_hidden():
    import argparse
    return argparse.SUPPRESS


if __name__ == "__main__":
    run(main)
