"""Training curves of LoRA runs (training.sft output folders) side by side: validation AUC per
epoch, the epoch kept, steps and training time; a run cut before its end (no train_meta.json, or
one rebuilt for shipping that says "cut") is read from its last checkpoint's trainer_state.json or
that file and marked so.

    python benchmarks/sweep_table.py --runs runs/gpu-fashion/*/ --val-n 800 \
        --note "one H200, six runs side by side" --out benchmarks/results/gpu_fashion_sweep_training

Writes <out>.md (table), <out>.json (every point) and <out>.png (validation AUC per epoch).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def read_run(folder: Path) -> dict:
    """{name, finished, points [(epoch, auc)], best_epoch, steps, runtime_s, config}."""
    meta_path = folder / "train_meta.json"
    if meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        points, best = meta["val_auc"], meta["best_checkpoint"]
        # a cut run's rebuilt train_meta.json says so under "cut"
        steps, config, finished = meta["steps"], meta["config"], not meta.get("cut")
    else:
        states = sorted(folder.glob("checkpoint-*/trainer_state.json"),
                        key=lambda p: int(p.parent.name.split("-")[1]))
        if not states:
            raise SystemExit(f"error: {folder} has neither train_meta.json nor checkpoints")
        state = json.loads(states[-1].read_text())
        points = [(e["epoch"], e["eval_auc"]) for e in state["log_history"] if "eval_auc" in e]
        best, steps, config, finished = state["best_model_checkpoint"], state["global_step"], {}, False
    runtime = None
    log = folder / "log.jsonl"
    for line in log.read_text().splitlines() if log.is_file() else []:
        runtime = json.loads(line).get("train_runtime", runtime)
    best_step = int(str(best).rsplit("-", 1)[1]) if best else None
    epochs = {round(e) for e, _ in points if e}
    per_epoch = steps / max(epochs) if epochs else None
    best_epoch = round(best_step / per_epoch) if best_step and per_epoch else None
    return {"name": folder.name, "finished": finished, "points": [list(p) for p in points],
            "best_epoch": best_epoch, "steps": steps, "runtime_s": runtime,
            "train_samples": config.get("train_samples"),
            "answer_only_samples": config.get("answer_only_samples"),
            "evidence": config.get("evidence"), "val_samples": config.get("val_samples"),
            "learning_rate": config.get("learning_rate"), "max_epochs": config.get("epochs")}


def render(runs: list[dict], val_n: int | None, note: str, command: str) -> str:
    lines = [f"# Training curves: {len(runs)} LoRA runs", "",
             f"- command: `{command}`", f"- {note}" if note else "",
             "- validation AUC: ROC-AUC of P(Yes) on the recipe's stratified validation subset "
             f"(n = {val_n if val_n else 'the recipe value'}), after each epoch (epoch 0: the "
             "starting adapter, where the recipe asks); `kept`: the epoch whose adapter is kept",
             "", "| run | finished | K | answer-only | evidence | lr | max epochs |"
             " validation AUC per epoch | kept | steps | training s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        curve = ", ".join(f"{e:g}: {a:.4f}" for e, a in r["points"])
        dash = lambda v: "-" if v is None else v  # noqa: E731
        lines.append(f"| {r['name']} | {'yes' if r['finished'] else 'cut (last checkpoint)'} | "
                     f"{dash(r['train_samples'])} | {dash(r['answer_only_samples'])} | "
                     f"{dash(r['evidence'])} | {dash(r['learning_rate'])} | {dash(r['max_epochs'])} | {curve} | "
                     f"{dash(r['best_epoch'])} | {r['steps']} | "
                     f"{'-' if r['runtime_s'] is None else round(r['runtime_s'])} |")
    return "\n".join(line for line in lines if line is not None) + "\n"


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for r in runs:
        ax.plot([p[0] for p in r["points"]], [p[1] for p in r["points"]], marker="o",
                linestyle="-" if r["finished"] else ":", label=r["name"])
    ax.set(xlabel="epoch", ylabel="validation AUC of P(Yes)", title="LoRA runs: validation AUC")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    import sys

    from speed_common import command_line  # benchmarks/ is the script's folder
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", nargs="+", required=True, help="training.sft output folders")
    ap.add_argument("--val-n", type=int, default=None,
                    help="validation samples per point, said in the table (default: not said)")
    ap.add_argument("--note", default="", help="one line on where and how the runs ran")
    ap.add_argument("--out", required=True, help="output path without extension")
    args = ap.parse_args()
    runs = [read_run(Path(r)) for r in args.runs]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/sweep_table.py " + command_line(sys.argv[1:])
    out.with_suffix(".md").write_text(render(runs, args.val_n, args.note, command))
    out.with_suffix(".json").write_text(json.dumps({"command": command, "note": args.note,
                                                    "val_n": args.val_n, "runs": runs}, indent=1))
    plot(runs, out.with_suffix(".png"))
    print(out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
