"""teach → sft → export → llama.cpp on a tiny random-init Llama (SmolLM2 tokenizer), real data.

    .venv/bin/python -m pytest tests/test_training_e2e.py -q

The tiny model is the teacher (llama.cpp), the self-verification checker and the student;
ML-1M train samples feed a few LoRA steps; the export must reproduce the PEFT model in
llama.cpp. Independently of the exporter's own check, the library's backends (hf:+adapter and
llamacpp:base+lora / merged) must give the same P(Yes) on a real student prompt.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from reasoningrec.data import load_dataset
from reasoningrec.models.gguf_export import export_lora_gguf
from reasoningrec.models.hf import HFBackend
from reasoningrec.models.llamacpp import LlamaCppBackend
from reasoningrec.scoring.llm import LLMScorer
from tiny_model import tiny_model  # noqa: F401  (session fixture)
from training import export, sft, teach

ROOT = Path(__file__).resolve().parent.parent


def test_lora_gguf_reproduces_a_random_peft_adapter(tiny_model, tmp_path):  # noqa: F811
    """A LoRA with random A and B on q/k/v/o (so a wrong q/k permutation or a transposed
    factor shows): llama.cpp base+lora.gguf must match PEFT, and differ from the base alone."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model.hf_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model.hf_dir)
    peft_model = get_peft_model(base, LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False)).eval()
    peft_model.save_pretrained(tmp_path / "adapter")
    lora = export_lora_gguf(tmp_path / "adapter", tiny_model.hf_dir, tmp_path / "lora.gguf")
    texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True)
             + "Prediction:" for c in export.VERIFY_CHATS]
    ids, reference = export.hf_logits(peft_model, tokenizer, texts)
    with_lora = export.cosine(reference, export.gguf_logits(tiny_model.gguf, lora, texts, ids))
    without = export.cosine(reference, export.gguf_logits(tiny_model.gguf, None, texts, ids))
    assert with_lora >= 0.999, with_lora
    assert without < 0.99, without  # the adapter matters, so the match above means something


def test_teach_sft_export_end_to_end(tiny_model, data_dir, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CPU_CORES", "2")
    spec = f"llamacpp:{tiny_model.gguf}"
    jsonl = tmp_path / "teacher.jsonl"
    assert teach.main(["--teacher", spec, "--verify-with", spec, "--out", str(jsonl),
                       "--data-dir", str(data_dir), "--split", "train", "--sample-k", "4",
                       "--context", "320", "--max-tokens", "8", "--no-progress", "--json"]) == 0
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert sorted(r["label"] for r in rows) == [0, 0, 1, 1]
    assert all(isinstance(r["verified"], bool) and 0 <= r["checker_p_yes"] <= 1 for r in rows)

    run = tmp_path / "run"
    assert sft.main(["--model", str(tiny_model.hf_dir), "--dataset", "ml1m",
                     "--data_dir", str(data_dir), "--teacher_jsonl", str(jsonl),
                     "--only_verified", "false", "--min_rationale_words", "0",
                     "--output_dir", str(run),
                     "--train_samples", "4", "--val_samples", "4", "--batch_size", "4",
                     "--micro_batch_size", "2", "--epochs", "2", "--max_length", "320",
                     "--completion_tokens", "24", "--learning_rate", "5e-2",
                     "--target_modules", "q_proj,v_proj", "--json"]) == 0
    meta = json.loads((run / "train_meta.json").read_text())
    # epoch 0 (the untrained model), then one point per epoch
    assert meta["steps"] == 2 and [e for e, _ in meta["val_auc"]] == [0, 1, 2]
    assert (run / "auc.png").stat().st_size > 0 and (run / "adapter" / "adapter_model.safetensors").is_file()
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("loss" in e for e in log) and any("eval_auc" in e for e in log)

    # benchmarks/sweep_table.py reads the same curve back, and a cut run's from its checkpoints
    cut = tmp_path / "cut"
    shutil.copytree(run, cut)
    (cut / "train_meta.json").unlink()
    table = tmp_path / "curves"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep_table.py"), "--runs",
                    str(run), str(cut), "--val-n", "4", "--out", str(table)], check=True,
                   capture_output=True, timeout=120)
    finished, cut_run = json.loads(table.with_suffix(".json").read_text())["runs"]
    assert finished["points"] == meta["val_auc"] and finished["finished"]
    assert (finished["train_samples"], finished["steps"]) == (4, 2)
    assert not cut_run["finished"] and cut_run["points"] == meta["val_auc"][1:]  # no epoch 0
    best = max(meta["val_auc"][1:], key=lambda p: p[1])[0]
    assert finished["best_epoch"] == cut_run["best_epoch"] == best
    assert "| run | finished | K |" in table.with_suffix(".md").read_text()
    spec = importlib.util.spec_from_file_location("sweep_table", ROOT / "benchmarks" / "sweep_table.py")
    sweep_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep_table)
    (cut / "train_meta.json").write_text(json.dumps({**meta, "cut": "rebuilt after a time limit"}))
    assert sweep_table.read_run(run)["finished"] and not sweep_table.read_run(cut)["finished"]

    out = tmp_path / "gguf"
    assert export.main(["--adapter", str(run / "adapter"), "--out", str(out)]) == 0
    report = json.loads((out / "export_report.json").read_text())
    assert report["cosine"]["model-f16"] >= 0.999
    assert report["cosine"]["base-f16+lora"] >= 0.999
    assert report["cosine"]["model-q8_0"] >= 0.99

    # ship: the app's assets get the adapter (both forms) and the prompt options it learnt on
    from training import ship
    shipped = tmp_path / "student"
    assert ship.main(["--run", str(run), "--export", str(out), "--out", str(shipped),
                      "--name", "student-tiny", "--default-for", "fashion, ml1m",
                      "--teacher", "a test teacher", "--repeat-penalty", "1.1",
                      "--decode-for", "fashion:repeat_penalty=1.0,max-tokens=256"]) == 0
    student = json.loads((shipped / "student.json").read_text())
    assert (student["name"], student["default_for"]) == ("student-tiny", ["fashion", "ml1m"])
    assert student["decode"] == {"repeat_penalty": 1.1}   # a dataset's own over it, defaults kept
    assert student["decode_by_dataset"] == {"fashion": {"repeat_penalty": 1.0, "max_tokens": 256}}
    from reasoningrec.scoring.registry import default_student, discover_students
    assert default_student("fashion", discover_students(tmp_path)) == "student-tiny"
    assert default_student("beauty", discover_students(tmp_path)) == "student"
    options = student["prompt_options"]
    assert options["with_profile"] is True and options["with_description"] is True
    assert "history_k" not in options  # None in the run: all history that fits
    assert student["val_auc_per_epoch"] == meta["val_auc"]
    assert (shipped / "adapter.gguf").read_bytes() == (out / "lora.gguf").read_bytes()
    assert (shipped / "peft" / "adapter_model.safetensors").is_file()
    assert any("train_runtime" in json.loads(line) for line in
               (shipped / "train_log.jsonl").read_text().splitlines())

    # Independent check through the library's backends, on a real student prompt as eval renders it.
    ds = load_dataset("ml1m", data_dir)
    sample = ds.splits["valid"][0]
    hf = HFBackend(str(tiny_model.hf_dir), str(run / "adapter"))
    p_hf = LLMScorer(hf, context=320, max_new_tokens=24).predict(ds, sample).p_yes
    for gguf, lora in ((out / "model-f16.gguf", None), (out / "base-f16.gguf", out / "lora.gguf")):
        backend = LlamaCppBackend(gguf, lora, n_ctx=512)
        p_cpp = LLMScorer(backend, context=320, max_new_tokens=24).predict(ds, sample).p_yes
        backend.close()
        assert np.isclose(p_cpp, p_hf, atol=0.01), (gguf.name, p_cpp, p_hf)
