"""`reasoningrec eval`: score a model on the paper's test (or valid) sample and write a report.

    reasoningrec eval --dataset ml1m --data-dir ../shared/data --split test --model popularity --json
    reasoningrec eval --dataset fashion --model student --limit 50 --explanations
    reasoningrec eval --dataset fashion --sample paper --model authors:sample64_valsample800_lr1e-4_valauc

--sample seeded (the default) scores the paper's seeded draw of the split; --sample paper the
authors' own test users where their outputs are released (Fashion: 800), else the same seeded
draw; "sample" in the output says which was used and its n.

Prints {"dataset", "split", "model", "sample", "n", "auc", "accuracy", "f1", "logloss", "ece", "seconds",
...}; the report folder (default reports/<dataset>-<split>-<model>-n<N>/) holds
predictions.jsonl, metrics.json, roc.png and calibration.png. Re-running an interrupted
command resumes from predictions.jsonl. --explanations adds explanations.jsonl (per sample:
checker stance, consistency, cited titles and their grounding, length, teacher cosine) and an
"explanations" summary in metrics.json (reasoningrec/evaluate/explanations.py).
"""
from __future__ import annotations

import dataclasses

from ..models.decoding import add_decode_args, decode_from_args
from ..scoring.options import add_prompt_args, prompt_options
from . import positive_int
from .data import add_dataset_args


def register(sub) -> None:
    p = sub.add_parser("eval", help="evaluate a model: AUC and friends, per-sample report, plots")
    add_dataset_args(p, split=True)
    p.add_argument("--model", default="student",
                   help="model spec: popularity, mf, sasrec, lr, like-share, student, smollm2, "
                        "authors:<run> (the paper's student, replayed; with --sample paper), "
                        "zero-shot:<spec>, tallrec:<spec>, llamacpp:..., hf:..., openai:...#... "
                        "(default: student)")
    p.add_argument("--sample", default="seeded", choices=["seeded", "paper"],
                   help="which samples: seeded = the paper's seed-42 draw (default); paper = the "
                        "authors' own test users where their outputs are released (Fashion's "
                        "800), else the seeded draw")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="score N samples drawn with --seed (default: the paper's 1,500 ML-1M / "
                        "800 Fashion / 600 Beauty for valid and test; else the whole split)")
    p.add_argument("--seed", type=int, default=42, help="sampling seed (default: 42, the paper's)")
    p.add_argument("--report-dir", default=None,
                   help="report folder (default: reports/<dataset>-<split>-<model>-n<N>)")
    p.add_argument("--overwrite", action="store_true",
                   help="discard an existing report in the folder instead of resuming it")
    p.add_argument("--explanations", action="store_true",
                   help="also have the model write a rationale per sample (slower; stored in "
                        "predictions.jsonl) and judge them: consistency, grounding, length, "
                        "similarity to the teacher (explanations.jsonl, metrics.json)")
    p.add_argument("--checker", default="smollm2",
                   help="consistency checker: a model spec for an LLM judge, or 'lexical' "
                        "(default: smollm2, offline)")
    p.add_argument("--checker-mode", default="auto", choices=["auto", "continuation", "yesno"],
                   help="how the LLM judge is asked (auto: continuation where the backend gives "
                        "log-probabilities, else yesno; see reasoningrec/evaluate/stance.py)")
    p.add_argument("--teacher-jsonl", default=None,
                   help="teacher rationales (python -m training.teach output, keyed by "
                        "sample_id) to compare the explanations with (default: the dataset's "
                        "own teacher rationales for the split, when it has them)")
    p.add_argument("--teacher-variant", default=None,
                   help="which of the dataset's teacher rationales the explanations are compared "
                        "with, e.g. mixtral-8x7b-wo_profile (default: its main one, "
                        "mixtral-8x7b where present)")
    add_prompt_args(p)
    add_decode_args(p)
    p.add_argument("--concurrency", type=positive_int, default=None,
                   help="requests in flight to an openai: server (vLLM and llama.cpp's server "
                        "batch them; default: the backend's 8)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar (stderr)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args) -> dict:
    from ..data import load_dataset
    from ..evaluate import run_eval
    from ..scoring.registry import load_scorer
    if ((args.teacher_jsonl or args.teacher_variant or args.checker != "smollm2")
            and not args.explanations):
        raise ValueError("--checker, --teacher-jsonl and --teacher-variant judge explanations: "
                         "add --explanations")
    if args.teacher_jsonl and args.teacher_variant:
        raise ValueError("--teacher-jsonl and --teacher-variant both name the reference: give one")
    if args.teacher_jsonl:  # a bad path should fail now, not after hours of scoring
        from ..evaluate.similarity import read_teacher
        read_teacher(args.teacher_jsonl)
    ds = load_dataset(args.dataset, args.data_dir, strict=args.strict)
    from ..evaluate.similarity import check_variant
    check_variant(ds, args.teacher_variant)
    options = dataclasses.asdict(prompt_options(args))
    decode = decode_from_args(args)
    if decode and not args.explanations:
        raise ValueError("--repeat-penalty and the other decode flags shape the rationales: "
                         "add --explanations")
    scorer = load_scorer(args.model, ds, concurrency=args.concurrency, **options,
                         **({"decode": decode} if decode else {}))
    try:
        return run_eval(ds, scorer, split=args.split, model=args.model, limit=args.limit,
                        seed=args.seed, report_dir=args.report_dir, overwrite=args.overwrite,
                        explain=args.explanations, prompt=options,
                        progress=not args.no_progress, checker=args.checker,
                        checker_mode=args.checker_mode, teacher_jsonl=args.teacher_jsonl,
                        sample=args.sample, teacher_variant=args.teacher_variant,
                        decode=getattr(scorer, "decode", None) if args.explanations else None)
    except KeyboardInterrupt:
        raise RuntimeError("interrupted; the rows scored so far are saved; run the same "
                           "command again to resume") from None
