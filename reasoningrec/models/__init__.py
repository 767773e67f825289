"""LLM and embedding backends behind model-spec strings (see registry.py)."""
from .registry import ModelNotFound, ModelSpec, minilm_dir, parse_spec, smollm2_gguf

__all__ = ["ModelNotFound", "ModelSpec", "minilm_dir", "parse_spec", "smollm2_gguf"]
