"""Score a sample set with any Scorer, resumably, and write the report folder.

    from reasoningrec.evaluate import run_eval
    result = run_eval(ds, scorer, split="test", model="popularity")   # paper's subsample
    result["auc"], result["report_dir"]

Rows already in <report>/predictions.jsonl are kept and not scored again, so re-running an
interrupted command finishes the job; metrics and plots are computed from the full set of rows
in sample order, so a resumed run reports exactly what an uninterrupted one would. With
explain=True the rationales are then judged (explanations.py), also resumably.
"""
from __future__ import annotations

import dataclasses
import math
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from tqdm.auto import tqdm

from ..data.predictions import PredictionLog, read_predictions
from ..data.schema import Dataset, Sample
from ..scoring.protocol import Prediction, Scorer
from . import report
from .metrics import compute_metrics, rounded
from .plots import plot_calibration, plot_roc
from .sampling import SEED, describe_sample, eval_samples, sample_name

BATCH = 256  # samples per predict_many call for vectorised scorers without an eval_batch


def run_config(ds: Dataset, split: str, model: str, samples: list[Sample], limit: int | None,
               seed: int, explain: bool, prompt: dict | None, sample: str = "seeded",
               decode: dict | None = None) -> dict:
    """What config.json records; `sample` is what was asked for (seeded | paper); `decode`
    the rationales' decode settings (models/decoding.py; {} = plain greedy)."""
    return {"dataset": ds.name, "split": split, "model": model, "limit": limit,
            "n": len(samples), "seed": seed, "explanations": explain, "prompt": prompt or {},
            "decode": decode or {},
            "sample": sample_name(ds, split, sample),
            "sampler": describe_sample(ds, split, sample, seed),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}


def _row(sample: Sample, pred: Prediction, seconds: float, model: str) -> dict:
    p = float(pred.p_yes)
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise RuntimeError(f"model {model!r} returned P(Yes) = {pred.p_yes!r} for "
                           f"{sample.sample_id}; expected a number in [0, 1]")
    row = {"sample_id": sample.sample_id, "label": sample.label, "p_yes": p,
           "prediction": "Yes" if pred.label else "No", "hard_label": bool(pred.hard_label),
           "rationale": pred.rationale, "prompt_tokens": pred.prompt_tokens,
           "seconds": round(seconds, 6)}
    if pred.extra:
        row["extra"] = pred.extra
    return row


def _is_vectorised(scorer: Scorer) -> bool:
    return type(scorer).predict_many is not Scorer.predict_many


def _score(ds: Dataset, scorer: Scorer, todo: list[Sample], explain: bool):
    """Yield (sample, prediction, seconds) as soon as each is known."""
    if _is_vectorised(scorer) and not explain:
        # LLM scorers give their backend's batch (1 for llama.cpp: a row per sample is
        # written as it comes, so an interrupted run loses at most one sample).
        size = getattr(scorer, "eval_batch", BATCH)
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            t0 = time.perf_counter()
            preds = scorer.predict_many(ds, chunk)
            per_sample = (time.perf_counter() - t0) / len(chunk)
            if len(preds) != len(chunk):
                raise RuntimeError(f"{type(scorer).__name__}.predict_many returned "
                                   f"{len(preds)} predictions for {len(chunk)} samples")
            yield from ((s, p, per_sample) for s, p in zip(chunk, preds))
        return
    for sample in todo:
        t0 = time.perf_counter()
        pred = scorer.predict(ds, sample, explain=explain)
        yield sample, pred, time.perf_counter() - t0


def run_eval(ds: Dataset, scorer: Scorer, *, split: str = "test", model: str | None = None,
             limit: int | None = None, seed: int = SEED, report_dir: str | Path | None = None,
             reports_root: str | Path = "reports", overwrite: bool = False,
             explain: bool = False, prompt: dict | None = None, progress: bool = True,
             checker: str = "smollm2", checker_mode: str = "auto",
             teacher_jsonl: str | Path | None = None, sample: str = "seeded",
             teacher_variant: str | None = None, decode: dict | None = None) -> dict:
    """Evaluate `scorer` on the (sub)sampled `split` of `ds`; returns the summary dict that
    `reasoningrec eval --json` prints. `model` is the spec recorded in the report; `sample`
    "seeded" (the paper's seeded draw) or "paper" (the authors' own users where released,
    sampling.py). With `explain`, rationales are also judged (explanations.py: `checker` spec
    and mode; similarity to the dataset's teacher `teacher_variant`, or to the teacher JSONL)
    into explanations.jsonl and result["explanations"]. `decode`: the settings the
    rationales are generated with (recorded; a report made with others does not resume)."""
    wall_start = time.perf_counter()
    model = model or getattr(scorer, "name", type(scorer).__name__)
    samples = eval_samples(ds, split, limit, seed, sample)
    scorer.check_samples(ds, samples)  # e.g. replayed outputs that do not cover the draw
    config = run_config(ds, split, model, samples, limit, seed, explain, prompt, sample, decode)
    served = getattr(scorer, "options", None)
    if dataclasses.is_dataclass(served):
        # what the model's prompts really showed: a shipped student or a training run is served
        # with its own options, whatever "prompt" (the flags, which resuming compares) says
        config["served_prompt"] = dataclasses.asdict(served)
    folder = Path(report_dir) if report_dir else report.default_report_dir(config, reports_root)
    report.prepare(folder, config, overwrite)

    by_id = {s.sample_id: s for s in samples}
    if len(by_id) != len(samples):
        raise ValueError(f"{ds.name}:{split} has duplicate sample ids; cannot key a report")
    rows = read_predictions(folder, by_id)
    resumed = len(rows)
    todo = [s for s in samples if s.sample_id not in rows]

    bar = tqdm(total=len(samples), initial=resumed, desc=f"eval {model}", unit="sample",
               file=sys.stderr, disable=not progress, dynamic_ncols=True)
    try:
        with PredictionLog(folder) as log:
            for scored, pred, seconds in _score(ds, scorer, todo, explain):
                row = _row(scored, pred, seconds, model)
                log.append(row)
                rows[scored.sample_id] = row
                bar.update(1)
    finally:
        bar.close()

    ordered = [rows[s.sample_id] for s in samples]
    labels = [r["label"] for r in ordered]
    p_yes = [r["p_yes"] for r in ordered]
    metrics = compute_metrics(labels, p_yes, [r["hard_label"] for r in ordered])
    title = f"{ds.name} {split} (n={len(samples)}), {model}"
    plot_roc(labels, p_yes, folder / "roc.png", title=title)
    plot_calibration(labels, p_yes, folder / "calibration.png", title=title, ece=metrics["ece"])

    result = {"dataset": ds.name, "split": split, "model": model,
              "sample": {"name": config["sample"], "requested": sample, "n": len(samples),
                         "how": config["sampler"]},
              **rounded(metrics),
              # model time summed over every row, so resumed runs add up
              "seconds": round(sum(r["seconds"] for r in ordered), 3),
              "wall_seconds": round(time.perf_counter() - wall_start, 3),
              "scored_now": len(todo), "resumed": resumed, "report_dir": str(folder)}
    if explain:
        result["decode"] = config["decode"]
    if explain:
        from .explanations import evaluate_explanations
        result["explanations"] = evaluate_explanations(
            ds, samples, ordered, folder, checker=checker, checker_mode=checker_mode,
            teacher_jsonl=str(teacher_jsonl) if teacher_jsonl else None,
            teacher_variant=teacher_variant,
            count_tokens=getattr(getattr(scorer, "backend", None), "count_tokens", None),
            progress=progress)
    report.write_metrics(folder, result)
    return result
