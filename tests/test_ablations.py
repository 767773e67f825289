"""The paper's ablations as flags: each changes the rendered prompt as it should, reports keep
them apart, and a student without reasoning trains (tiny model, real data).

    nice -n 19 .venv/bin/python -m pytest tests/test_ablations.py -q
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.data.schema import Dataset
from reasoningrec.evaluate.report import default_report_dir, prepare
from reasoningrec.models.hf import HFBackend
from reasoningrec.models.loader import load_backend
from reasoningrec.scoring.llm import LLMScorer
from reasoningrec.scoring.options import PromptOptions, add_prompt_args, prompt_options
from training import sft, sft_data, teach
from training.config import load_config

REASONING_ASK = "then explain with reasoning"


def options(*flags) -> PromptOptions:
    parser = argparse.ArgumentParser()
    add_prompt_args(parser)
    return prompt_options(parser.parse_args(list(flags)))


@pytest.fixture(scope="module")
def tiny(tiny_model):  # noqa: F811
    return load_backend(f"llamacpp:{tiny_model.gguf}")


def rendered(backend, ds, sample, *flags):
    scorer = LLMScorer(backend, "student", options(*flags), max_new_tokens=16)
    fitted = scorer.render(ds, sample)
    return scorer, fitted, fitted.text


def test_each_flag_changes_the_prompt_as_it_says(ml1m, fashion, tiny):
    sample = ml1m.sample("test", "1")
    _, full_fit, full = rendered(tiny, ml1m, sample)
    assert "User Profile - " in full and "Description: " in full and REASONING_ASK in full
    assert "User Profile - " not in rendered(tiny, ml1m, sample, "--no-profile")[2]
    assert "Description: " not in rendered(tiny, ml1m, sample, "--no-description")[2]
    _, fit, text = rendered(tiny, ml1m, sample, "--history-k", "5")
    assert [e.item_id for e in fit.kept] == [e.item_id for e in sample.history[-5:]]
    assert ml1m.item(sample.history[0].item_id).title not in text
    # Fashion profiles are real LLM text: the flag removes them too.
    fs = next(s for s in fashion.splits["test"] if fashion.users[s.user_id].profile)
    with_profile = rendered(tiny, fashion, fs)[2]
    assert fashion.users[fs.user_id].profile[:60] in with_profile
    assert fashion.users[fs.user_id].profile[:60] not in rendered(tiny, fashion, fs,
                                                                  "--no-profile")[2]


def test_no_reasoning_is_the_direct_yes_no_prompt(ml1m, tiny):
    sample = ml1m.sample("test", "1")
    scorer, fit, text = rendered(tiny, ml1m, sample, "--no-reasoning")
    _, _, full = rendered(tiny, ml1m, sample)
    assert scorer.template == "student_direct/v1" and not scorer.writes_rationale
    assert REASONING_ASK not in text and "Reasoning:" not in text
    assert text.endswith("Prediction:") and "Prediction: Yes or No" in text
    # Everything before the request is the same prompt.
    cut = full.index("Predict whether")
    assert text[:cut] == full[:cut]
    pred = scorer.predict(ml1m, sample, explain=True)
    assert pred.rationale is None and pred.p_yes == pytest.approx(tiny.p_yes(text).p_yes)
    assert pred.extra["template"] == "student_direct/v1"
    assert [kind for kind, _ in scorer.stream_explanation(ml1m, sample)] == ["prediction"]


def test_relevant_history_picks_the_most_similar_items(ml1m, tiny):
    """--history relevant on a one-user catalogue (so MiniLM embeds 21 items, not 3,883):
    the kept items are the 5 with the highest cosine to the candidate, computed here."""
    from reasoningrec.retrieval import embed_text, encode
    sample = ml1m.sample("test", "1")
    ids = [e.item_id for e in sample.history] + [sample.target]
    small = Dataset("ml1m-one-user", "movie", {i: ml1m.item(i) for i in ids},
                    {sample.user_id: ml1m.users[sample.user_id]}, {"test": [sample]})
    _, fit, _ = rendered(tiny, small, sample, "--history", "relevant", "--history-k", "5")
    vectors = encode([embed_text(small.item(i)) for i in ids])
    cosine = vectors[:-1] @ vectors[-1]
    best = {ids[i] for i in np.argsort(-cosine)[:5]}
    assert {e.item_id for e in fit.kept} == best
    assert [e.item_id for e in fit.kept] == [i for i in ids[:-1] if i in best]  # oldest first
    assert best != set(ids[-6:-1])  # different from the most recent five here


def test_reports_keep_ablations_apart_and_old_reports_resume(tmp_path):
    base = {"dataset": "ml1m", "split": "test", "model": "student", "limit": 4, "n": 4,
            "seed": 42, "explanations": False}
    plain = {**base, "prompt": {"with_profile": True, "with_description": True,
                                "history_k": None, "history_mode": "recent"}}
    direct = {**base, "prompt": {**plain["prompt"], "reasoning": False}}
    assert default_report_dir(direct).name.endswith("-noreason")
    assert default_report_dir(plain) != default_report_dir(direct)
    prepare(tmp_path, plain, overwrite=False)  # written before `reasoning` existed
    prepare(tmp_path, {**base, "prompt": {**plain["prompt"], "reasoning": True}}, False)
    with pytest.raises(ValueError, match="different run"):
        prepare(tmp_path, direct, overwrite=False)


def test_teach_history_flags_choose_the_shown_items(tiny_model, ml1m):  # noqa: F811
    args = teach.build_parser().parse_args(["--teacher", f"llamacpp:{tiny_model.gguf}", "--out",
                                            "unused.jsonl", "--history-k", "3", "--context",
                                            "2048", "--max-tokens", "8"])
    backend = load_backend(args.teacher, n_ctx=2048)
    sample = ml1m.sample("train", "1")
    job = teach.make_jobs("rationale", ml1m, [sample], backend, args)[0]
    text = job.messages[-1]["content"]
    titles = [ml1m.item(e.item_id).title for e in sample.history]
    assert all(t in text for t in titles[-3:]) and titles[0] not in text
    assert args.history_mode == "recent"


def test_student_without_reasoning_trains_on_yes_no_only(tiny_model, data_dir,  # noqa: F811
                                                          tmp_path, monkeypatch):
    from transformers import AutoTokenizer
    monkeypatch.setenv("CPU_CORES", "2")
    teacher = tmp_path / "teacher.jsonl"  # a full run's rows: the direct student reuses its samples
    from reasoningrec.data import load_dataset
    ds = load_dataset("ml1m", data_dir)
    picked = [s for s in ds.splits["train"] if s.label == 1][:2] + \
             [s for s in ds.splits["train"] if s.label == 0][:2]
    teacher.write_text("".join(json.dumps({"sample_id": s.sample_id, "rationale": "long text " * 50,
                                           "label": s.label}) + "\n" for s in picked))
    overrides = {"model": str(tiny_model.hf_dir), "dataset": "ml1m", "data_dir": str(data_dir),
                 "teacher_jsonl": str(teacher), "reasoning": "false", "train_samples": "4",
                 "val_samples": "4", "max_length": "512", "completion_tokens": "24"}
    cfg = load_config(None, overrides)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model.hf_dir)
    scorer = LLMScorer(HFBackend.wrap(tokenizer), "student",
                       PromptOptions(reasoning=cfg.reasoning), max_new_tokens=24, context=512)
    train, _ = sft_data.build_examples(cfg, ds, scorer, tokenizer)
    by_prompt = {}
    for example in train:
        ids = example["input_ids"]
        completion = [t for t, label in zip(ids, example["labels"]) if label != -100]
        prompt = tokenizer.decode(ids[:len(ids) - len(completion)])
        by_prompt[prompt] = tokenizer.decode(completion)
        assert REASONING_ASK not in prompt and prompt.endswith("Prediction:")
    assert sorted(by_prompt.values()) == sorted([" Yes<|im_end|>"] * 2 + [" No<|im_end|>"] * 2)

    run = tmp_path / "run"
    args = [f"--{k}={v}" for k, v in overrides.items() if k != "teacher_jsonl"]  # no teacher at all
    assert sft.main(args + ["--output_dir", str(run), "--batch_size", "4", "--micro_batch_size",
                            "2", "--epochs", "1", "--learning_rate", "5e-2", "--json"]) == 0
    meta = json.loads((run / "train_meta.json").read_text())
    assert meta["config"]["reasoning"] is False and meta["steps"] == 1
    assert (run / "adapter" / "adapter_model.safetensors").is_file()

    # warm start (init_adapter): at learning rate 0 the second run keeps the first run's adapter
    import torch
    from peft.utils import load_peft_weights
    warm = tmp_path / "warm"
    assert sft.main(args + ["--output_dir", str(warm), "--batch_size", "4", "--micro_batch_size",
                            "2", "--epochs", "1", "--learning_rate", "0", "--init_adapter",
                            str(run / "adapter"), "--eval_before_training", "false"]) == 0
    first, second = (load_peft_weights(str(r / "adapter")) for r in (run, warm))
    assert first.keys() == second.keys() and any(t.abs().sum() > 0 for t in first.values())
    assert all(torch.equal(first[k], second[k]) for k in first)
    with pytest.raises(ValueError, match="its r is 8, the recipe's lora_r is 16"):
        load_config(None, {**overrides, "init_adapter": str(run / "adapter"), "lora_r": "16"})
    with pytest.raises(ValueError, match="not a PEFT adapter folder"):
        load_config(None, {**overrides, "init_adapter": str(tmp_path)})


def test_answer_only_samples_add_labelled_prompts_without_rationales(tiny_model, data_dir,  # noqa: F811
                                                                      tmp_path, monkeypatch):
    """The hybrid recipe's extra samples: other train-split users, the same (evidence) prompt,
    the answer token as the only target; the teacher's rows keep their rationales."""
    from transformers import AutoTokenizer

    from reasoningrec.data import load_dataset
    ds = load_dataset("ml1m", data_dir)
    picked = [s for s in ds.splits["train"] if s.label == 1][:2] + \
             [s for s in ds.splits["train"] if s.label == 0][:2]
    teacher = tmp_path / "teacher.jsonl"
    teacher.write_text("".join(json.dumps({"sample_id": s.sample_id, "label": s.label,
                                           "rationale": "It fits the kind of films this user liked before."})
                               + "\n" for s in picked))
    monkeypatch.setenv("HOME", str(tmp_path))  # a recipe's "~/..." teacher path is read too
    cfg = load_config(None, {"model": str(tiny_model.hf_dir), "dataset": "ml1m",
                             "data_dir": str(data_dir), "teacher_jsonl": "~/teacher.jsonl",
                             "train_samples": "4", "answer_only_samples": "6", "val_samples": "4",
                             "evidence": "true", "history_k": "5", "max_length": "512",
                             "completion_tokens": "24"})
    tokenizer = AutoTokenizer.from_pretrained(tiny_model.hf_dir)
    scorer = LLMScorer(HFBackend.wrap(tokenizer), "student",
                       PromptOptions(history_k=5, evidence=True), max_new_tokens=24, context=512)
    train, _ = sft_data.build_examples(cfg, ds, scorer, tokenizer)
    assert len(train) == 10
    answers = []
    for example in train[4:]:
        ids, labels = example["input_ids"], example["labels"]
        target = [t for t, label in zip(ids, labels) if label != -100]
        answers.append(tokenizer.decode(target))
        assert example["answer_index"] == len(ids) - len(target)
        assert "Community evidence" in tokenizer.decode(ids)
    assert sorted(answers) == [" No"] * 3 + [" Yes"] * 3      # stratified, no end of turn
    assert all("Reasoning:" in tokenizer.decode([t for t, lab in zip(e["input_ids"], e["labels"])
                                                 if lab != -100]) for e in train[:4])


def test_ablation_table_plans_rows_from_the_students_own_options():
    """A student trained without descriptions gets "+ description" instead of a repeat of
    "full"; AUC and explanation cells split when another model or n writes the rationales."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import ablation_table as table
    rows = table.table_rows({"with_description": False})
    assert [r[0] for r in rows][2].startswith("+ description") and len(rows) == 5
    assert [r[0] for r in table.table_rows({})] == [r[0] for r in table.ROWS]
    args = argparse.Namespace(datasets=["ml1m"], limit=None, explain_limit=None, no_explain=False,
                              specs={"student": "s", "direct": "s", "zero-shot": "zero-shot:z",
                                     "explain": "s"})
    one = table.plan(args, rows)
    assert [(c[2], c[4]) for c in one] == [("auc", True)] * 3 + [("auc", False)] * 2
    args.specs["explain"], args.explain_limit = "llamacpp:x.gguf", 100
    split = table.plan(args, rows)
    assert [(c[2], c[3], c[5]) for c in split if c[2] == "explain"] == \
        [("explain", "llamacpp:x.gguf", 100)] * 3
    assert all(not c[4] for c in split if c[2] == "auc")
    args.no_explain = True
    assert all(c[2] == "auc" and not c[4] for c in table.plan(args, rows))
