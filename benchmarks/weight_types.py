"""Which GGUF weight type does this llama.cpp build evaluate fastest? The student's base model
re-quantized to each type, alone and with the student's LoRA, on the student's real prompt.

    python benchmarks/weight_types.py --data-dir ../shared/data
    python benchmarks/weight_types.py --model student-ml1m-k112-last --types f16 q8_0 bf16 --out /tmp/r
    PYTHONPATH=/path/to/other/llama_cpp python benchmarks/weight_types.py ...  # another build

The base GGUF (F16) is quantized with llama.cpp's own llama_model_quantize into a temporary
folder, one file a type (deleted afterwards). For each type, without and with the LoRA adapter:
the whole prompt of ML-1M test user 1 evaluated from an empty cache (tokens/s, best of 3) and its
last --tail tokens evaluated after the rest (ms, mean of 20: what ranking does per candidate).
The build's CPU features (llama_print_system_info) are in every row, so rows of two builds can
stand in one table. Appends rows to <out>/weight_types.md.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

from speed_common import RESULTS, load, machine, raw_prompt_speed, renice, run

TYPES = {"f16": 1, "q8_0": 7, "q4_0": 2, "q4_1": 3, "bf16": 32}  # llama_ftype values
HEADER = ("| date, machine | load before; after | llama.cpp build | model | weights | LoRA | "
          "prompt tokens | prompt tok/s | tail tokens | tail ms |\n"
          "|---|---|---|---|---|---|---|---|---|---|\n")


def timings(path: str, lora: str | None, tokens: list[int], tail: int, threads: int):
    """(prompt tokens/s, tail ms) of one GGUF (+ LoRA) on `tokens`."""
    from llama_cpp import Llama
    llm = Llama(model_path=path, lora_path=lora, n_ctx=2048, n_batch=512, n_threads=1,
                n_threads_batch=threads, logits_all=False, verbose=False)
    try:
        speed = raw_prompt_speed(llm, tokens, repeats=3)
        keep, start = len(tokens) - tail, time.perf_counter()
        for _ in range(20):
            llm.n_tokens = keep
            llm.eval(tokens[keep:])
        return speed, (time.perf_counter() - start) / 20 * 1000
    finally:
        llm.close()


def main() -> None:
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--model", default="student-ml1m-k112-last",
                    help="shipped student with F16 base weights and a LoRA (default "
                         "student-ml1m-k112-last)")
    ap.add_argument("--types", nargs="+", default=["f16", "q8_0", "q4_0", "bf16"],
                    choices=sorted(TYPES), help="weight types (default: f16 q8_0 q4_0 bf16)")
    ap.add_argument("--tail", type=int, default=30, help="tail tokens (default 30)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for weight_types.md (default benchmarks/results/)")
    args = ap.parse_args()
    import llama_cpp

    from reasoningrec.config import cpu_threads
    from reasoningrec.data import load_dataset
    from reasoningrec.models.registry import quantize_gguf
    from reasoningrec.scoring.registry import load_scorer
    reniced, load_before = renice(), load()
    ds = load_dataset("ml1m", args.data_dir)
    scorer = load_scorer(args.model, ds)
    llm = scorer.backend.llm
    if not llm.lora_path or "f16" not in Path(llm.model_path).name.lower():
        raise SystemExit(f"{args.model} is not F16 base weights + a LoRA adapter")
    tokens = scorer.backend.tokenize(scorer.render(ds, ds.sample("test", "1")).text)
    if not 2 <= args.tail < len(tokens):
        raise SystemExit(f"--tail must be 2..{len(tokens) - 1}, got {args.tail}")
    base, lora = llm.model_path, llm.lora_path
    scorer.backend.close()
    build = " ".join(f.split("=")[0].strip() for f in
                     llama_cpp.llama_print_system_info().decode().split("|")
                     if f.strip().endswith("= 1") and "AVX" in f)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.types:
            path = base if name == "f16" else str(Path(tmp) / f"base.{name}.gguf")
            if name != "f16":
                quantize_gguf(base, path, TYPES[name])
            for adapter in (None, lora):
                speed, tail_ms = timings(path, adapter, tokens, args.tail, cpu_threads())
                rows.append(f"| {machine()}{'' if reniced else ' (not reniced)'} | "
                            f"{load_before}; {load()} | {build} | {args.model} | {name} | "
                            f"{'yes' if adapter else 'no'} | {len(tokens)} | {speed:.0f} | "
                            f"{args.tail} | {tail_ms:.0f} |")
                print(rows[-1], flush=True)
    out = Path(args.out) / "weight_types.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a") as f:
        f.write(HEADER if new else "")
        f.write("\n".join(rows) + "\n")
    print(f"appended to {out}")


if __name__ == "__main__":
    run(main)
