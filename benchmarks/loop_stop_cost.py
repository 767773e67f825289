"""Does the loop stop cost the explanations their similarity to the teacher? The texts a
student's loop stop ended (stop_loop_ngram in its card), generated again without the stop, and
both versions' BERTScore F1 against the teacher's rationale for the same sample.

    python benchmarks/loop_stop_cost.py --data-dir ../shared/data --limit 100 \\
        [--model student-fashion-k896] [--out benchmarks/results/]

The student runs as served (its card's decode settings for the dataset, through the same
LLMScorer as eval and the app), on the first --limit of the paper's sample. For each text the
stop ended it reports: the text as served (cut), the whole greedy continuation without the stop
(same P(Yes), same tokens up to the cut), and that whole text cut by a variant of the rule that
ignores word n-grams lying inside a title the prompt shows (were the stops only a long product
name said a third time?). Writes loop_stop_cost_<dataset>.md into --out.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from speed_common import RESULTS, command_line, load, machine, run  # benchmarks/ folder

from reasoningrec.config import resolve_data_dir
from reasoningrec.data import load_dataset
from reasoningrec.evaluate import eval_samples
from reasoningrec.evaluate.bertscore import BACKBONE_NOTE, bertscore_f1
from reasoningrec.evaluate.similarity import compared_text, teacher_references
from reasoningrec.prompts.text import item_title
from reasoningrec.repeats import LOOP_MORE_THAN, LOOP_N, WORD, loop_fields, words
from reasoningrec.scoring.registry import default_student, load_scorer


def cut_outside_titles(text: str, titles: list[str], n: int = LOOP_N) -> tuple[str, bool]:
    """`text` cut before the first word n-gram that occurs more than LOOP_MORE_THAN times,
    n-grams lying inside one of `titles` not counted; (text, whether it was cut)."""
    exempt = set()
    for title in titles:
        w = words(title)
        exempt |= {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}
    spans, counts = [m.span() for m in WORD.finditer(text)], Counter()
    for j in range(n - 1, len(spans)):
        gram = tuple(text[a:b].lower() for a, b in spans[j + 1 - n:j + 1])
        if gram not in exempt:
            counts[gram] += 1
            if counts[gram] > LOOP_MORE_THAN:
                return text[:spans[j + 1 - n][0]].rstrip(), True
    return text, False


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default: $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="fashion", help="dataset with teacher rationales "
                    "(default fashion)")
    ap.add_argument("--model", default=None, help="the student (default: the dataset's default)")
    ap.add_argument("--limit", type=int, default=100, help="first n of the paper's sample "
                    "(default 100)")
    ap.add_argument("--out", default=str(RESULTS), help="folder for loop_stop_cost_<dataset>.md "
                    "(default benchmarks/results/)")
    args = ap.parse_args(argv)
    started, load_before = time.perf_counter(), load()
    ds = load_dataset(args.dataset, resolve_data_dir(args.data_dir))
    model = args.model or default_student(args.dataset)
    scorer = load_scorer(model, ds)
    if not scorer.stop_loop_ngram:
        ap.error(f"{model} has no loop stop on {args.dataset} (stop_loop_ngram in its card)")
    samples = eval_samples(ds, "test", args.limit, sample="paper")
    refs, _ = teacher_references(ds, samples)
    rows, rest = [], []   # the texts the stop ended; the others (for scale)
    for number, sample in enumerate(samples, 1):
        pred = scorer.predict(ds, sample, explain=True)
        if sample.sample_id in refs:
            (rows if "stopped" in pred.extra else rest).append(
                {"sample": sample, "cut": pred.rationale})
        print(f"\r{number}/{len(samples)} generated, {len(rows)} stopped", end="", flush=True)
    n_stop, scorer.stop_loop_ngram = scorer.stop_loop_ngram, 0
    for row in rows:
        s = row["sample"]
        row["whole"] = scorer.predict(ds, s, explain=True).rationale
        shown = [item_title(ds.item(h.item_id)) for h in scorer.render(ds, s).kept]
        row["titles_kept"], row["titles_cut"] = cut_outside_titles(
            row["whole"], shown + [item_title(ds.item(s.target))], n_stop)
    print()
    references = [compared_text(refs[r["sample"].sample_id]) for r in rows]
    table = []
    for key, what in (("cut", "as served: ended by the loop stop"),
                      ("whole", "the same generation without the stop"),
                      ("titles_kept", "whole, cut by the rule with n-grams inside shown titles "
                                      "not counted")):
        f1 = bertscore_f1([compared_text(r[key]) for r in rows], references) if rows else []
        table.append(f"| {what} | {len(rows)} | "
                     f"{statistics.fmean(f1) if f1 else float('nan'):.4f} | "
                     f"{statistics.median(len(r[key].split()) for r in rows) if rows else 0:g} | "
                     f"{sum(loop_fields(r[key])['loops'] for r in rows)} |")
    f1 = bertscore_f1([compared_text(r["cut"]) for r in rest],
                      [compared_text(refs[r["sample"].sample_id]) for r in rest]) if rest else []
    table.append(f"| (for scale) the other texts, which ended by themselves | {len(rest)} | "
                 f"{statistics.fmean(f1) if f1 else float('nan'):.4f} | "
                 f"{statistics.median(len(r['cut'].split()) for r in rest) if rest else 0:g} | "
                 f"{sum(loop_fields(r['cut'])['loops'] for r in rest)} |")
    kept_cut = sum(r["titles_cut"] for r in rows)
    out = Path(args.out) / f"loop_stop_cost_{args.dataset}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f"# What the loop stop costs: {model} on {args.dataset}\n\n"
        f"Made by `python benchmarks/loop_stop_cost.py {command_line(sys.argv[1:] if argv is None else argv)}` "
        f"on {machine(settings=False)} (load {load_before} at the start, {load()} at the end), "
        f"{time.perf_counter() - started:.0f} s in all.\n"
        f"- Sample: the first {len(samples)} of the paper's test sample; the student as served "
        f"(its card's decode settings for {args.dataset}, stop_loop_ngram={n_stop}); "
        f"{len(rows)} of the {len(samples)} texts were ended by the loop stop.\n"
        f"- Reference: the dataset's teacher rationale for the same sample; BERTScore F1: "
        f"{BACKBONE_NOTE}.\n"
        f"- Loops: a word {LOOP_N}-gram more than {LOOP_MORE_THAN} times (the explanation "
        "metric's rule).\n"
        f"- Cut with shown titles' n-grams not counted: {kept_cut} of {len(rows)} still cut.\n\n"
        "| the stopped texts | n | BERTScore F1 mean | words (median) | loops |\n"
        "|---|---:|---:|---:|---:|\n" + "\n".join(table) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    run(main)
