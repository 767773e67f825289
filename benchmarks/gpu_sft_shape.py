"""GPU check of the SFT recipes' shape: a random-init Llama of a chosen size trained by
training.sft for a few steps on CUDA; prints tokens/s and peak GPU memory as JSON.

    python benchmarks/gpu_sft_shape.py --recipe training/recipes/paper-ml1m-7b.yaml \\
        --shape llama2-7b --tokenizer .gpu/tokenizer --data-dir .gpu/data \\
        --teacher-jsonl .gpu/ml1m-train.jsonl --steps 8 --out $OUT/llama2-7b.json

The weights are random (no 7B checkpoint can be downloaded here): the point is the recipe's
cost on real prompts — sequence lengths, LoRA on q/v, bf16, micro-batch 4 x accumulation 2,
gradient checkpointing, validation P(Yes) batches — not the loss. The vocabulary is the SmolLM2
tokenizer's (49,152) for every shape, so prompts are the ones evaluation renders.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# hidden, intermediate, layers, heads, kv heads
SHAPES = {"smollm2-135m": (576, 1536, 30, 9, 3), "llama2-7b": (4096, 11008, 32, 32, 32),
          "tiny": (64, 128, 2, 4, 2)}


def build_model(shape: str, tokenizer, dtype, device: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM
    hidden, inter, layers, heads, kv = SHAPES[shape]
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=inter,
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=kv, max_position_embeddings=4096,
                         tie_word_embeddings=shape == "smollm2-135m",
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    torch.manual_seed(0)
    with torch.device(device):  # built on the GPU directly: a 7B init on the CPU takes minutes
        model = LlamaForCausalLM(config).to(dtype)
    return model, sum(p.numel() for p in model.parameters())


def make_timer():
    from transformers import TrainerCallback

    class StepTimer(TrainerCallback):
        """Wall time of each optimizer step (CUDA-synchronised) and of each validation."""

        def __init__(self):
            self.steps, self.evals, self._t = [], [], 0.0

        def _now(self):
            import torch
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            return time.perf_counter()

        def on_step_begin(self, args, state, control, **kw):
            self._t = self._now()

        def on_step_end(self, args, state, control, **kw):
            self.steps.append(self._now() - self._t)

        def on_evaluate(self, args, state, control, **kw):
            self.evals.append(state.global_step)

    return StepTimer()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="training/recipes/paper-ml1m-7b.yaml",
                    help="training recipe whose settings are used (model key ignored)")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="smollm2-135m",
                    help="model shape to build with random weights")
    ap.add_argument("--tokenizer", required=True, help="HF tokenizer folder (SmolLM2's)")
    ap.add_argument("--data-dir", required=True, help="data directory holding the dataset")
    ap.add_argument("--teacher-jsonl", required=True, help="teacher rationales (training.teach)")
    ap.add_argument("--steps", type=int, default=8, help="optimizer steps to run")
    ap.add_argument("--output-dir", default="/tmp/gpu_sft_shape", help="trainer output folder")
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="extra recipe overrides, e.g. micro_batch_size=8")
    ap.add_argument("--out", default=None, help="also write the result JSON here")
    args = ap.parse_args(argv)

    import torch

    from reasoningrec.models.hf import load_tokenizer
    from training.config import load_config
    from training.sft import precision_flags, train

    overrides = {"teacher_jsonl": args.teacher_jsonl, "data_dir": args.data_dir,
                 "output_dir": args.output_dir, "max_steps": args.steps, "resume": False,
                 "save_total_limit": 1, **dict(kv.split("=", 1) for kv in args.set)}
    cfg = load_config(args.recipe, overrides)
    flags = precision_flags(cfg)
    dtype = torch.bfloat16 if flags["bf16"] else torch.float32
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = load_tokenizer(args.tokenizer)  # Llama-2's SentencePiece as its reference encodes
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    start = time.perf_counter()
    model, n_params = build_model(args.shape, tokenizer, dtype, device)
    build_s = time.perf_counter() - start
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    timer = make_timer()
    start = time.perf_counter()
    meta = train(cfg, base=(model, tokenizer), callbacks=[timer])
    train_s = time.perf_counter() - start
    # tokens per optimizer step: the examples' real (unpadded) tokens, averaged over an epoch
    tokens = meta["train_tokens"] / max(1, meta["steps_per_epoch"])
    timed = timer.steps[1:] or timer.steps  # the first step includes CUDA/cuBLAS warm-up
    result = {
        "shape": args.shape, "params": n_params, "device": torch.cuda.get_device_name(0)
        if device == "cuda" else "cpu", "torch": torch.__version__, "precision": flags,
        "recipe": args.recipe, "max_length": cfg.max_length, "micro_batch": cfg.micro_batch_size,
        "batch": cfg.batch_size, "lora": [cfg.lora_r, cfg.lora_alpha, cfg.target_modules],
        "gradient_checkpointing": cfg.gradient_checkpointing, "steps": len(timer.steps),
        "train_examples": meta["train_examples"], "mean_tokens_per_example":
            round(meta["train_tokens"] / meta["train_examples"], 1),
        "seconds_per_step": round(sum(timed) / len(timed), 3),
        "train_tokens_per_s": round(tokens * len(timed) / sum(timed), 1),
        "validation_runs": len(timer.evals), "build_s": round(build_s, 1),
        "train_call_s": round(train_s, 1),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)
        if device == "cuda" else None,
        "peak_gpu_reserved_gib": round(torch.cuda.max_memory_reserved() / 2**30, 2)
        if device == "cuda" else None}
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
