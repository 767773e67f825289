"""LoRA distillation of teacher rationales into a student, early-stopped on validation AUC.

    python -m training.sft --config training/recipes/smollm2-cpu-ml1m.yaml \\
        --teacher_jsonl runs/teacher/ml1m-train.jsonl [--key value ...]     # any recipe key
    accelerate launch --config_file training/accelerate/ddp.yaml -m training.sft --config ...
    accelerate launch --config_file training/accelerate/fsdp.yaml -m training.sft --config ...

Data (training/sft_data.py): the teacher JSONL (training.teach) joined with the dataset's
samples on `sample_id` (unverified rows dropped when only_verified), K of them stratified 50/50
by label, each rendered exactly as evaluation renders it, with the completion " Yes\nReasoning:
..." + end of turn; `--reasoning false` trains the "w/o reasoning" ablation (the student_direct
prompt, the completion " Yes"/" No" alone; a given teacher_jsonl still picks the same samples);
`answer_only_samples: N` adds N train-split prompts trained on the answer token alone. Loss is
on the completion only: a transformers Trainer doing what TRL's SFTTrainer does with
prompt-completion data, with fewer moving parts.

Validation: after every epoch, P(Yes) at the answer position on a fixed stratified subset
(val_samples) from the HF model in eval mode, batched, no generation; ROC-AUC of it picks the
best epoch and stops training after `patience` epochs without improvement. Runs on CUDA
(bf16/fp16) or CPU (fp32), resumes from the last checkpoint in output_dir, and writes
output_dir/adapter (PEFT; the best epoch), log.jsonl (Trainer log), auc.png (validation AUC per
epoch) and train_meta.json (the resolved recipe, base model, best AUC) for training.export.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from reasoningrec.data import DataError, load_dataset
from reasoningrec.evaluate.metrics import UndefinedMetric, roc_auc as exact_roc_auc
from reasoningrec.models.base import answer_token_ids, score_from_vector
from reasoningrec.models.hf import HFBackend, last_token_logprobs
from reasoningrec.scoring.llm import LLMScorer
from reasoningrec.scoring.options import prompt_options

from .config import ConfigError, TrainConfig, add_arguments, load_config, to_dict
from .sft_data import build_examples, check_teacher_file, collate


def load_base(spec: str, dtype=None):
    """(model, tokenizer) for an HF folder, a Hub id, a .gguf file or 'smollm2'. A GGUF is
    read as its fp32 folder (reasoningrec/models/gguf_folder.py); a quantization config is
    removed so the model trains and saves."""
    import torch
    from transformers import AutoModelForCausalLM

    from reasoningrec.models.gguf_folder import transformers_source
    from reasoningrec.models.hf import load_tokenizer
    from reasoningrec.models.registry import resolve_local, smollm2_gguf

    source = smollm2_gguf() if spec == "smollm2" else resolve_local(spec, "base model")
    if str(source).endswith(".gguf"):
        dtype = torch.float32
    source = transformers_source(source)  # a GGUF: its dequantised folder, made once
    tokenizer = load_tokenizer(source)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype or torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def roc_auc(labels, scores) -> float:
    """Validation ROC-AUC; NaN when the subset holds one class only (nothing to rank)."""
    try:
        return exact_roc_auc(labels, scores)
    except UndefinedMetric:
        return float("nan")


def validation_p_yes(model, val, pad_id: int, answer_ids, batch_size: int) -> list[float]:
    """P(Yes) at the last prompt token (reasoningrec.models.hf.last_token_logprobs)."""
    was_training = model.training
    model.eval()
    rows = last_token_logprobs(model, [v["input_ids"] for v in val], pad_id, batch_size)
    model.train(was_training)
    return [score_from_vector(row, answer_ids).p_yes for row in rows]


def make_trainer_class():
    from transformers import Trainer

    class AUCTrainer(Trainer):
        """evaluate() = validation AUC of P(Yes) (what early stopping and 'best' look at)."""

        def setup_validation(self, val, pad_id, answer_ids, batch_size, answer_weight=1.0):
            self.val, self.pad_id, self.answer_ids, self.val_batch = val, pad_id, answer_ids, \
                batch_size
            self.answer_weight = answer_weight

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            """Completion-only loss; the answer token weighs `answer_weight` times a rationale
            token (1: the paper, every completion token alike)."""
            answer_index = inputs.pop("answer_index")
            if getattr(self, "answer_weight", 1.0) == 1.0:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            import torch
            import torch.nn.functional as F
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            target = labels[:, 1:]
            token_loss = F.cross_entropy(outputs.logits[:, :-1].float().transpose(1, 2), target,
                                         ignore_index=-100, reduction="none")
            weights = (target != -100).float()
            rows = torch.arange(len(target), device=target.device)
            weights[rows, answer_index - 1] *= self.answer_weight  # logits at i predict i+1
            loss = (token_loss * weights).sum() / weights.sum()
            return (loss, outputs) if return_outputs else loss

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
            scores = validation_p_yes(self.model, self.val, self.pad_id, self.answer_ids,
                                      self.val_batch)
            auc = roc_auc([v["label"] for v in self.val], scores)
            metrics = {f"{metric_key_prefix}_auc": 0.5 if math.isnan(auc) else auc,
                       f"{metric_key_prefix}_mean_p_yes": sum(scores) / len(scores)}
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(self.args, self.state,
                                                             self.control, metrics)
            return metrics

    return AUCTrainer


def precision_flags(cfg: TrainConfig) -> dict:
    import torch
    mode = cfg.precision
    if mode == "auto":
        mode = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") \
            if torch.cuda.is_available() else "fp32"
    flags = {"bf16": mode == "bf16", "fp16": mode == "fp16"}
    if mode == "bf16" and torch.cuda.is_available():
        flags["tf32"] = True  # the fp32 validation forwards on TF32 tensor cores (Ampere and newer)
    return flags


def write_outputs(out: Path, trainer, cfg: TrainConfig, base: str,
                  before: dict | None = None) -> dict:
    history = trainer.state.log_history
    with open(out / "log.jsonl", "w") as f:
        for entry in history:
            f.write(json.dumps(entry) + "\n")
    points = [(e.get("epoch") or 0, e["eval_auc"]) for e in history if "eval_auc" in e]
    if before:  # train() starts a fresh log history, so the epoch-0 point comes separately
        points.insert(0, (0, before["eval_auc"]))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
    ax.set(xlabel="epoch", ylabel="validation AUC of P(Yes)", title=f"{cfg.dataset} LoRA SFT")
    fig.tight_layout()
    fig.savefig(out / "auc.png", dpi=120)
    plt.close(fig)
    meta = {"base_model": base, "config": to_dict(cfg), "epochs_run": trainer.state.epoch,
            "steps": trainer.state.global_step, "best_auc": trainer.state.best_metric,
            "best_checkpoint": trainer.state.best_model_checkpoint, "val_auc": points}
    (out / "train_meta.json").write_text(json.dumps(meta, indent=2))
    return meta


def train(cfg: TrainConfig, base=None, callbacks=()) -> dict:
    """Train per `cfg`. `base` = (model, tokenizer) already built (benchmarks/gpu_sft_shape.py
    passes a random-init model of a given shape); `callbacks` are extra TrainerCallbacks."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import EarlyStoppingCallback, TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    from reasoningrec.config import cpu_threads

    torch.set_num_threads(cfg.num_threads or cpu_threads())
    torch.manual_seed(cfg.seed)
    flags = precision_flags(cfg)
    dtype = torch.bfloat16 if flags["bf16"] else torch.float16 if flags["fp16"] else None
    ds = load_dataset(cfg.dataset, cfg.data_dir)  # bad inputs fail before the model loads
    check_teacher_file(cfg)
    model, tokenizer = base or load_base(cfg.model, dtype)
    if flags["fp16"]:
        model = model.float()  # fp16 AMP wants fp32 master weights for the LoRA parameters
    # LLMScorer.render gives training and validation the very prompts evaluation uses
    backend = HFBackend.wrap(tokenizer, name="hf:training")
    scorer = LLMScorer(backend, "student", prompt_options(cfg),
                       max_new_tokens=cfg.completion_tokens, context=cfg.max_length)
    train_set, val = build_examples(cfg, ds, scorer, tokenizer)
    if cfg.gradient_checkpointing:  # frozen embeddings: checkpointed blocks need grad inputs
        model.enable_input_require_grads()
    lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=cfg.target_modules, task_type="CAUSAL_LM")
    model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True) \
        if cfg.init_adapter else get_peft_model(model, lora)   # the shape checked by the config
    world = int(os.environ.get("WORLD_SIZE", "1"))
    accumulation = max(1, cfg.batch_size // (cfg.micro_batch_size * world))
    out = Path(cfg.output_dir)
    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=cfg.micro_batch_size,
        gradient_accumulation_steps=accumulation, learning_rate=cfg.learning_rate,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps, warmup_steps=cfg.warmup,
        weight_decay=cfg.weight_decay, eval_strategy="epoch", save_strategy="epoch",
        save_total_limit=cfg.save_total_limit, load_best_model_at_end=True,
        metric_for_best_model="auc", greater_is_better=True, logging_steps=cfg.logging_steps,
        seed=cfg.seed, report_to=[], remove_unused_columns=False,
        ddp_find_unused_parameters=False,
        **({"gradient_checkpointing": True} if cfg.gradient_checkpointing else {}),
        disable_tqdm=False, use_cpu=not torch.cuda.is_available(), **flags)
    trainer = make_trainer_class()(
        model=model, args=args, train_dataset=train_set, eval_dataset=val,
        data_collator=lambda f: collate(f, tokenizer.pad_token_id),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience), *callbacks])
    trainer.setup_validation(val, tokenizer.pad_token_id, answer_token_ids(backend.tokenize),
                             cfg.micro_batch_size * 2, cfg.answer_loss_weight)
    last = get_last_checkpoint(str(out)) if cfg.resume and out.is_dir() else None
    before = None
    if last is None and cfg.eval_before_training:  # epoch 0 of the curve: the base model
        before = trainer.evaluate()
    trainer.train(resume_from_checkpoint=last)
    meta = {"resumed_from": last, "train_examples": len(train_set), "val_samples": len(val),
            "train_tokens": sum(len(x["input_ids"]) for x in train_set),
            "steps_per_epoch": math.ceil(len(train_set) / (cfg.micro_batch_size * world)
                                         / accumulation)}
    if trainer.is_world_process_zero():
        trainer.model.save_pretrained(out / "adapter")
        tokenizer.save_pretrained(out / "adapter")
        meta.update(write_outputs(out, trainer, cfg, str(cfg.model), before))
    return meta


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.sft", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", help="YAML recipe (training/recipes/*.yaml); flags override it")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_arguments(p)
    return p


def main(argv=None) -> int:
    args = vars(build_parser().parse_args(argv))
    recipe, as_json = args.pop("config", None), args.pop("json", False)
    try:
        cfg = load_config(recipe, args)
        meta = train(cfg)
    except (DataError, FileNotFoundError, ConfigError) as exc:  # bad input: one line, no traceback
        print(f"training.sft: error: {exc}", file=sys.stderr)
        return 2
    summary = {k: meta.get(k) for k in ("best_auc", "epochs_run", "steps", "train_examples",
                                        "val_samples", "resumed_from", "val_auc")}
    summary["output_dir"] = cfg.output_dir
    print(json.dumps(summary) if as_json else "\n".join(f"{k:>16}: {v}"
                                                       for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
