"""Hugging Face Llama-family folders and PEFT LoRA adapters to GGUF, through llama.cpp's own
converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py and their gguf-py).

    reasoningrec models export-gguf path/to/hf_folder out.gguf --dtype f16
    reasoningrec models export-gguf path/to/adapter lora.gguf --lora-base path/to/hf_folder
    export_gguf(folder, "out.gguf"); export_lora_gguf(adapter, base_folder, "lora.gguf")

The converters are not on PyPI: they ship in the llama-cpp-python 0.3.36 sdist, and
`bash scripts/setup.sh` extracts them to `.llama.cpp/` at the repository root
(REASONINGREC_LLAMA_CPP_DIR overrides). llama.cpp then writes the tokenizer itself: byte-level
BPE (SmolLM2, its pre-tokenizer recognised by hash) or SentencePiece (Llama-2/Mistral, scores
from `tokenizer.model`), the q/k permutation, tied embeddings and the LoRA tensor layout.
`save_tokenizer` keeps `tokenizer.model` next to a saved folder: transformers 5 no longer
writes it, and without it llama.cpp falls back to a vocabulary that merges differently.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SETUP_HINT = "run `bash scripts/setup.sh` (it extracts them from the llama-cpp-python sdist)"


class GGUFExportError(RuntimeError):
    """llama.cpp's converter is missing or refused the model."""


def converter_dir() -> Path:
    """The folder holding convert_hf_to_gguf.py, convert_lora_to_gguf.py, conversion/, gguf-py/."""
    folder = Path(os.environ.get("REASONINGREC_LLAMA_CPP_DIR") or REPO / ".llama.cpp")
    if not (folder / "convert_hf_to_gguf.py").is_file():
        raise GGUFExportError(f"llama.cpp's GGUF converters are not in {folder}: {SETUP_HINT}, "
                              "or set REASONINGREC_LLAMA_CPP_DIR")
    return folder


def run_converter(script: str, args: list[str], out: Path) -> Path:
    """Run one of llama.cpp's converter scripts in this Python; its log is kept on failure."""
    command = [sys.executable, str(converter_dir() / script), *args]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise GGUFExportError(f"{script} failed (exit {done.returncode}) writing {out}:\n{tail}")
    return out


def save_tokenizer(tokenizer, folder: Path) -> None:
    """save_pretrained, plus the SentencePiece model file it came from (tokenizer.model)."""
    tokenizer.save_pretrained(folder)
    source = Path(getattr(tokenizer, "vocab_file", None) or "")
    if source.suffix == ".model" and source.is_file():
        shutil.copyfile(source, Path(folder) / "tokenizer.model")


def export_gguf(folder: str | Path, out: str | Path, dtype: str = "f16",
                name: str | None = None) -> Path:
    """Write `out` (f16 or f32 matrices; norms stay f32) from a Hugging Face model folder."""
    folder, out = Path(folder), Path(out)
    if not (folder / "config.json").is_file():
        raise GGUFExportError(f"{folder}: no config.json (not a Hugging Face model folder)")
    if dtype not in ("f16", "f32"):
        raise GGUFExportError(f"dtype must be f16 or f32, got {dtype!r}")
    args = [str(folder), "--outtype", dtype, "--outfile", str(out)]
    return run_converter("convert_hf_to_gguf.py", args + (["--model-name", name] if name else []),
                         out)


def export_lora_gguf(adapter_dir: str | Path, base_folder: str | Path, out: str | Path) -> Path:
    """A PEFT LoRA adapter as a llama.cpp LoRA GGUF (f32 factors) for `base_folder`'s GGUF."""
    adapter_dir, out = Path(adapter_dir), Path(out)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise GGUFExportError(f"{adapter_dir}: no adapter_config.json (not a PEFT adapter)")
    return run_converter("convert_lora_to_gguf.py", [
        "--base", str(base_folder), "--outtype", "f32", "--outfile", str(out), str(adapter_dir)],
        out)
