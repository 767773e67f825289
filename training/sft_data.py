"""The examples a student learns from: teacher rows read and filtered, each sample rendered as
evaluation renders it (LLMScorer.render) with its completion, answer-only rows, padding.

    from training.sft_data import build_examples, collate, teacher_rows
    train, val = build_examples(cfg, ds, scorer, tokenizer)   # lists of token-id dicts
    batch = collate(train[:4], pad_id)                        # right-padded tensors

A rationale example is the student prompt (ending in "Prediction:") + " Yes\nReasoning: ..." +
end of turn, loss on the completion only (prompt labels -100); an answer-only example (the
recipe's answer_only_samples) is the prompt + " Yes"/" No", drawn from train-split samples the
teacher did not cover. `answer_index` marks where the answer token sits (the trainer weights
it by answer_loss_weight). Validation: cfg.val_samples stratified prompts of cfg.val_split.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from reasoningrec.data import DataError
from reasoningrec.data.sampling import stratified_sample
from reasoningrec.prompts import student_completion

from .config import TrainConfig
from .teach import read_done


# A small teacher sometimes echoes its instruction instead of answering it.
ECHO_PHRASES = ("in two or three sentences", "in at most 100 words", "explain with reasoning why")


def usable_rationale(text: str, min_words: int = 8) -> bool:
    """Not an echo of the teacher prompt, and long enough to be an explanation."""
    low = text.lower()
    return len(text.split()) >= min_words and not any(p in low for p in ECHO_PHRASES)


def teacher_rows(path: Path, only_verified: bool, min_words: int = 8) -> dict[str, dict]:
    """sample_id → row; read_done first validates the file (and cuts a half-written line).
    Rows rejected by self-verification (when only_verified) or unusable are left out."""
    read_done(path, "sample_id")
    rows, dropped = {}, 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            row = json.loads(line)
            if not isinstance(row.get("rationale", ""), str):
                raise DataError(path, "rationale is not a string", line=number)
            if (only_verified and row.get("verified") is False) or \
                    not usable_rationale(row.get("rationale", ""), min_words):
                dropped += 1
                continue
            rows[row["sample_id"]] = row
    print(f"sft: {len(rows)} teacher rationales used, {dropped} left out", file=sys.stderr)
    return rows


def check_teacher_file(cfg: TrainConfig) -> None:
    """A recipe's teacher file exists (training.sft checks it before the base model loads)."""
    if cfg.teacher_jsonl and not Path(cfg.teacher_jsonl).expanduser().is_file():
        raise FileNotFoundError(f"teacher_jsonl not found: {cfg.teacher_jsonl} (write it with "
                                "python -m training.teach or training.import_teacher)")


def build_examples(cfg: TrainConfig, ds, scorer, tokenizer):
    """(train examples, validation prompts with labels)."""
    path = Path(cfg.teacher_jsonl).expanduser()
    check_teacher_file(cfg)
    if not cfg.reasoning and not cfg.teacher_jsonl:  # direct answers need labels only
        rows = {s.sample_id: {} for s in ds.splits["train"]}
    else:
        rows = teacher_rows(path, cfg.only_verified, cfg.min_rationale_words)
    by_id = {s.sample_id: s for split in ds.splits.values() for s in split}
    missing = [k for k in rows if k not in by_id]
    if missing:
        raise SystemExit(f"{path}: {len(missing)} sample ids not in {ds.name}, e.g. {missing[0]}")
    chosen = stratified_sample([by_id[k] for k in rows], cfg.train_samples, cfg.seed)
    if not chosen:
        raise SystemExit(f"{path}: no usable rationales")
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in tokenizer.get_vocab() \
        else tokenizer.eos_token_id
    train = []
    for sample in chosen:
        prompt_ids = scorer.render(ds, sample).token_ids
        completion = student_completion(sample.label, rows[sample.sample_id]["rationale"]
                                        if cfg.reasoning else None)
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        completion_ids = completion_ids[:cfg.completion_tokens - 1] + [eos]
        train.append({"input_ids": prompt_ids + completion_ids,
                      "labels": [-100] * len(prompt_ids) + completion_ids,
                      "answer_index": len(prompt_ids)})  # where " Yes"/" No" sits
    train += answer_only_examples(cfg, ds, scorer, tokenizer, exclude=set(rows))
    val = [{"input_ids": scorer.render(ds, s).token_ids, "label": s.label}
           for s in stratified_sample(ds.splits[cfg.val_split], cfg.val_samples, cfg.seed)]
    return train, val


def answer_only_examples(cfg: TrainConfig, ds, scorer, tokenizer, exclude: set) -> list[dict]:
    """cfg.answer_only_samples more train-split prompts whose only target is " Yes"/" No"
    (no end of turn: at inference the reasoning cue follows the answer)."""
    if cfg.answer_only_samples <= 0:
        return []
    pool = [s for s in ds.splits["train"] if s.sample_id not in exclude]
    out = []
    for sample in stratified_sample(pool, cfg.answer_only_samples, cfg.seed + 1):
        prompt_ids = scorer.render(ds, sample).token_ids
        answer_ids = tokenizer(student_completion(sample.label, None),
                               add_special_tokens=False)["input_ids"]
        out.append({"input_ids": prompt_ids + answer_ids,
                    "labels": [-100] * len(prompt_ids) + answer_ids,
                    "answer_index": len(prompt_ids)})
    return out


def collate(features, pad_id: int):
    """Right-pad input_ids/labels (labels with -100) and build the attention mask."""
    import torch
    width = max(len(f["input_ids"]) for f in features)
    ids = [f["input_ids"] + [pad_id] * (width - len(f["input_ids"])) for f in features]
    labels = [f["labels"] + [-100] * (width - len(f["labels"])) for f in features]
    mask = [[1] * len(f["input_ids"]) + [0] * (width - len(f["input_ids"])) for f in features]
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(mask),
            "answer_index": torch.tensor([f.get("answer_index", 0) for f in features])}
