"""`reasoningrec models export-gguf` as a real subprocess: a tiny Llama folder to a GGUF and
its random LoRA to a LoRA GGUF (llama.cpp's converters, read back with the gguf package), and
the one-line errors for a folder that is no model.

    .venv/bin/python -m pytest tests/test_cli_models.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tiny_model import build_tiny_model

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoningrec", "models", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def gguf_fields(path: Path) -> dict:
    from gguf import GGUFReader
    reader = GGUFReader(path)
    return {"type": reader.fields["general.type"].contents(),
            "architecture": reader.fields["general.architecture"].contents(),
            "tensors": {t.name for t in reader.tensors}}


@pytest.mark.slow   # two converter runs and a tiny model: minutes on a loaded 2-core machine
def test_export_gguf_writes_a_model_and_a_lora(tmp_path):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM
    tiny = build_tiny_model(tmp_path, gguf=False)
    run = cli("export-gguf", str(tiny.hf_dir), str(tmp_path / "model.gguf"), "--dtype", "f32",
              "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {"gguf": str(tmp_path / "model.gguf")}
    model = gguf_fields(tmp_path / "model.gguf")
    assert model["type"] == "model" and model["architecture"] == "llama"
    assert "blk.1.attn_q.weight" in model["tensors"]

    torch.manual_seed(0)
    peft_model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny.hf_dir), LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    peft_model.save_pretrained(tmp_path / "adapter")
    run = cli("export-gguf", str(tmp_path / "adapter"), str(tmp_path / "lora.gguf"),
              "--lora-base", str(tiny.hf_dir))
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"lora_gguf: {tmp_path / 'lora.gguf'}"
    lora = gguf_fields(tmp_path / "lora.gguf")
    assert lora["type"] == "adapter"
    assert {"blk.0.attn_q.weight.lora_a", "blk.1.attn_v.weight.lora_b"} <= lora["tensors"]


def test_export_gguf_refuses_what_is_no_model_in_one_line(tmp_path):
    for args, says in [((str(tmp_path), str(tmp_path / "x.gguf")), "no config.json"),
                       ((str(tmp_path), str(tmp_path / "x.gguf"), "--lora-base", str(tmp_path)),
                        "no adapter_config.json")]:
        run = cli("export-gguf", *args)
        assert run.returncode == 2 and says in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "x.gguf").exists()
