"""The paper's ablation table for one student: AUC on ML-1M and Fashion, explanation quality.

    python benchmarks/ablation_table.py --data-dir ../shared/data --model student \\
        [--no-reasoning-model llamacpp:<base.gguf>+<direct-lora.gguf>] \\
        [--teacher-jsonl ml1m=runs/teacher/ml1m-test.jsonl] [--limit 100]
    nice -n 19 python benchmarks/ablation_table.py --data-dir ../shared/data --model smollm2 \\
        --limit 4 --out /tmp/ablation.md          # a quick end-to-end check

Rows: full (the student's own prompt options), w/o profile, w/o description, w/o reasoning
(the student_direct prompt; pass --no-reasoning-model for a student trained that way, e.g.
`python -m training.sft ... --reasoning false`, else the same student is asked without the
reasoning request), zero-shot (--zero-shot-model with the zero-shot prompt). Columns: test
AUC on ML-1M and Fashion (the paper's subsamples, 1,500 and 800, seed 42, unless --limit),
then, for rows that explain, consistency and grounding (reasoningrec/evaluate/
explanations.py) per dataset and the number of invented titles.

Every cell is an ordinary `reasoningrec eval` report under --reports-root (default reports/,
the CLI's own folders, so earlier evals are reused): rerun the same command after an
interruption and it resumes where it stopped. Cost on 2 CPU threads: a rationale row takes
~5-8 s a ML-1M sample and ~2-4 s a Fashion sample, a score-only row about half of that; the
full table is a day of CPU. The markdown (default benchmarks/results/ablation_table.md) says
the machine, date, models, checker and sample sizes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import platform
import sys
import time
from pathlib import Path

from reasoningrec.data import load_dataset
from reasoningrec.evaluate import run_eval
from reasoningrec.evaluate.sampling import default_size
from reasoningrec.evaluate.similarity import read_teacher
from reasoningrec.scorers import load_scorer

RESULTS = Path(__file__).resolve().parent / "results" / "ablation_table.md"
DATASETS = ("ml1m", "fashion")
# (row name, prompt options, which model: "student" | "direct" | "zero-shot", explains?)
ROWS = (("full", {}, "student", True),
        ("w/o profile", {"with_profile": False}, "student", True),
        ("w/o description", {"with_description": False}, "student", True),
        ("w/o reasoning", {"reasoning": False}, "direct", False),
        ("zero-shot", {}, "zero-shot", False))


def teacher_files(values: list[str]) -> dict[str, str]:
    """--teacher-jsonl [DATASET=]PATH → {dataset: path}; a bare path serves every dataset."""
    out = {}
    for value in values:
        name, sep, path = value.partition("=")
        if sep and name in DATASETS:
            out[name] = path
        else:
            out.update({d: value for d in DATASETS if d not in out})
    return out


def run_cell(ds, row, spec: str, args, teacher: str | None) -> dict:
    name, options, _, explains = row
    started = time.perf_counter()
    scorer = load_scorer(spec, ds, **options)
    # The flags as `reasoningrec eval` records them, so its report folders are reused.
    result = run_eval(ds, scorer, split="test", model=spec, limit=args.limit, seed=args.seed,
                      reports_root=args.reports_root, explain=explains, prompt=options,
                      checker=args.checker, teacher_jsonl=teacher if explains else None,
                      progress=not args.no_progress)
    result["wall"] = time.perf_counter() - started
    result["options"] = dataclasses.asdict(scorer.options) if hasattr(scorer, "options") else {}
    return result


def fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(table: dict, args, specs: dict, teachers: dict, seconds: float) -> str:
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, CPU_CORES={os.environ.get('CPU_CORES', 'all')}")
    sizes = ", ".join(f"{d} n={args.limit or default_size(d, 'test')}" for d in DATASETS)
    lines = [f"# Ablations ({datetime.date.today()}, {machine})", "",
             f"- student: `{specs['student']}`", f"- w/o reasoning: `{specs['direct']}`",
             f"- zero-shot: `{specs['zero-shot']}`",
             f"- consistency checker: `{args.checker}` (reasoningrec/evaluate/stance.py)",
             f"- test samples: {sizes} (seed {args.seed}); teacher rationales: "
             f"{teachers or 'none'}", f"- wall time of this invocation: {seconds:.0f} s",
             "- prompt options of the full row (the student's own): "
             + "; ".join(f"{d}: {(table.get((d, 'full')) or {}).get('options')}"
                         for d in DATASETS), "",
             "| row | ML-1M AUC | Fashion AUC | consistency ML-1M / Fashion | grounding ML-1M / "
             "Fashion | invented titles ML-1M / Fashion | MiniLM cosine to teacher ML-1M / "
             "Fashion |", "|---|---|---|---|---|---|---|"]
    for row in ROWS:
        cells = [table.get((d, row[0])) or {} for d in DATASETS]
        expl = [c.get("explanations") or {} for c in cells]
        cosine = [((e.get("teacher") or {}).get("cosine_all-MiniLM-L6-v2") or {}).get("mean")
                  for e in expl]
        lines.append(f"| {row[0]} | " + " | ".join(fmt(c.get("auc"), 4) for c in cells)
                     + " | " + " / ".join(fmt(e.get("consistency")) for e in expl)
                     + " | " + " / ".join(fmt(e.get("grounding")) for e in expl)
                     + " | " + " / ".join(str(e.get("invented", "–")) for e in expl)
                     + " | " + " / ".join(fmt(c) for c in cosine) + " |")
    lines += ["", "Consistency: share of rationales whose stance (judged without the prediction) "
              "agrees with the prediction. Grounding: share of titles named in a rationale that "
              "are the candidate or shown history items; invented: catalogue or quoted titles "
              "that are neither. – = no rationale written (or no title named).", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--model", default="student", help="the student's model spec")
    ap.add_argument("--no-reasoning-model", default=None,
                    help="spec of a student trained without reasoning (default: --model)")
    ap.add_argument("--zero-shot-model", default="smollm2",
                    help="base model for the zero-shot row (default: smollm2)")
    ap.add_argument("--teacher-jsonl", action="append", default=[], metavar="[DATASET=]PATH",
                    help="teacher rationales for the test samples (similarity; repeatable)")
    ap.add_argument("--checker", default="smollm2",
                    help="consistency checker spec, or 'lexical' (default: smollm2)")
    ap.add_argument("--limit", type=int, default=None,
                    help="samples per dataset (default: the paper's 1,500 / 800)")
    ap.add_argument("--seed", type=int, default=42, help="sampling seed (the paper's: 42)")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS,
                    help="datasets to run (the table keeps both columns)")
    ap.add_argument("--reports-root", default="reports", help="where eval reports go")
    ap.add_argument("--no-progress", action="store_true", help="no per-sample progress bars")
    ap.add_argument("--out", default=str(RESULTS), help="markdown file to write")
    args = ap.parse_args(argv)

    specs = {"student": args.model, "direct": args.no_reasoning_model or args.model,
             "zero-shot": f"zero-shot:{args.zero_shot_model}"}
    teachers = teacher_files(args.teacher_jsonl)
    for path in set(teachers.values()):  # a bad file fails now, not after hours of scoring
        read_teacher(path)
    started, table = time.perf_counter(), {}
    cells = [(d, row) for d in args.datasets for row in ROWS]
    datasets = {d: load_dataset(d, args.data_dir) for d in args.datasets}
    for number, (name, row) in enumerate(cells, 1):
        ds = datasets[name]
        print(f"[{number}/{len(cells)}] {name} {row[0]}: {specs[row[2]]}", file=sys.stderr,
              flush=True)
        result = table[(name, row[0])] = run_cell(ds, row, specs[row[2]], args,
                                                  teachers.get(name))
        expl = result.get("explanations") or {}
        print(f"[{number}/{len(cells)}] {name} {row[0]}: AUC {fmt(result['auc'], 4)}, "
              f"consistency {fmt(expl.get('consistency'))}, grounding "
              f"{fmt(expl.get('grounding'))}, {result['wall']:.0f} s "
              f"({result['resumed']} resumed) -> {result['report_dir']}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(table, args, specs, teachers, time.perf_counter() - started))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
