"""Do repetition penalties stop a student's explanations looping? One student, several
decode settings, the explanation table's metrics (loops, consistency, grounding, similarity to
the teacher) on the same samples.

    python benchmarks/explanation_loops.py --data-dir ../shared/data --limit 100 \\
        --model student-fashion-evidence --settings 1.0 1.1 1.2 1.3 "presence_penalty=0.5" \\
        [--out benchmarks/results/explanation_loops_fashion.md]

A setting is a repeat penalty ("1.2") or comma-separated key=value pairs of
reasoningrec/models/decoding.py ("repeat_penalty=1.1,presence_penalty=0.3"); each is passed as
flags to an ordinary `reasoningrec eval --explanations --sample paper` run
(explanation_table.run_model: a report folder per setting, so a rerun resumes), which overrides
the student's own student.json "decode". P(Yes) is read before the rationale, so AUC is the
same in every row. "generation s" is the model time summed over the rows of the report
(P(Yes) and the rationale; it survives resuming), "wall s" the wall time of the eval in this
invocation (judging included; "resumed" when the report held rows already).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from explanation_table import (add_run_args, markdown, parse_run_args, run_model,  # noqa: E402
                               scale)  # (same folder)
from reasoningrec.models.decoding import DEFAULTS, decode_settings, describe, parse_pairs
from speed_common import run  # benchmarks/ is the script's folder

RESULTS = Path(__file__).resolve().parent / "results" / "explanation_loops_fashion.md"


def parse_setting(text: str) -> dict:
    """'1.2' -> {"repeat_penalty": 1.2}; 'a=1,b=2' -> {"a": 1.0, "b": 2.0}; validated."""
    if "=" in text:
        raw = parse_pairs(text, f"setting {text!r}")
    else:
        try:
            raw = {"repeat_penalty": float(text)}
        except ValueError:
            raise ValueError(f"bad setting {text!r}: a number or key=value[,key=value]") from None
        decode_settings(raw, f"setting {text!r}")
    return {**DEFAULTS, **raw}   # every key explicit: a student's own setting never applies


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="student-fashion-evidence",
                    help="the student (default: student-fashion-evidence, Fashion's default)")
    ap.add_argument("--settings", nargs="+", default=["1.0", "1.1", "1.2", "1.3"],
                    help="decode settings: a repeat penalty or key=value[,key=value] "
                         "(default: 1.0 1.1 1.2 1.3)")
    add_run_args(ap, RESULTS)
    args = parse_run_args(ap, argv)
    try:
        settings = [parse_setting(s) for s in args.settings]
    except ValueError as err:
        ap.error(str(err))
    started, results = time.perf_counter(), {}
    for number, decode in enumerate(settings, 1):
        label = f"{args.model}, {describe(decode_settings(decode))}"
        print(f"[{number}/{len(settings)}] {label}", file=sys.stderr, flush=True)
        results[label] = r = run_model(args, args.model, decode)
        e = r["explanations"]
        print(f"[{number}/{len(settings)}] {label}: loops {e['loops']}, consistency "
              f"{e['consistency']}, {r['wall']:.0f} s", file=sys.stderr, flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = markdown(results, args, time.perf_counter() - started, scale(args), generation=True)
    out.write_text(text.replace("# Explanation quality against the paper's teacher",
                                "# Decode settings against looping explanations", 1),
                   encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    run(main)
