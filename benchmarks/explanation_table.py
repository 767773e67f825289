"""Explanation quality of several models on the same samples, against the paper's real teacher.

    python benchmarks/explanation_table.py --data-dir ../shared/data --limit 100 \\
        --models authors:sample64_valsample800_lr1e-4_valauc \\
                 authors:sample256_valsample800_lr1e-4_valauc [student ...] \\
        [--out benchmarks/results/explanations_authors_fashion.md]

Every model is one ordinary `reasoningrec eval --explanations --sample paper` run (the CLI's own
code path; a report folder per model under --reports-root, so a rerun resumes and a model
added later costs only its own run): consistency (the --checker, SmolLM2 by default, and the
model-free lexical stance), grounding and invented titles (per 100 explanations), MiniLM cosine
and BERTScore F1 to the dataset's teacher rationale for the same sample (Fashion: Mixtral-8x7B,
the paper's teacher; both texts without their "Prediction: Yes/No"; the BERTScore backbone is
named in the markdown), AUC and length. `authors:<run>` rows replay the paper's Llama-2-7B
student (their P(Yes) and generated text; nothing is generated); their own BERTScore from the
run's results.json (deberta-xlarge-mnli, all 800) is shown beside ours for scale only, as are
two reference pairs of teacher texts on the same samples (another user's Mixtral rationale:
unrelated; the paper's w/o-profile teacher for the same user and item: a paraphrase).
Runtime per row: the wall seconds of that eval in this invocation; "resumed" when its report
already held rows (then the time is not that of a full run).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from reasoningrec.cli import build_parser
from reasoningrec.config import resolve_data_dir
from reasoningrec.data import load_dataset
from reasoningrec.evaluate import eval_samples
from reasoningrec.evaluate.bertscore import BACKBONE_NOTE, bertscore_f1
from reasoningrec.evaluate.similarity import COSINE_KEY, compared_text, stats
from reasoningrec.models.decoding import slug
from speed_common import command_line, load, run  # noqa: E402  (benchmarks/ is the script's folder)

RESULTS = Path(__file__).resolve().parent / "results" / "explanations_authors_fashion.md"
AUTHORS = "authors:"
SCALE_N = 200  # samples for the teacher-pair reference scores (the first of the same sample)


def fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def report_dir(args, spec: str, decode: dict | None = None) -> Path:
    name = spec.replace(":", "_").replace("/", "_")
    tail = f"-{slug(decode)}" if decode else ""
    if getattr(args, "eval_args", ""):   # other prompt options: another report
        tail += "-" + "_".join("".join(c for c in a if c.isalnum() or c == ".")
                               for a in shlex.split(args.eval_args))
    return Path(args.reports_root) / (f"{args.dataset}-test-{name}-{args.sample}-n{args.limit}"
                                      f"-explain-{args.checker.replace(':', '_')}{tail}")


def run_model(args, spec: str, decode: dict | None = None) -> dict:
    """One `reasoningrec eval ... --explanations --json` run; its result plus timing.
    `decode`: decode flags for it (models/decoding.py; default: the model's own)."""
    folder = report_dir(args, spec, decode)
    judged_before = (len((folder / "explanations.jsonl").read_text().splitlines())
                     if (folder / "explanations.jsonl").exists() else 0)
    argv = ["eval", "--dataset", args.dataset, "--model", spec, "--sample", args.sample,
            "--limit", str(args.limit), "--explanations", "--checker", args.checker,
            "--report-dir", str(folder), "--json"]
    argv += ["--data-dir", str(args.data_dir)] if args.data_dir else []
    argv += ["--teacher-variant", args.teacher_variant] if args.teacher_variant else []
    argv += ["--no-progress"] if args.no_progress else []
    argv += shlex.split(args.eval_args)
    for key, value in (decode or {}).items():
        argv += [f"--{key.replace('_', '-')}", f"{value:g}"]
    parsed = build_parser().parse_args(argv)
    start = time.perf_counter()
    result = parsed.func(parsed)
    result["wall"] = time.perf_counter() - start
    result["fresh"] = result["resumed"] == 0 and judged_before == 0
    result["command"] = "reasoningrec " + " ".join(a for a in argv if a != "--json")
    return result


def authors_bertscore(data_dir, dataset: str, spec: str) -> float | None:
    """The BERTScore the authors reported for an authors:<run> row (their results.json)."""
    if not spec.startswith(AUTHORS):
        return None
    run = spec[len(AUTHORS):]
    root = resolve_data_dir(data_dir) / "reasoningrec" / dataset / "authors_student"
    paths = [p for p in root.glob("*/*/results.json")
             if run in (p.parent.name, f"{p.parent.parent.name}/{p.parent.name}")]
    if len(paths) != 1:
        return None
    todo = [json.loads(paths[0].read_text())]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            if isinstance(node.get("bertscore"), (int, float)):
                return float(node["bertscore"])
            todo.extend(node.values())
    return None


def scale(args) -> list[str]:
    """Markdown lines: the same two measures for two pairs of teacher texts on these samples."""
    from reasoningrec.retrieval import encode
    ds = load_dataset(args.dataset, args.data_dir)
    samples = eval_samples(ds, "test", min(args.limit, SCALE_N), sample=args.sample)
    main, other = args.teacher_variant or ds.main_teacher, "mixtral-8x7b-wo_profile"
    refs = [compared_text(r.text) for r in (ds.teacher_rationale(s, main) for s in samples) if r]
    pairs = [("another user's rationale (the next sample's)", refs[1:] + refs[:1], refs)]
    if other in ds.teacher and other != main:
        both = [(ds.teacher_rationale(s, other), ds.teacher_rationale(s, main)) for s in samples]
        both = [(compared_text(a.text), compared_text(b.text)) for a, b in both if a and b]
        pairs.append((f"{other}'s rationale for the same sample (a paraphrase)",
                      [a for a, _ in both], [b for _, b in both]))
    lines = [f"For scale, teacher texts against the {main} reference on the first "
             f"{len(samples)} of the same samples:"]
    for what, cands, references in pairs:
        f1 = stats(bertscore_f1(cands, references))
        cos = stats([float(a @ b) for a, b in zip(encode(cands), encode(references))])
        lines.append(f"- {what}: n={f1['n']}, MiniLM cosine {fmt(cos['mean'])}, BERTScore F1 "
                     f"{fmt(f1['mean'])}")
    return lines


def markdown(results: dict, args, seconds: float, scale_lines: list[str],
             generation: bool = False) -> str:
    """The results file; `generation` adds a column of the model time summed over the rows
    (P(Yes) and rationale, from predictions.jsonl: it survives resuming)."""
    first = next(iter(results.values()))
    teacher = first["explanations"]["teacher"]
    lines = [
        f"# Explanation quality against the paper's teacher: {args.dataset}, test",
        "",
        f"Made by `python benchmarks/{args.script} {command_line(args.argv)}` on "
        f"{datetime.date.today()}, {platform.machine()} ({os.cpu_count()} CPUs, shared; load "
        f"averages {args.load_before} at the start, {load()} at the end), "
        f"{seconds:.0f} s in all.",
        f"- Sample: `--sample {args.sample}`, the first {first['n']}: {first['sample']['how']}.",
        f"- Reference: the dataset's teacher rationale for the same sample "
        f"({teacher.get('variant') or teacher.get('jsonl')}, {teacher.get('split', 'test')} "
        f"split); {teacher.get('compared', '')}.",
        f"- BERTScore F1: {BACKBONE_NOTE}. MiniLM cosine: all-MiniLM-L6-v2 sentence "
        "embeddings (256-token truncation).",
        f"- Consistency: checker `{first['explanations']['checker']}` (reasoningrec/evaluate/"
        "stance.py) on the text without its prediction, against the model's P(Yes) >= 0.5; "
        "lexical: the model-free cue-phrase stance where it decides (n in brackets).",
        "- Grounding: share of named titles that are the candidate or a shown history item; "
        "invented: titles of other catalogue items or quoted/dated titles in no catalogue "
        "(reasoningrec/evaluate/explanations.py).",
        f"- Loops: share of explanations (without their prediction) in which some word "
        f"{first['explanations'].get('loop_ngram', 6)}-gram (lower-cased words, punctuation "
        f"ignored) occurs more than {first['explanations'].get('loop_more_than', 2)} times "
        "(twice is ordinary writing: a product title, a stock phrase); repeated n-grams: the "
        "mean over explanations of the "
        "share of a text's n-gram positions whose n-gram already occurred earlier in it "
        "(0 = no repeat; reasoningrec/repeats.py, the rule of the demo pool's loop check); "
        "\"(k stopped)\": k explanations the loop stop (stop_loop_ngram) ended before a loop.",
        "",
        "| model | n | AUC | consistency | lexical consistency (n) | grounding (mentions) | "
        "invented / 100 expl. | expl. with invented | MiniLM cosine mean (median) | "
        "BERTScore F1 mean (median) | authors' BERTScore (deberta, n=800) | loops | "
        f"repeated n-grams | words (median) |{' generation s |' if generation else ''} wall s |",
        "|---|" + "---:|" * (14 + generation),
    ]
    for spec, r in results.items():
        e, t = r["explanations"], r["explanations"]["teacher"]
        cos, f1 = t.get(COSINE_KEY) or {}, t.get("bertscore_f1") or {}
        n = e["n_rationales"]
        lines.append(
            f"| `{spec}` | {n} | {fmt(r['auc'], 4)} | {fmt(e['consistency'])} | "
            f"{fmt(e['lexical_consistency'])} ({e['lexical_decided']}) | "
            f"{fmt(e['grounding'])} ({e['mentions']}) | "
            f"{fmt(100 * e['invented'] / n if n else None, 1)} | "
            f"{e['rationales_with_invented']} | {fmt(cos.get('mean'))} ({fmt(cos.get('median'))}) "
            f"| {fmt(f1.get('mean'))} ({fmt(f1.get('median'))}) | "
            f"{fmt(authors_bertscore(args.data_dir, args.dataset, spec))} | "
            f"{fmt(e.get('loops'), 2)}{stopped(e)} | {fmt(e.get('repeated_ngram_share'))} | "
            f"{fmt((e['words'] or {}).get('median'), 0)} | "
            f"{(format(r['seconds'], '.0f') + ' | ') if generation else ''}"
            f"{r['wall']:.0f}{'' if r['fresh'] else ' (resumed)'} |")
    lines += ["", *scale_lines, "", "Each row reproduces with its own command:", ""]
    lines += [f"    {r['command']}" for r in results.values()]
    if args.note:
        lines += ["", args.note]
    return "\n".join(lines) + "\n"


def stopped(e: dict) -> str:
    """' (16 stopped)' when the loop stop ended some of a run's explanations, else ''."""
    return f" ({e['loop_stopped']} stopped)" if e.get("loop_stopped") else ""


def add_run_args(ap, out: Path) -> None:
    """The flags of a table of eval runs on the same samples (here and explanation_loops.py)."""
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="fashion", help="dataset (default: fashion)")
    ap.add_argument("--limit", type=int, default=100,
                    help="the first N of the sample (default: 100; 800 = the paper's Fashion)")
    ap.add_argument("--sample", default="paper", choices=["paper", "seeded"],
                    help="which samples (default: paper, the authors' own draw)")
    ap.add_argument("--checker", default="smollm2",
                    help="consistency checker spec, or 'lexical' (default: smollm2)")
    ap.add_argument("--teacher-variant", default=None,
                    help="the dataset's teacher rationales to compare with (default: its main)")
    ap.add_argument("--reports-root", default="reports", help="where the eval reports go")
    ap.add_argument("--out", default=str(out), help=f"markdown file to write (default: {out})")
    ap.add_argument("--note", default="", help="a line for the markdown")
    ap.add_argument("--no-progress", action="store_true", help="no per-sample progress bars")
    ap.add_argument("--eval-args", default="",
                    help="more `reasoningrec eval` flags for every model, e.g. the prompt options "
                         "a plain spec learnt on: \"--no-description --repeat-penalty 1.2\"")


def parse_run_args(ap, argv):
    args = ap.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    args.script = ap.prog   # the script's file name, for the results file's command line
    if args.limit < 1:
        ap.error("--limit must be >= 1")
    args.load_before = load()
    return args


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", required=True,
                    help="model specs, e.g. authors:<run>, student, llamacpp:...")
    add_run_args(ap, RESULTS)
    args = parse_run_args(ap, argv)
    started, results = time.perf_counter(), {}
    for number, spec in enumerate(args.models, 1):
        print(f"[{number}/{len(args.models)}] {spec}", file=sys.stderr, flush=True)
        results[spec] = r = run_model(args, spec)
        e = r["explanations"]
        print(f"[{number}/{len(args.models)}] {spec}: consistency {fmt(e['consistency'])}, "
              f"grounding {fmt(e['grounding'])}, BERTScore "
              f"{fmt((e['teacher'].get('bertscore_f1') or {}).get('mean'))}, "
              f"{r['wall']:.0f} s", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(results, args, time.perf_counter() - started, scale(args))
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run(main)
