"""Settings read from the environment, in one place.

    REASONINGREC_DATA_DIR   default --data-dir (else ./data)
    REASONINGREC_CACHE_DIR  embeddings and other caches (else ~/.cache/reasoningrec)
    REASONINGREC_TEACHER    a model spec for a live teacher in the app (default: none)
    CPU_CORES               threads for llama.cpp / torch (default: the CPU count)
    CPU_DECODE_THREADS      llama.cpp threads for one-token steps (generation; default 1)
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "assets"
# what serves the app's students (zerogpu.serving_backend; `reasoningrec app --backend`)
BACKENDS = ("auto", "llamacpp", "transformers")


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """--data-dir, else $REASONINGREC_DATA_DIR, else ./data."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get("REASONINGREC_DATA_DIR")
    return Path(env).expanduser() if env else Path("data")


def cache_dir() -> Path:
    env = os.environ.get("REASONINGREC_CACHE_DIR")
    path = Path(env).expanduser() if env else Path.home() / ".cache" / "reasoningrec"
    path.mkdir(parents=True, exist_ok=True)
    return path


def env_number(name: str, default, kind=int, minimum=1):
    """$name read as `kind` (int or float), `default` when unset or empty; a value that is not
    such a number, or is below `minimum`, is a ValueError naming the variable."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    what = "an integer" if kind is int else "a number"
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(f"{name} must be {what} >= {minimum}, got {raw!r}")
    return value


def decode_threads() -> int:
    """$CPU_DECODE_THREADS, else 1: llama.cpp's one-token generation steps synchronise its
    threads after every op, and on a shared 2-core CPU one thread decoded faster than two and
    never stalled (benchmarks/results/threads_under_load.md); prompts keep cpu_threads()."""
    return env_number("CPU_DECODE_THREADS", 1)


def cpu_threads() -> int:
    """$CPU_CORES when set (a positive integer), else the CPUs this process may use."""
    n = env_number("CPU_CORES", None)
    if n:
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def teacher_spec() -> str | None:
    return os.environ.get("REASONINGREC_TEACHER") or None
