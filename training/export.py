"""Merge a trained LoRA adapter and write llama.cpp files, offline, verified against transformers.

    python -m training.export --adapter runs/student/adapter --out runs/student/gguf
        [--base <model>]  [--types f16,q8_0]  [--min-cosine 0.999]

Writes into --out:
  model-f16.gguf, model-q8_0.gguf   the merged student (f16 by llama.cpp's convert_hf_to_gguf.py,
                                    q8_0 by llama_cpp.llama_model_quantize)
  base-f16.gguf, lora.gguf          the base model and the adapter as a LoRA GGUF (llama.cpp's
                                    convert_lora_to_gguf.py), for `llamacpp:base-f16.gguf+lora.gguf`
  export_report.json                what was checked and the numbers
The base model defaults to the one in <adapter>/../train_meta.json (training.sft writes it).
The converters come from the llama-cpp-python sdist (`bash scripts/setup.sh` puts them in
.llama.cpp/; reasoningrec.models.gguf_export runs them), so any vocabulary llama.cpp converts
works: SmolLM2's byte-level BPE and Llama-2's SentencePiece alike.

Verification (fails with exit code 1 and says which file): on a few chat prompts ending in
"Prediction:", llama.cpp must tokenise exactly as transformers does, and the last-position
logits of each GGUF must match the PEFT model's (fp32): cosine >= --min-cosine for model-f16
and base-f16+lora, >= --min-cosine-q8 for q8_0.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from reasoningrec.models.gguf_export import (GGUFExportError, export_gguf,
                                              export_lora_gguf, save_tokenizer)

from .sft import load_base

VERIFY_CHATS = [
    [{"role": "system", "content": "You are an expert movie critic and recommender."},
     {"role": "user", "content": "User Profile - The user enjoys science fiction and "
      "dislikes musicals.\nLiked Alien (1979)\nDisliked Grease (1978)\nWill the user like "
      "Blade Runner (1982)? Answer in the format Prediction: Yes or No"}],
    [{"role": "user", "content": "Liked Toy Story (1995); Liked Babe (1995); Disliked Heat "
      "(1995). Target: Jumanji (1995). Prediction: Yes or No, then Reasoning."}],
    [{"role": "system", "content": "You are an expert fashion product recommender."},
     {"role": "user", "content": "Purchased: leather belt (liked), silk scarf (disliked). "
      "Next item: wool socks, 3 pairs. Will the user like it?"}],
]


class ExportError(RuntimeError):
    """An exported file that does not reproduce the transformers model."""


def quantize(source: Path, out: Path, kind: str = "q8_0") -> Path:
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = {"q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}[kind]
    if llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(),
                                      ctypes.byref(params)) != 0:
        raise ExportError(f"llama.cpp could not quantise {source} to {kind}")
    return out


def hf_logits(model, tokenizer, texts) -> tuple[list[list[int]], list[np.ndarray]]:
    import torch
    ids_list, rows = [], []
    with torch.inference_mode():
        for text in texts:
            ids = tokenizer(text, add_special_tokens=False)["input_ids"]
            ids_list.append(ids)
            logits = model(input_ids=torch.tensor([ids])).logits[0, -1].float().numpy()
            rows.append(logits.astype(np.float64))
    return ids_list, rows


def gguf_logits(path: Path, lora: Path | None, texts, expected_ids) -> list[np.ndarray]:
    """Last-position logits from llama.cpp; tokenisation must equal transformers'."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=str(path), lora_path=str(lora) if lora else None,
                          n_ctx=512, n_threads=2, logits_all=False, verbose=False)
    rows = []
    try:
        for text, ids in zip(texts, expected_ids):
            tokens = llm.tokenize(text.encode(), add_bos=False, special=True)
            if list(tokens) != list(ids):
                raise ExportError(f"{path}: llama.cpp tokenises a prompt differently from "
                                  f"transformers ({len(tokens)} vs {len(ids)} tokens)")
            llm.reset()
            llm.eval(tokens)
            row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
            rows.append(np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).astype(np.float64))
    finally:
        llm.close()
    return rows


def cosine(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The smallest per-prompt cosine between two lists of logit vectors."""
    return min(float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y))) for x, y in zip(a, b))


def export(adapter: Path, out: Path, base: str | None = None, types=("f16", "q8_0"),
           min_cosine: float = 0.999, min_cosine_q8: float = 0.99) -> dict:
    from peft import PeftModel

    meta_path = adapter.parent / "train_meta.json"
    if base is None:
        if not meta_path.is_file():
            raise SystemExit(f"no --base given and {meta_path} does not exist")
        base = json.loads(meta_path.read_text())["base_model"]
    out.mkdir(parents=True, exist_ok=True)
    model, tokenizer = load_base(base)
    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
             + "Prediction:" for c in VERIFY_CHATS]
    report = {"base_model": base, "adapter": str(adapter), "files": {}, "cosine": {}}
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        tmp = Path(tmp)
        model.save_pretrained(tmp / "base")
        save_tokenizer(tokenizer, tmp / "base")
        student = PeftModel.from_pretrained(model, str(adapter)).eval()
        ids, reference = hf_logits(student, tokenizer, texts)
        merged = student.merge_and_unload().eval()
        report["cosine"]["hf_merged"] = cosine(reference, hf_logits(merged, tokenizer, texts)[1])
        merged.save_pretrained(tmp / "merged")
        save_tokenizer(tokenizer, tmp / "merged")
        files = {"model-f16": export_gguf(tmp / "merged", out / "model-f16.gguf", "f16"),
                 "base-f16": export_gguf(tmp / "base", out / "base-f16.gguf", "f16"),
                 "lora": export_lora_gguf(adapter, tmp / "base", out / "lora.gguf")}
    if "q8_0" in types:
        files["model-q8_0"] = quantize(files["model-f16"], out / "model-q8_0.gguf")
    # For scale: the base alone (adapter off), so a near-1 LoRA cosine can be judged.
    report["cosine"]["base-f16 (adapter off)"] = round(
        cosine(reference, gguf_logits(files["base-f16"], None, texts, ids)), 6)
    checks = [("model-f16", files["model-f16"], None, min_cosine),
              ("base-f16+lora", files["base-f16"], files["lora"], min_cosine)]
    if "q8_0" in types:
        checks.append(("model-q8_0", files["model-q8_0"], None, min_cosine_q8))
    failures = []
    for label, path, lora, threshold in checks:
        value = cosine(reference, gguf_logits(path, lora, texts, ids))
        report["cosine"][label] = round(value, 6)
        if value < threshold:
            failures.append(f"{label}: logit cosine {value:.5f} < {threshold}")
    report["files"] = {k: str(v) for k, v in files.items()}
    report["sizes_mb"] = {k: round(v.stat().st_size / 2**20, 2) for k, v in files.items()}
    (out / "export_report.json").write_text(json.dumps(report, indent=2))
    if failures:
        raise ExportError("exported files do not match the transformers model: "
                          + "; ".join(failures) + f" (see {out / 'export_report.json'})")
    return report


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.export", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--adapter", required=True, help="PEFT adapter folder (training.sft's "
                                                    "<output_dir>/adapter)")
    p.add_argument("--out", required=True, help="folder for the GGUF files and the report")
    p.add_argument("--base", default=None, help="base model (HF folder, .gguf, Hub id, "
                                                "smollm2); default: from train_meta.json")
    p.add_argument("--types", default="f16,q8_0", help="merged GGUF types: f16 (always) and "
                                                       "optionally q8_0")
    p.add_argument("--min-cosine", type=float, default=0.999,
                   help="least logit cosine for f16 and base+LoRA")
    p.add_argument("--min-cosine-q8", type=float, default=0.99,
                   help="least logit cosine for q8_0")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    types = tuple(t.strip() for t in args.types.split(",") if t.strip())
    unknown = set(types) - {"f16", "q8_0"}
    if unknown:
        raise SystemExit(f"--types: unknown {sorted(unknown)}; known: f16, q8_0")
    try:
        report = export(Path(args.adapter), Path(args.out), args.base, types, args.min_cosine,
                        args.min_cosine_q8)
    except (ExportError, GGUFExportError) as exc:
        print(f"export FAILED: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report) if args.json else
          "\n".join([f"{k}: {v}" for k, v in report["cosine"].items()]
                    + [f"{k}: {v} ({report['sizes_mb'][k]} MB)" for k, v in report["files"].items()]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
