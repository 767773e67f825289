"""llama.cpp threads: prompt batches on CPU_CORES, one-token steps on CPU_DECODE_THREADS (default
1), OpenMP barriers spinning briefly unless the environment says otherwise (models/llamacpp.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.config import cpu_threads, decode_threads
from reasoningrec.models.llamacpp import SPIN_COUNT, LlamaCppBackend

WAIT_VARS = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")


def test_decode_threads_setting(monkeypatch):
    monkeypatch.delenv("CPU_DECODE_THREADS", raising=False)
    assert decode_threads() == 1
    monkeypatch.setenv("CPU_DECODE_THREADS", "3")
    assert decode_threads() == 3
    for bad in ("0", "two"):
        monkeypatch.setenv("CPU_DECODE_THREADS", bad)
        with pytest.raises(ValueError, match="CPU_DECODE_THREADS must be an integer >= 1"):
            decode_threads()


def test_backend_threads(tiny_model, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CPU_CORES", "2")
    monkeypatch.setenv("CPU_DECODE_THREADS", "1")
    backend = LlamaCppBackend(tiny_model.gguf, n_ctx=512)
    try:
        assert (backend.llm.n_threads, backend.llm.n_threads_batch) == (1, cpu_threads()) == (1, 2)
        assert backend.generate("Hello", max_tokens=3) is not None  # one-token steps run
    finally:
        backend.close()


@pytest.mark.parametrize("given,expected", [
    ({}, {"GOMP_SPINCOUNT": SPIN_COUNT}),                 # brief spinning by default
    ({"OMP_WAIT_POLICY": "PASSIVE"}, {"OMP_WAIT_POLICY": "PASSIVE"}),
    ({"OMP_WAIT_POLICY": "ACTIVE"}, {"OMP_WAIT_POLICY": "ACTIVE"}),
    ({"GOMP_SPINCOUNT": "0"}, {"GOMP_SPINCOUNT": "0"})])
def test_openmp_wait_before_llama_cpp_loads(given, expected):
    env = {k: v for k, v in os.environ.items() if k not in WAIT_VARS}
    code = ("import os, sys, json, reasoningrec.models.llamacpp; "
            "assert 'llama_cpp' not in sys.modules; "
            f"print(json.dumps({{k: os.environ[k] for k in {WAIT_VARS!r} if k in os.environ}}))")
    out = subprocess.run([sys.executable, "-c", code], env={**env, **given},
                         capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip()) == expected
