"""load_backend(spec): a model-spec string to a ready LLM backend.

    from reasoningrec.models.loader import load_backend
    backend = load_backend("smollm2")                           # SmolLM2 GGUF, llama.cpp
    backend = load_backend("llamacpp:student.gguf+lora.gguf")
    backend = load_backend("hf:HuggingFaceTB/SmolLM2-135M-Instruct+adapters/reasoningrec")
    backend = load_backend("openai:http://localhost:8000/v1#Qwen/Qwen2.5-7B-Instruct")
    backend = load_backend("openai:http://localhost:8000/v1#student+<base model dir>")

Backends are imported lazily, so naming an openai: model never imports torch or llama.cpp.
llama.cpp and transformers models are loaded once per process and spec (`.shared`): a benchmark
that scores many cells with one model loads it once.
Options go to the backend's constructor (n_ctx=, device=, timeout=, max_concurrency=, ...).
An unknown spec raises ValueError, a missing file ModelNotFound, an unreachable server (when
check=True, the default) BackendError — each naming the spec, file or URL.
"""
from __future__ import annotations

from pathlib import Path

from .base import Backend
from .registry import ModelNotFound, parse_spec


def _local_file(path: str, what: str) -> Path:
    file = Path(path).expanduser()
    if not file.is_file():
        raise ModelNotFound(f"{what} file not found: {file}")
    return file


def load_backend(spec: str, check: bool = True, **options) -> Backend:
    """The backend a spec names. llama.cpp and transformers models are shared per process
    (.shared); check=False skips contacting an openai: server up front."""
    parsed = parse_spec(spec)
    if parsed.kind == "llamacpp":
        from .llamacpp import LlamaCppBackend
        model = _local_file(parsed.target, "GGUF model")
        lora = _local_file(parsed.adapter, "LoRA adapter") if parsed.adapter else None
        return LlamaCppBackend.shared(model, lora, **options)
    if parsed.kind == "hf":
        from .hf import HFBackend
        return HFBackend.shared(parsed.target, parsed.adapter, **options)
    if parsed.kind == "openai":
        from .openai import OpenAIBackend
        backend = OpenAIBackend(parsed.target, parsed.model, tokenizer=parsed.tokenizer,
                                **options)
        if check:
            backend.check()
        return backend
    raise ValueError(f"model spec {spec!r} names a {parsed.kind!r} model, not an LLM backend "
                     "(expected llamacpp:, hf: or openai:)")
