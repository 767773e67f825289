"""A GGUF file as a transformers model folder, converted once into the cache folder.

    from reasoningrec.models.gguf_folder import transformers_source
    source = transformers_source(path)   # a .gguf -> its converted folder; anything else as is
    AutoModelForCausalLM.from_pretrained(source); load_tokenizer(source)

transformers reads a `.gguf` (`gguf_file=`) by parsing its metadata and tokenizer in Python
and dequantising every tensor: ~35 s for SmolLM2-135M on 2 CPU cores (~11 s of it the
tokenizer), on every load, in every process. The hf: backend, the tokenizers of OpenAI-served
students and `training.sft` all go through here instead: the first use writes the dequantised
float32 weights (safetensors), config and tokenizer to
`$REASONINGREC_CACHE_DIR/gguf-as-transformers/<key>/` (~540 MB for SmolLM2), later loads read
that folder in a few seconds. The key hashes the file's resolved path, size and modification
time and the transformers version, so a changed file or library converts again. Written to a
temporary folder and renamed, so a killed run leaves no half folder; two processes converting
at once both succeed (the second keeps the first's folder).
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from ..config import cache_dir

FOLDER = "gguf-as-transformers"
stats = {"conversions": 0}  # lets tests see the conversion happen once


def folder_for(gguf: Path) -> Path:
    """Where `gguf`'s converted folder lives (made or not)."""
    import transformers
    gguf = Path(gguf).expanduser().resolve()
    info = gguf.stat()
    key = f"{gguf}\0{info.st_size}\0{info.st_mtime_ns}\0{transformers.__version__}"
    name = f"{gguf.stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    return cache_dir() / FOLDER / name


def convert(gguf: Path, out: Path) -> None:
    """Dequantise `gguf` with transformers and save model, config and tokenizer into `out`."""
    import torch
    from transformers import AutoModelForCausalLM

    from .hf import load_tokenizer
    gguf = Path(gguf).expanduser().resolve()
    extra = {"gguf_file": gguf.name}
    tokenizer = load_tokenizer(gguf.parent, **extra)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **extra)
    if getattr(model, "hf_quantizer", None) is not None:  # the weights are float32 now
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def transformers_source(source):
    """`source` itself, unless it is a `.gguf` file: then its converted folder (made now on
    first use). Non-GGUF files are returned as they are, for the caller to refuse."""
    if not (isinstance(source, (str, Path)) and str(source).endswith(".gguf")
            and Path(source).expanduser().is_file()):
        return source
    final = folder_for(Path(source))
    if (final / "config.json").is_file():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        convert(Path(source), tmp)
        stats["conversions"] += 1
        try:
            tmp.rename(final)
        except OSError:  # another process finished first: keep its folder
            if not (final / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final
