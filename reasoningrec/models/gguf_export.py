"""Export a Hugging Face Llama-architecture folder (SmolLM2 family) to a GGUF llama.cpp loads.

    python -m reasoningrec.models.gguf_export path/to/hf_folder out.gguf --dtype f16

A direct `gguf.GGUFWriter` exporter, offline, with the PyPI `gguf` package (llama.cpp's own
convert_hf_to_gguf.py needs its bundled gguf-py and the llama-cpp-python sdist). It writes
what llama.cpp's LlamaModel converter writes for a byte-level BPE tokenizer: hyper-parameters,
tokens with types, merges, special ids, add_bos_token, chat template; q/k weights are permuted
like LlamaModel.permute (HF rotates halves, llama.cpp interleaved pairs); a tied lm_head is
skipped (llama.cpp reuses token_embd). Norms stay f32, matrices are f16 or f32.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

TOKEN_NORMAL, TOKEN_CONTROL, TOKEN_USER_DEFINED, TOKEN_UNUSED = 1, 3, 4, 5
LAYER_NAMES = {  # HF suffix -> GGUF name inside blk.N
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}
TOP_NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight":
             "output_norm.weight", "lm_head.weight": "output.weight"}


def permute_rows(weight: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's LlamaModel.permute: HF's rotate-half rows to interleaved rope pairs."""
    rows = weight.shape[0]
    return (weight.reshape(n_head, 2, rows // n_head // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def gguf_name(hf_name: str) -> str:
    hf_name = hf_name.removeprefix("base_model.model.")
    if hf_name in TOP_NAMES:
        return TOP_NAMES[hf_name]
    parts = hf_name.split(".")
    if parts[:2] == ["model", "layers"] and ".".join(parts[3:]) in LAYER_NAMES:
        return f"blk.{parts[2]}.{LAYER_NAMES['.'.join(parts[3:])]}"
    raise ValueError(f"tensor {hf_name!r} has no GGUF name (not a Llama-architecture model?)")


def load_weights(folder: Path) -> dict[str, np.ndarray]:
    from safetensors.torch import load_file
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.safetensors weights")
    weights = {}
    for file in files:
        weights.update({k: v.float().numpy() for k, v in load_file(str(file)).items()})
    return weights


def read_tokenizer(folder: Path, vocab_size: int) -> dict:
    """Tokens (in id order), types, merges, special ids and chat template of a byte-level
    BPE tokenizer.json, plus tokenizer_config.json and chat_template.jinja when present."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no tokenizer.json (only byte-level BPE is supported)")
    spec = json.loads(path.read_text())
    if spec["model"]["type"] != "BPE":
        raise ValueError(f"{path}: tokenizer model {spec['model']['type']!r}, expected BPE")
    by_id = {i: (tok, TOKEN_NORMAL) for tok, i in spec["model"]["vocab"].items()}
    for added in spec.get("added_tokens", []):
        by_id[added["id"]] = (added["content"],
                              TOKEN_CONTROL if added.get("special") else TOKEN_USER_DEFINED)
    if max(by_id) >= vocab_size:
        raise ValueError(f"{path}: token id {max(by_id)} outside the model's vocab {vocab_size}")
    tokens = [by_id.get(i, (f"[PAD{i}]", TOKEN_UNUSED)) for i in range(vocab_size)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in spec["model"]["merges"]]
    config_path = folder / "tokenizer_config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    template_path = folder / "chat_template.jinja"
    template = template_path.read_text() if template_path.is_file() else config.get("chat_template")
    ids = {tok: i for i, (tok, _) in enumerate(tokens)}

    def special_id(key):
        value = config.get(key)
        value = value.get("content") if isinstance(value, dict) else value
        return ids.get(value) if value else None

    return {"tokens": [t for t, _ in tokens], "types": [k for _, k in tokens], "merges": merges,
            "chat_template": template, "add_bos": bool(config.get("add_bos_token", False)),
            "bos": special_id("bos_token"), "eos": special_id("eos_token"),
            "unk": special_id("unk_token"), "pad": special_id("pad_token")}


def export_gguf(folder: str | Path, out: str | Path, dtype: str = "f16",
                pre_tokenizer: str = "smollm", name: str | None = None) -> Path:
    """Write `out` from the HF folder; returns its path. pre_tokenizer names llama.cpp's
    pre-tokenizer regex (SmolLM2: 'smollm')."""
    import gguf

    folder, out = Path(folder), Path(out)
    config = json.loads((folder / "config.json").read_text())
    if config.get("model_type") != "llama":
        raise ValueError(f"{folder}/config.json: model_type {config.get('model_type')!r}, "
                         "only 'llama' is supported")
    if dtype not in ("f16", "f32"):
        raise ValueError(f"dtype must be f16 or f32, got {dtype!r}")
    n_head, n_kv = config["num_attention_heads"], config.get("num_key_value_heads") or \
        config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    tok = read_tokenizer(folder, config["vocab_size"])

    writer = gguf.GGUFWriter(str(out), "llama")
    writer.add_name(name or folder.name)
    writer.add_context_length(config.get("max_position_embeddings", 2048))
    writer.add_embedding_length(config["hidden_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_kv)
    writer.add_rope_freq_base(float(config.get("rope_theta") or
                                    (config.get("rope_parameters") or {}).get("rope_theta", 1e4)))
    writer.add_layer_norm_rms_eps(config.get("rms_norm_eps", 1e-5))
    writer.add_rope_dimension_count(head_dim)
    writer.add_vocab_size(config["vocab_size"])
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16 if dtype == "f16"
                         else gguf.LlamaFileType.ALL_F32)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre_tokenizer)
    writer.add_token_list(tok["tokens"])
    writer.add_token_types(tok["types"])
    writer.add_token_merges(tok["merges"])
    for key, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                     ("unk", writer.add_unk_token_id), ("pad", writer.add_pad_token_id)):
        if tok[key] is not None:
            add(tok[key])
    writer.add_add_bos_token(tok["add_bos"])
    writer.add_add_space_prefix(False)
    if tok["chat_template"]:
        writer.add_chat_template(tok["chat_template"])

    tied = config.get("tie_word_embeddings", False)
    for hf_name, weight in load_weights(folder).items():
        if hf_name.endswith("rotary_emb.inv_freq") or (tied and hf_name == "lm_head.weight"):
            continue
        if hf_name.endswith("q_proj.weight"):
            weight = permute_rows(weight, n_head)
        elif hf_name.endswith("k_proj.weight"):
            weight = permute_rows(weight, n_kv)
        keep_f32 = dtype == "f32" or weight.ndim == 1
        writer.add_tensor(gguf_name(hf_name), weight.astype(np.float32 if keep_f32 else np.float16))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="Hugging Face model folder (config.json, safetensors, "
                                       "tokenizer.json)")
    parser.add_argument("out", help="GGUF file to write")
    parser.add_argument("--dtype", default="f16", choices=["f16", "f32"],
                        help="type of the weight matrices (norms stay f32)")
    parser.add_argument("--pre-tokenizer", default="smollm",
                        help="llama.cpp pre-tokenizer name written to tokenizer.ggml.pre")
    args = parser.parse_args()
    print(export_gguf(args.folder, args.out, args.dtype, args.pre_tokenizer))


if __name__ == "__main__":
    main()
