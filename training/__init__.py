"""Teacher rationale generation, LoRA distillation and GGUF export (training issue)."""
