"""GGUF export of a Llama-2-vocabulary student (the paper's 7B family) through llama.cpp's own
converters: a tiny random-init Llama with the real Llama-2-7b-chat tokenizer (SentencePiece,
from ../shared/data/tokenizers/llama-2-7b-chat) and a random LoRA, exported by the 7B recipe's
export command (`python -m training.export --adapter <run>/adapter --out <run>/gguf`).

    .venv/bin/python -m pytest tests/test_gguf_export_llama2.py -q
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from reasoningrec.data import load_dataset
from reasoningrec.models.hf import HFBackend
from reasoningrec.models.llamacpp import LlamaCppBackend
from reasoningrec.scoring.llm import LLMScorer
from tiny_model import build_tiny_model
from training import export

# Two turns: special tokens inside the text ("</s><s>[INST]") as well as at its start.
CHAT = [{"role": "system", "content": "You are an expert movie critic and recommender."},
        {"role": "user", "content": "Liked Alien (1979)\n  Disliked Grease (1978)"},
        {"role": "assistant", "content": "Prediction: Yes. Reasoning: sci-fi fan."},
        {"role": "user", "content": "Will the user like Blade Runner (1982)? café naïve 日本"}]


@pytest.fixture(scope="module")
def run(data_dir, tmp_path_factory):
    """A training run folder as training.sft leaves it (adapter/, train_meta.json), exported
    by the 7B recipe's step 3 into gguf/."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("llama2_run")
    tiny = build_tiny_model(folder, tokenizer_dir=data_dir / "tokenizers" / "llama-2-7b-chat",
                            gguf=False)  # the export below writes base-f16.gguf
    torch.manual_seed(0)
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny.hf_dir), LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False))
    peft_model.save_pretrained(folder / "adapter")
    (folder / "train_meta.json").write_text(json.dumps({"base_model": str(tiny.hf_dir)}))
    assert export.main(["--adapter", str(folder / "adapter"), "--out", str(folder / "gguf")]) == 0
    return folder, tiny


def test_7b_recipe_export_reproduces_a_llama2_vocabulary_student(run):
    folder, _ = run
    report = json.loads((folder / "gguf" / "export_report.json").read_text())
    # export.main fails (exit 1) if llama.cpp tokenises a verification prompt differently
    assert report["cosine"]["model-f16"] >= 0.999
    assert report["cosine"]["base-f16+lora"] >= 0.999
    assert report["cosine"]["model-q8_0"] >= 0.99
    assert report["cosine"]["base-f16 (adapter off)"] < 0.99  # the adapter matters


def test_llama2_chat_prompt_tokenises_and_scores_alike(run, data_dir):
    """Independently of the exporter's check, through the library's own backends: the same ids
    for a two-turn chat (and the reference Llama-2 encoding "<s>▁[INST]"), and the same P(Yes)
    on a real student prompt for the merged GGUF and base+LoRA."""
    folder, tiny = run
    gguf = folder / "gguf"
    hf = HFBackend(str(tiny.hf_dir), str(folder / "adapter"))
    text = hf.apply_chat(CHAT)
    ids = hf.tokenize(text)
    assert hf.tokenizer.convert_ids_to_tokens(ids[:3]) == ["<s>", "▁[", "INST"]
    assert ids.count(hf.tokenizer.eos_token_id) == 1 and ids.count(hf.tokenizer.bos_token_id) == 2
    ds = load_dataset("ml1m", data_dir)
    sample = ds.splits["valid"][0]
    p_hf = LLMScorer(hf, context=320, max_new_tokens=8).predict(ds, sample).p_yes
    for model, lora in ((gguf / "model-f16.gguf", None), (gguf / "base-f16.gguf", gguf / "lora.gguf")):
        backend = LlamaCppBackend(model, lora, n_ctx=512)
        try:
            assert backend.llm.metadata["tokenizer.ggml.model"] == "llama"  # SentencePiece
            assert backend.tokenize(text) == ids
            p_cpp = LLMScorer(backend, context=320, max_new_tokens=8).predict(ds, sample).p_yes
        finally:
            backend.close()
        assert np.isclose(p_cpp, p_hf, atol=0.01), (model.name, p_cpp, p_hf)
