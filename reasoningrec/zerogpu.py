"""Serving the student on a ZeroGPU Space: transformers inside `@spaces.GPU`.

    from reasoningrec.zerogpu import GPUExplainer, serving_backend
    serving_backend("auto")    # "transformers" on ZeroGPU (SPACES_ZERO_GPU=true) or without
                               # llama_cpp installed, else "llamacpp"
    explainer = GPUExplainer(LiveExplainer(load_backend("hf:<base.gguf>+<peft dir>")))
    explainer.predict(ds, sample); explainer.stream(ds, sample); explainer.rank(ds, sample, ids)

A ZeroGPU Space lends a GPU for each call of a function decorated with `@spaces.GPU` and runs
it in a forked worker: arguments and results are pickled, so the functions here take the
dataset and sample (the demo pool's catalogue: ~130 KB) and find the explainer by key in a
registry filled before the fork. Off ZeroGPU `spaces.GPU` returns the function itself, so the
same path runs on a CPU (tests/test_zerogpu.py drives it through gradio_client); without the
`spaces` package an identity decorator stands in. llama.cpp's kept prompt states belong to the
CPU path: on ZeroGPU a call may land on a fresh worker, and a GPU reads a prompt fast anyway.
"""
from __future__ import annotations

import importlib.util
import os

from .config import BACKENDS

try:
    import spaces
    gpu = spaces.GPU
except ImportError:            # a plain install: nothing to lend a GPU
    spaces = None

    def gpu(task=None, **_):
        return task if task is not None else (lambda fn: fn)

from .scoring.rendered import FETCH  # noqa: E402  (after the optional spaces import)

GPU_SECONDS = 60               # the ZeroGPU slot asked per call (an explanation fits easily)
_EXPLAINERS: dict[int, object] = {}


def on_zerogpu() -> bool:
    """True on a ZeroGPU Space (the platform sets SPACES_ZERO_GPU=true)."""
    return os.environ.get("SPACES_ZERO_GPU", "").lower() in ("1", "t", "true")


def serving_backend(choice: str = "auto") -> str:
    """The backend that serves the students: as asked, or for "auto" transformers on ZeroGPU
    (or when llama-cpp-python is not installed) and llama.cpp otherwise."""
    if choice not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {choice!r}")
    if choice != "auto":
        return choice
    if on_zerogpu() or importlib.util.find_spec("llama_cpp") is None:
        return "transformers"
    return "llamacpp"


@gpu(duration=GPU_SECONDS)
def _predict(key, ds, sample, profile, evidence):
    return _EXPLAINERS[key].predict(ds, sample, profile, evidence=evidence)


@gpu(duration=GPU_SECONDS)
def _stream(key, ds, sample, profile, max_tokens, evidence):
    yield from _EXPLAINERS[key].stream(ds, sample, profile, max_tokens, evidence=evidence)


@gpu(duration=GPU_SECONDS)
def _rank(key, ds, sample, candidates):
    return _EXPLAINERS[key].rank(ds, sample, candidates)


class GPUExplainer:
    """A LiveExplainer whose model calls (predict, stream, rank) each run inside @spaces.GPU;
    everything else (warm, kept, scorer, backend, ...) is the wrapped explainer's."""

    def __init__(self, explainer):
        self.explainer = explainer
        self.key = len(_EXPLAINERS)
        _EXPLAINERS[self.key] = explainer

    def __getattr__(self, name):
        return getattr(self.explainer, name)

    def predict(self, ds, sample, profile=None, *, evidence=FETCH):
        return _predict(self.key, ds, sample, profile, evidence)

    def stream(self, ds, sample, profile=None, max_tokens=None, *, evidence=FETCH):
        return _stream(self.key, ds, sample, profile, max_tokens, evidence)

    def rank(self, ds, sample, candidates, progress=None):
        """One GPU call for all candidates (batched there): progress is told once, at the end."""
        out = _rank(self.key, ds, sample, candidates)
        if progress is not None:
            progress(len(candidates), len(candidates))
        return out
