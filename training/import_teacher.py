"""Released teacher rationales (a dataset's `teacher/<variant>/<split>.jsonl`) → the JSONL that
`training.teach` writes and `training.sft` reads, so a student can be distilled from the paper's
real teacher (Mixtral-8x7B-Instruct) without running it.

    python -m training.import_teacher --dataset fashion --variant mixtral-8x7b --split train \\
        --data-dir ../shared/data --out runs/teacher/fashion-train-mixtral.jsonl

Each row: `sample_id`, `label`, `rationale` (the teacher's text without its trailing
"Prediction: Yes/No": the student prompt asks for the prediction first and the training
completion puts it there) and `teacher` (the variant, for the model card). The rows are read
through the data layer (reasoningrec.data.outputs), which has already checked every key and
label against the split's CSV. Only a train split may be imported: the paper's validation and
test rationales are references for evaluation, never training data.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.outputs import teacher_text_without_prediction


def import_rows(ds, variant: str, split: str) -> list[dict]:
    """teach-format rows for every released rationale of (variant, split), in sample order."""
    if variant not in ds.teacher:
        have = ", ".join(sorted(ds.teacher)) or "none"
        raise SystemExit(f"{ds.name} has no teacher variant {variant!r} (it has: {have})")
    rows = ds.teacher[variant].get(split, {})
    if not rows:
        raise SystemExit(f"{ds.name}: teacher variant {variant!r} has no {split} rationales")
    out = []
    for sample in ds.splits[split]:
        row = rows.get(sample.key or sample.user_id)
        if row is not None:
            out.append({"sample_id": sample.sample_id, "label": row.label,
                        "rationale": teacher_text_without_prediction(row.text),
                        "teacher": f"{variant} (released by the paper's authors)"})
    return out


def write_rows(rows: list[dict], out: Path) -> None:
    """Written whole to a temporary file, then renamed: a killed run leaves no half file."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(out)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.import_teacher", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help="dataset with a teacher/ folder (fashion, ...)")
    p.add_argument("--data-dir", default=None, help="data root (default $REASONINGREC_DATA_DIR)")
    p.add_argument("--variant", default="mixtral-8x7b",
                   help="teacher/<variant>/ to import (default: mixtral-8x7b)")
    p.add_argument("--split", default="train", choices=["train"],
                   help="only train: valid/test rationales are evaluation references")
    p.add_argument("--out", required=True, help="JSONL to write (training.sft's teacher_jsonl)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        ds = load_dataset(args.dataset, args.data_dir)
    except (DataError, KeyError) as exc:
        print(f"import_teacher: {exc}", file=sys.stderr)
        return 2
    rows = import_rows(ds, args.variant, args.split)
    write_rows(rows, Path(args.out))
    liked = sum(r["label"] for r in rows)
    print(f"import_teacher: {len(rows)} rationales ({liked} Yes, {len(rows) - liked} No) "
          f"from {args.dataset}/{args.variant}/{args.split} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
