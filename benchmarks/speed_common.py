"""What the speed benchmarks share: the machine line (CPUs, threads, load), a fair CPU share,
and llama.cpp's raw speed on a backend's own model (the ceiling the app's path is held to);
and what every results file shares: its command line as typed (`command_line`), and every
benchmark's entry point (`run`: bad input ends in one line, not a traceback).

    from speed_common import machine, renice, raw_llama, raw_prompt_speed, raw_decode_speed
    renice()                               # like `echo -10 > /proc/$$/autogroup` in a shell
    llm = raw_llama(backend)               # plain Llama on the backend's GGUF (+ LoRA)
    raw_prompt_speed(llm, tokens), raw_decode_speed(llm, tokens, n=64)   # tokens/s
"""
from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def run(main) -> None:
    """`if __name__ == "__main__": run(main)`: main's exit status; bad input data (a missing
    data folder, a report that does not parse: reasoningrec's DataError, which names the file)
    is one line on stderr and status 2, as in the reasoningrec CLI."""
    from reasoningrec.data import DataError
    try:
        code = main()
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    sys.exit(code or 0)


def command_line(argv: list[str]) -> str:
    """argv as typed, with a --note's text replaced by <note> (the results file prints it)."""
    return " ".join("<note>" if i and argv[i - 1] == "--note" else
                    (f'"{a}"' if " " in a else a) for i, a in enumerate(argv))


def ranking_args(description: str, candidates: int, out_file: str):
    """The argument parser the ranking benchmarks share: which user, how many candidates,
    which model, and the --out folder (default benchmarks/results/)."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="ml1m", help="dataset name (default ml1m)")
    ap.add_argument("--user", default="1", help="user id of the test sample (default 1)")
    ap.add_argument("--candidates", type=int, default=candidates,
                    help=f"how many candidates (default {candidates})")
    ap.add_argument("--model", default="student",
                    help="llama.cpp model spec or shipped student (default: student)")
    ap.add_argument("--out", default=str(RESULTS),
                    help=f"folder for {out_file} (default benchmarks/results/)")
    return ap


def renice(level: int = -10) -> bool:
    """Raise this process group's CPU share on a shared machine (Linux autogroups); False when
    the system does not allow it (the figures then say so through the load)."""
    try:
        Path("/proc/self/autogroup").write_text(str(level))
        return True
    except OSError:
        return False


def load() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(settings: bool = True) -> str:
    """Date, architecture, CPU model, CPUs and (settings=True) the thread settings this
    process uses. The model matters: the same 2-core sandbox has run on different hosts."""
    from reasoningrec.config import cpu_threads, decode_threads
    line = (f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{platform.machine()}{cpu_model()}, {os.cpu_count()} CPUs")
    return line + (f", {cpu_threads()} threads ({decode_threads()} decoding), {openmp_wait()}"
                   if settings else "")


def cpu_model() -> str:
    """" (AMD EPYC)": the first "model name" of /proc/cpuinfo, "" where there is none."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f" ({line.split(':', 1)[1].strip()})"
    except OSError:
        pass
    return ""


def openmp_wait() -> str:
    """How llama.cpp's OpenMP threads wait at barriers in this process (models/llamacpp.py)."""
    return ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")
                     if k in os.environ) or "OMP_WAIT_POLICY unset"


def raw_llama(backend):
    """A second, plain llama_cpp.Llama on the backend's own GGUF and LoRA files, the same
    context size and threads (batch and decode): raw llama.cpp, none of our code between."""
    from llama_cpp import Llama
    llm = backend.llm
    return Llama(model_path=llm.model_path, lora_path=llm.lora_path, n_ctx=llm.n_ctx(),
                 n_batch=llm.n_batch, n_threads=llm.n_threads,
                 n_threads_batch=llm.n_threads_batch, logits_all=False, verbose=False)


def raw_prompt_speed(llm, tokens: list[int], repeats: int = 2) -> float:
    """Tokens/s of evaluating `tokens` from an empty cache (Llama.eval: llama_decode in
    n_batch batches; no tokenising, no sampling). Best of `repeats`."""
    best = float("inf")
    for _ in range(repeats):
        llm.n_tokens = 0
        start = time.perf_counter()
        llm.eval(tokens)
        best = min(best, time.perf_counter() - start)
    return len(tokens) / best


def raw_decode_speed(llm, prompt: list[int], n: int = 64) -> float:
    """Tokens/s of evaluating `n` greedy tokens one llama_decode call each after `prompt`
    (generation without sampler chains and detokenising)."""
    import llama_cpp
    import numpy as np
    llm.n_tokens = 0
    llm.eval(prompt)
    start = time.perf_counter()
    for _ in range(n):
        row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        llm.eval([int(np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).argmax())])
    return n / (time.perf_counter() - start)
