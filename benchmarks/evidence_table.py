"""The hybrid (collaborative-evidence) student against the text-only student, the classic
baselines and a post-hoc blend: test AUC on ML-1M and Fashion plus explanation quality.

    python benchmarks/evidence_table.py --data-dir ../shared/data \\
        --hybrid hf:.gpu/smollm2.gguf+runs/smollm2-ml1m-evidence/adapter \\
        --text hf:.gpu/smollm2.gguf+assets/student/peft --llm-only      # the LLM cells, on a GPU
    python benchmarks/evidence_table.py --data-dir ../shared/data --hybrid ... --text ... \\
        --explain-hybrid llamacpp:<smollm2.gguf>+runs/smollm2-ml1m-evidence/adapter.gguf \\
        --explain-text student --explain-limit 100                       # the rest, on a CPU

Rows: hybrid student (the student prompt + `evidence`), text-only student, mf, lr, and two
post-hoc blends (logistic stacking of a student's P(Yes) with mf's, reasoningrec/scoring/blend.py,
fitted on the validation split's paper subsample, applied to the test subsample). Every LLM
cell is an ordinary eval report under --reports-root, so a second invocation (another
machine, after an interruption) resumes and only adds what is missing; the markdown says
where each number came from. Prompt options: the shipped student's (assets/student/
student.json) for both students, plus evidence for the hybrid.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import time
from pathlib import Path

from ablation_table import (DATASETS, STUDENT_JSON, add_run_arguments, base_options, fmt,
                            make_scorer)

from reasoningrec.scoring.blend import blend_with_baseline, report_p_yes
from reasoningrec.data import load_dataset
from reasoningrec.evaluate import run_eval
from reasoningrec.evaluate.metrics import paired_auc_difference
from reasoningrec.evaluate.sampling import default_size
from reasoningrec.scoring.registry import load_scorer
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results" / "evidence_table.md"
BASELINES = ("mf", "lr")


def llm_cell(ds, spec: str, options: dict, split: str, args, *, explain=False, limit=None):
    scorer = make_scorer(spec, ds, options)
    return run_eval(ds, scorer, split=split, model=spec, limit=limit or args.limit,
                    seed=args.seed,
                    reports_root=args.reports_root, explain=explain,
                    prompt=dataclasses.asdict(scorer.options), checker=args.checker,
                    progress=not args.no_progress)


def run_dataset(ds, args) -> dict:
    """{row: {"auc": .., "explanations": .., ...}} for one dataset."""
    base = base_options(args.options_from)
    students = {"hybrid student": (args.hybrid, {**base, "evidence": True}, args.explain_hybrid),
                "text-only student": (args.text, {**base, "evidence": False}, args.explain_text)}
    out = {}
    for row, (spec, options, explain_spec) in students.items():
        test = llm_cell(ds, spec, options, "test", args)
        valid = llm_cell(ds, spec, options, "valid", args)
        out[row] = {"auc": test["auc"], "test_dir": test["report_dir"],
                    "valid_dir": valid["report_dir"], "valid_auc": valid["auc"]}
        if explain_spec and not args.llm_only:
            ex = llm_cell(ds, explain_spec, options, "test", args, explain=True,
                          limit=args.explain_limit)
            out[row].update(explanations=ex.get("explanations") or {}, explain_auc=ex["auc"],
                            explain_dir=ex["report_dir"])
        print(f"{ds.name} {row}: test AUC {fmt(test['auc'], 4)}, valid {fmt(valid['auc'], 4)}",
              flush=True)
    if args.llm_only:
        return out
    for name in BASELINES:
        result = run_eval(ds, load_scorer(name, ds), split="test", model=name, seed=args.seed,
                          limit=args.limit,
                          reports_root=args.reports_root, progress=not args.no_progress)
        out[name] = {"auc": result["auc"], "test_dir": result["report_dir"]}
    for row in students:
        valid = report_p_yes(ds, "valid", out[row]["valid_dir"])
        test = report_p_yes(ds, "test", out[row]["test_dir"])
        blend = blend_with_baseline(ds, valid, test, baseline="mf", model_name=row)
        out[f"blend: {row} + mf"] = {"auc": blend["auc"]["blend"], "weights": blend["weights"],
                                     "p_yes": blend["p_yes"]}
    best = max(BASELINES, key=lambda n: out[n]["auc"])
    for row in ("hybrid student", "blend: hybrid student + mf"):
        out[row]["gap"] = gap_to(ds, out[row], out[best]) | {"baseline": best}
    return out


def gap_to(ds, cell: dict, baseline: dict) -> dict:
    """AUC(cell) - AUC(baseline) on the same test samples, with a paired bootstrap."""
    by_id = {s.sample_id: s for s in ds.splits["test"]}
    mine = cell.get("p_yes") or report_p_yes(ds, "test", cell["test_dir"])
    theirs = report_p_yes(ds, "test", baseline["test_dir"])
    ids = [i for i in mine if i in theirs]
    return paired_auc_difference([by_id[i].label for i in ids], [mine[i] for i in ids],
                                 [theirs[i] for i in ids])


def markdown(table: dict, args, seconds: float) -> str:
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    sizes = ", ".join(f"{d} test n={args.limit or default_size(d, 'test')}, valid n="
                      f"{args.limit or default_size(d, 'valid')}" for d in DATASETS)
    rows = list(next(iter(table.values())))
    lines = [f"# Collaborative evidence ({datetime.date.today()}, {machine})", "",
             f"- hybrid student: `{args.hybrid}`; text-only student: `{args.text}`",
             f"- explanations: `{args.explain_hybrid}` / `{args.explain_text}` on the first "
             f"{args.explain_limit} test samples, checker `{args.checker}`",
             f"- samples: {sizes} (the paper's seeded draws); blends fitted on valid, scored "
             "on test", f"- wall time of this invocation: {seconds:.0f} s",
             "- each LLM cell is its report folder's own numbers: an `hf:` cell written on a GPU "
             "machine (--llm-only) is read back here, not rescored; the explanation columns "
             "come from the --explain-* specs, whose AUC on those samples is shown beside",
             "",
             "| row | ML-1M AUC | Fashion AUC | AUC of the explaining spec on its n, ML-1M / "
             "Fashion | consistency ML-1M / Fashion | grounding ML-1M / Fashion | invented "
             "titles ML-1M / Fashion |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [table.get(d, {}).get(row, {}) for d in DATASETS]
        expl = [c.get("explanations") or {} for c in cells]
        lines.append(f"| {row} | " + " | ".join(fmt(c.get("auc"), 4) for c in cells) + " | "
                     + " / ".join(fmt(c.get("explain_auc")) for c in cells) + " | "
                     + " / ".join(fmt(e.get("consistency")) for e in expl) + " | "
                     + " / ".join(fmt(e.get("grounding")) for e in expl) + " | "
                     + " / ".join(str(e.get("invented", "–")) for e in expl) + " |")
    lines.append("")
    for d in DATASETS:
        cells = table.get(d, {})
        for row, cell in cells.items():
            if "gap" in cell:
                g = cell["gap"]
                lines.append(f"- {d}: {row} - best classic baseline ({g['baseline']}) = "
                             f"{g['difference']:+.4f}, paired bootstrap 95% interval "
                             f"[{g['ci95'][0]:+.4f}, {g['ci95'][1]:+.4f}], {row} not better in "
                             f"{100 * g['share_a_not_better']:.0f}% of {g['resamples']} draws "
                             f"({'goal met' if g['difference'] >= 0 else 'goal not met'})")
        for row, cell in cells.items():
            if "weights" in cell:
                lines.append(f"- {d} {row} weights: " + ", ".join(
                    f"{k} {v:.3f}" for k, v in cell["weights"].items()))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--hybrid", required=True, help="model spec of the student trained with evidence")
    ap.add_argument("--text", default="student", help="model spec of the text-only student")
    ap.add_argument("--options-from", default=str(STUDENT_JSON),
                    help="student.json whose prompt_options both students use")
    ap.add_argument("--explain-hybrid", default=None,
                    help="spec writing the hybrid's rationales (default: none, no explanation "
                         "columns; e.g. its llama.cpp export)")
    ap.add_argument("--explain-text", default=None, help="likewise for the text-only student")
    ap.add_argument("--explain-limit", type=int, default=100,
                    help="test samples per dataset whose rationales are judged (default: 100)")
    ap.add_argument("--checker", default="smollm2", help="consistency checker spec or 'lexical'")
    ap.add_argument("--llm-only", action="store_true",
                    help="only the students' test and valid scores (no baselines, blends, "
                         "explanations, markdown): the part that wants a GPU")
    ap.add_argument("--limit", type=int, default=None,
                    help="samples per split and dataset (default: the paper's sizes; a smaller "
                         "n is for smoke tests)")
    add_run_arguments(ap, RESULTS)
    args = ap.parse_args(argv)
    if args.explain_limit < 1:
        ap.error("--explain-limit must be >= 1")
    started = time.perf_counter()
    table = {d: run_dataset(load_dataset(d, args.data_dir), args) for d in args.datasets}
    if not args.llm_only:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(markdown(table, args, time.perf_counter() - started))
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run(main)
