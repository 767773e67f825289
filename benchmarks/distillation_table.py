"""What each shipped student learnt from, beside its AUC on the paper's sample: the distillation
sweep (K teacher rationales, answer-only rows, warm start) in one table.

    python benchmarks/distillation_table.py                         # Fashion, from committed files
    python benchmarks/distillation_table.py --dataset fashion --out /tmp/results

Reads only committed files: each assets/<dir>/student.json (its recipe, the validation AUC it
was early-stopped on and how many samples that was) and benchmarks/results/
paper_table_<dataset>.json (test AUC with its 95% interval, n, runtime, machine and date, as
benchmarks/paper_table.py wrote them). A student without a row there is listed with "-" (not
scored on the paper's sample yet: `python benchmarks/paper_table.py --models <name>`). The
paper's own Llama-2-7B runs (`authors:` rows) close the table as the reference, K read from the
run's name. Writes <out>/distillation_<dataset>.md.
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
ASSETS = ROOT / "assets"


def students(assets: Path = ASSETS) -> dict[str, dict]:
    """Short name -> student.json of every shipped student (the registry's naming)."""
    from reasoningrec.scoring.registry import _read_meta, discover_students
    return {name: _read_meta(folder) for name, folder in discover_students(assets).items()}


def _auc(row: dict | None) -> str:
    if not row:
        return "-"
    low, high = row["auc_ci95"]
    return f"{row['auc']:.4f} ({low:.3f}-{high:.3f})"


def _start(card: dict) -> str:
    init = card.get("recipe", {}).get("init_adapter")
    return f"`{init}`" if init else "fresh LoRA"


def _val(card: dict) -> str:
    epochs = card.get("val_auc_per_epoch") or []
    n = card.get("recipe", {}).get("val_samples")
    if not epochs:
        return "-"
    trail = ", ".join(f"{epoch:g}: {auc:.3f}" for epoch, auc in epochs)  # epoch 0: before
    return f"{trail} (n={n})"


def _teacher(card: dict) -> str:
    """The card's teacher up to its first parenthesis (the starting adapter has its column)."""
    return card.get("teacher", "?").split(" (")[0]


def student_rows(cards: dict[str, dict], scored: dict[str, dict]) -> list[str]:
    lines = []
    for name, card in sorted(cards.items(), key=lambda kv: -(scored.get(kv[0], {}).get("auc") or 0)):
        recipe, row = card.get("recipe", {}), scored.get(name)
        evidence = "yes" if card.get("prompt_options", {}).get("evidence") else "no"
        runtime = f"{row['score_seconds']:.0f} ({row['machine']}, {row['date']})" if row else "-"
        lines.append(f"| {name} | {card.get('trained_on', '?')} | {_teacher(card)} | "
                     f"{recipe.get('train_samples', '?') or 'all'} | {recipe.get('answer_only_samples') or 0} | "
                     f"{evidence} | {_start(card)} | {card.get('steps', '?')} | {_val(card)} | "
                     f"{_auc(row)} | {row['n'] if row else '-'} | {runtime} |")
    return lines


def authors_rows(scored: dict[str, dict]) -> list[str]:
    lines = []
    for name, row in scored.items():
        if not name.startswith("authors:"):
            continue
        k = re.search(r"sample(\d+)_", name)
        lines.append(f"| {name} (the paper's Llama-2-7B + LoRA) | fashion | Mixtral-8x7B-Instruct | "
                     f"{k.group(1) if k else '?'} | 0 | no | Llama-2-7b-chat | - | "
                     f"n=800 (their run's name) | {_auc(row)} | {row['n']} | "
                     "replayed |")
    return lines


def table(dataset: str, results: Path = RESULTS, assets: Path = ASSETS) -> str:
    paper = json.loads((results / f"paper_table_{dataset}.json").read_text(encoding="utf-8"))
    scored = {row["model"]: row for row in paper["rows"]}
    cards = students(assets)
    head = ("| student | trained on | teacher | K rationales | answer-only rows | evidence line | "
            "starts from | steps | validation AUC per epoch (0: before training; n) | AUC on the paper's "
            "sample (95% interval) | n | score s (machine, date) |\n" + "|---" * 12 + "|")
    body = student_rows(cards, scored) + authors_rows(scored)
    return (f"# {dataset}: what each student learnt from, and its AUC on the paper's sample\n\n"
            f"Written by benchmarks/distillation_table.py from assets/*/student.json and "
            f"benchmarks/results/paper_table_{dataset}.json (sample: {paper['sample']}). "
            "Validation AUC is the training run's own early-stopping figure on its n stratified "
            "valid samples (the paper used 800); test AUC is on the paper's sample, each row's "
            "runtime and machine its own (`score s`: model time summed over the samples, "
            "llama.cpp, one thread, on a CPU shared with other jobs). Sorted by test AUC.\n\n"
            + head + "\n" + "\n".join(body) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="fashion",
                    help="the paper_table_<dataset>.json to read (default: fashion)")
    ap.add_argument("--out", default=str(RESULTS),
                    help="folder for distillation_<dataset>.md (default: benchmarks/results)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    text = table(args.dataset)
    (out / f"distillation_{args.dataset}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
