"""llama.cpp threads: prompt batches on CPU_CORES, one-token steps on CPU_DECODE_THREADS (default
1), OpenMP waiting passively unless the environment says otherwise (models/llamacpp.py)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.config import cpu_threads, decode_threads
from reasoningrec.models.llamacpp import LlamaCppBackend


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


@pytest.mark.parametrize("given,expected", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_wait_policy_before_llama_cpp_loads(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given:
        env["OMP_WAIT_POLICY"] = given
    code = ("import os, sys, reasoningrec.models.llamacpp; "
            "assert 'llama_cpp' not in sys.modules; print(os.environ['OMP_WAIT_POLICY'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == expected
