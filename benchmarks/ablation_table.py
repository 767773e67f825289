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
full table is a day of CPU. Split it instead: the AUC cells on a GPU, then the explanations
on the CPU (the committed table was made so; about 2 minutes on one H200, 2 hours on 1 core):

    python benchmarks/ablation_table.py --data-dir DATA --model hf:<smollm2.gguf>+assets/student/peft \
        --zero-shot-model hf:<smollm2.gguf> --no-explain                 # GPU machine
    python benchmarks/ablation_table.py --data-dir DATA --model hf:<smollm2.gguf>+assets/student/peft \
        --zero-shot-model hf:<smollm2.gguf> --explain-model student --explain-limit 100  # CPU

The markdown (default benchmarks/results/ablation_table.md) says the machine, date, models,
checker and sample sizes.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

from reasoningrec.data import load_dataset
from reasoningrec.evaluate import run_eval
from reasoningrec.evaluate.sampling import default_size
from reasoningrec.evaluate.similarity import read_teacher
from reasoningrec.scoring.registry import STUDENTS, load_scorer, student_spec
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results" / "ablation_table.md"
STUDENT_JSON = Path(__file__).resolve().parents[1] / "assets" / "student" / "student.json"
DATASETS = ("ml1m", "fashion")
# (row name, prompt overrides, which model: "student" | "direct" | "zero-shot", explains?)
ROWS = (("full", {}, "student", True),
        ("w/o profile", {"with_profile": False}, "student", True),
        ("w/o description", {"with_description": False}, "student", True),
        ("w/o reasoning", {"reasoning": False}, "direct", False),
        ("zero-shot", {}, "zero-shot", False))
# Shown instead of a "w/o description" that would repeat "full" (a student trained without
# descriptions): what giving it descriptions it never saw does.
PLUS_DESCRIPTION = ("+ description (unseen in training)", {"with_description": True}, "student",
                    True)


def base_options(path: str | None) -> dict:
    """The student's own prompt options (student.json's prompt_options): every row starts from
    them, the zero-shot row too, so rows differ only where the row says."""
    if not path:
        return {}
    return dict(json.loads(Path(path).read_text(encoding="utf-8")).get("prompt_options", {}))


def table_rows(base: dict) -> list[tuple]:
    if base.get("with_description") is False:
        return [PLUS_DESCRIPTION if r[0] == "w/o description" else r for r in ROWS]
    return list(ROWS)


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


def make_scorer(spec: str, ds, options: dict):
    """`load_scorer` with exactly these options (shipped students resolved here: load_scorer would
    swap options equal to the defaults for the student's own, e.g. undo with_description)."""
    return load_scorer(student_spec(spec) if spec in STUDENTS else spec, ds, **options)


def run_cell(ds, row, spec: str, args, teacher: str | None, *, explain: bool,
             limit: int | None) -> dict:
    name, overrides, _, _ = row
    started = time.perf_counter()
    scorer = make_scorer(spec, ds, {**args.base, **overrides})
    options = dataclasses.asdict(scorer.options)
    # The effective options are recorded (and name the report folder), so reruns resume and
    # two rows never share a folder.
    result = run_eval(ds, scorer, split="test", model=spec, limit=limit, seed=args.seed,
                      reports_root=args.reports_root, explain=explain, prompt=options,
                      checker=args.checker, teacher_jsonl=teacher if explain else None,
                      progress=not args.no_progress)
    result["wall"] = time.perf_counter() - started
    result["options"] = options
    return result


def fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown(table: dict, rows: list, args, specs: dict, teachers: dict, seconds: float) -> str:
    machine = (f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
               f"{platform.python_version()}, CPU_CORES={os.environ.get('CPU_CORES', 'all')}")
    sizes = ", ".join(f"{d} n={args.limit or default_size(d, 'test')}" for d in DATASETS)
    explained = ", ".join(f"{d} n={args.explain_limit or args.limit or default_size(d, 'test')}"
                          for d in DATASETS)
    lines = [f"# Ablations ({datetime.date.today()}, {machine})", "",
             f"- student: `{specs['student']}`; w/o reasoning: `{specs['direct']}`; zero-shot: "
             f"`{specs['zero-shot']}`",
             f"- AUC columns: test samples {sizes} (the first n of the paper's seeded draw, "
             f"seed {args.seed})",
             "- explanation columns: not run (--no-explain)" if args.no_explain else
             f"- explanation columns: `{specs['explain']}` (same prompts) on {explained}, "
             f"consistency checker `{args.checker}` (reasoningrec/evaluate/stance.py); teacher "
             f"rationales: {teachers or 'none'}",
             f"- every row starts from the student's own prompt options {args.base} "
             f"({args.options_from})", f"- wall time of this invocation: {seconds:.0f} s",
             *([f"- note: {args.note}"] if args.note else []),
             "- each cell is its report folder's own numbers: a cell written elsewhere (e.g. on "
             "a GPU with --no-explain) is read back, not rescored", "",
             "| row | ML-1M AUC | Fashion AUC | AUC on the explained samples ML-1M / Fashion | "
             "consistency ML-1M / Fashion | grounding ML-1M / Fashion | invented titles ML-1M "
             "/ Fashion | MiniLM cosine to teacher ML-1M / Fashion |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cells = [table.get((d, row[0], "auc")) or {} for d in DATASETS]
        ex_cells = [table.get((d, row[0], "explain")) or {} for d in DATASETS]
        expl = [c.get("explanations") or {} for c in ex_cells]
        cosine = [((e.get("teacher") or {}).get("cosine_all-MiniLM-L6-v2") or {}).get("mean")
                  for e in expl]
        lines.append(f"| {row[0]} | " + " | ".join(fmt(c.get("auc"), 4) for c in cells)
                     + " | " + " / ".join(fmt(c.get("auc")) for c in ex_cells)
                     + " | " + " / ".join(fmt(e.get("consistency")) for e in expl)
                     + " | " + " / ".join(fmt(e.get("grounding")) for e in expl)
                     + " | " + " / ".join(str(e.get("invented", "–")) for e in expl)
                     + " | " + " / ".join(fmt(c) for c in cosine) + " |")
    lines += ["", "Consistency: share of rationales whose stance (judged without the prediction) "
              "agrees with the prediction. Grounding: share of titles named in a rationale that "
              "are the candidate or shown history items; invented: catalogue or quoted titles "
              "that are neither. – = no rationale written (or no title named, or not run).", ""]
    return "\n".join(lines)


def add_run_arguments(ap: argparse.ArgumentParser, out: Path) -> None:
    """The flags every table script here shares: seed, datasets, where reports and the
    markdown go, progress bars."""
    ap.add_argument("--seed", type=int, default=42, help="sampling seed (the paper's: 42)")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS,
                    help="datasets to run (the table keeps both columns)")
    ap.add_argument("--reports-root", default="reports", help="where eval reports go")
    ap.add_argument("--no-progress", action="store_true", help="no per-sample progress bars")
    ap.add_argument("--out", default=str(out), help="markdown file to write")


def plan(args, rows: list) -> list[tuple]:
    """(dataset, row, kind, spec, explain, limit) cells: an AUC cell per row at --limit and,
    for rows that explain, an explanation cell at --explain-limit with --explain-model (one
    cell does both when those equal --limit and --model)."""
    cells = []
    for name in args.datasets:
        for row in rows:
            spec = args.specs[row[2]]
            same = args.specs["explain"] == spec and args.explain_limit in (None, args.limit)
            explains = row[3] and not args.no_explain
            cells.append((name, row, "auc", spec, explains and same, args.limit))
            if explains and not same:
                cells.append((name, row, "explain", args.specs["explain"], True,
                              args.explain_limit or args.limit))
    return cells


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--model", default="student", help="the student's model spec")
    ap.add_argument("--options-from", default=str(STUDENT_JSON),
                    help="student.json whose prompt_options every row starts from (default: the "
                         "shipped student's; '' for the library defaults)")
    ap.add_argument("--no-reasoning-model", default=None,
                    help="spec of a student trained without reasoning (default: --model)")
    ap.add_argument("--zero-shot-model", default="smollm2",
                    help="base model for the zero-shot row (default: smollm2)")
    ap.add_argument("--explain-model", default=None,
                    help="spec that writes the rationales for the explanation columns (default: "
                         "--model; e.g. the llama.cpp student when --model is its hf: copy on a GPU)")
    ap.add_argument("--explain-limit", type=int, default=None,
                    help="samples per dataset for the explanation columns (default: --limit)")
    ap.add_argument("--no-explain", action="store_true",
                    help="AUC columns only (e.g. on a GPU; explain later with --explain-model)")
    ap.add_argument("--teacher-jsonl", action="append", default=[], metavar="[DATASET=]PATH",
                    help="teacher rationales for the test samples (similarity; repeatable)")
    ap.add_argument("--checker", default="smollm2",
                    help="consistency checker spec, or 'lexical' (default: smollm2)")
    ap.add_argument("--limit", type=int, default=None,
                    help="samples per dataset (default: the paper's 1,500 / 800)")
    ap.add_argument("--note", default="", help="a line for the markdown (where cells ran, ...)")
    add_run_arguments(ap, RESULTS)
    args = ap.parse_args(argv)
    if args.explain_limit is not None and args.explain_limit < 1:
        ap.error("--explain-limit must be >= 1")

    args.base = base_options(args.options_from)
    args.specs = {"student": args.model, "direct": args.no_reasoning_model or args.model,
                  "zero-shot": f"zero-shot:{args.zero_shot_model}",
                  "explain": args.explain_model or args.model}
    teachers = teacher_files(args.teacher_jsonl)
    for path in set(teachers.values()):  # a bad file fails now, not after hours of scoring
        read_teacher(path)
    started, table, rows = time.perf_counter(), {}, table_rows(args.base)
    cells = plan(args, rows)
    datasets = {d: load_dataset(d, args.data_dir) for d in args.datasets}
    for number, (name, row, kind, spec, explain, limit) in enumerate(cells, 1):
        tag = f"[{number}/{len(cells)}] {name} {row[0]} ({kind})"
        print(f"{tag}: {spec}", file=sys.stderr, flush=True)
        result = run_cell(datasets[name], row, spec, args, teachers.get(name), explain=explain,
                          limit=limit)
        table[(name, row[0], kind)] = result
        if explain and kind == "auc":
            table[(name, row[0], "explain")] = result
        expl = result.get("explanations") or {}
        print(f"{tag}: AUC {fmt(result['auc'], 4)}, consistency {fmt(expl.get('consistency'))}, "
              f"grounding {fmt(expl.get('grounding'))}, {result['wall']:.0f} s "
              f"({result['resumed']} resumed) -> {result['report_dir']}", flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(table, rows, args, args.specs, teachers,
                            time.perf_counter() - started))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run(main)
