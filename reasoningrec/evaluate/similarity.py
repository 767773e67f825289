"""Similarity of a model's explanations to the teacher's, as the paper reports it.

    from reasoningrec.evaluate.similarity import teacher_references, teacher_similarity
    refs, source = teacher_references(ds, samples)          # the dataset's own teacher rows
    refs, source = teacher_references(ds, samples, teacher_jsonl="runs/teacher/ml1m-test.jsonl")
    summary = teacher_similarity(rows, rationales, sample_ids, refs, source)

The reference for a sample is, in this order: the row of `--teacher-jsonl` (a training.teach
JSONL keyed by sample_id) when one is given; else the dataset's released teacher rationale for
the sample's split (`ds.teacher_rationale(sample, variant)`; variant None = the dataset's main
teacher: Fashion "mixtral-8x7b", ML-1M "mixtral-8x7b-wo_profile", test split only). Both texts
lose their "Prediction: Yes/No" first (stance.strip_prediction, then
data.outputs.teacher_text_without_prediction, which also removes the phrase mid-text): the
teacher was told the label, and a copied answer line would count as agreement.

Two measures per sample, as mean / median over the samples with a reference:
- teacher_cosine: all-MiniLM-L6-v2 sentence-embedding cosine (reasoningrec.retrieval.encode;
  texts past 256 tokens are truncated);
- teacher_bertscore_f1: BERTScore F1 (bertscore.py: bert-score with the same MiniLM as
  backbone, layer 6, no rescaling; the paper's deberta-xlarge-mnli is not available offline).
Rows keep both with a digest of the reference, so a resumed run recomputes only new pairs.
"""
from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path

from ..data.outputs import teacher_text_without_prediction
from ..data.schema import DataError
from .stance import strip_prediction

COSINE_KEY = "cosine_all-MiniLM-L6-v2"


def read_teacher(path: str | Path) -> dict[str, str]:
    """sample_id -> rationale from a training.teach JSONL; a bad line is a DataError."""
    path, out = Path(path), {}
    if not path.is_file():
        raise FileNotFoundError(f"teacher JSONL not found: {path}")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out[str(row["sample_id"])] = str(row["rationale"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(path, f"not a teacher rationale row with sample_id and rationale "
                                  f"({type(exc).__name__}: {exc})", line=number) from None
    return out


def compared_text(text: str | None) -> str:
    """What similarity compares: the text without any "Prediction: Yes/No" (see module doc)."""
    return teacher_text_without_prediction(strip_prediction(text))


def check_variant(ds, variant: str | None) -> None:
    """A ValueError naming the variants when `variant` is not one of the dataset's teachers."""
    if variant is not None and variant not in ds.teacher:
        raise ValueError(f"--teacher-variant {variant!r}: {ds.name} has "
                         f"{', '.join(sorted(ds.teacher)) or 'no teacher rationales'}")


def teacher_references(ds, samples, teacher_jsonl: str | Path | None = None,
                       variant: str | None = None) -> tuple[dict[str, str], dict]:
    """(sample_id -> reference text as released, a description of where it came from)."""
    if teacher_jsonl:
        teacher = read_teacher(teacher_jsonl)
        refs = {s.sample_id: teacher[s.sample_id] for s in samples if s.sample_id in teacher}
        return refs, {"source": "teacher-jsonl", "jsonl": str(teacher_jsonl)}
    check_variant(ds, variant)
    variant = variant or ds.main_teacher
    if variant is None:
        return {}, {"source": None, "note": f"{ds.name} has no teacher rationales and no "
                                            "--teacher-jsonl was given"}
    refs = {}
    for sample in samples:
        row = ds.teacher_rationale(sample, variant)
        if row is not None:
            refs[sample.sample_id] = row.text
    splits = sorted({s.split for s in samples})
    return refs, {"source": "dataset", "variant": variant, "split": "/".join(splits)}


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": None, "median": None}
    return {"n": len(values), "mean": round(statistics.fmean(values), 4),
            "median": round(float(statistics.median(values)), 4)}


def _digest(reference: str, candidate: str) -> str:
    return hashlib.sha1(f"{reference}\0{candidate}".encode()).hexdigest()[:12]


def teacher_similarity(rows: list[dict], rationales: list[str], sample_ids: list[str],
                       references: dict[str, str], source: dict) -> dict:
    """Set row["teacher_cosine"] and row["teacher_bertscore_f1"] (None without a reference)
    for each rationale; returns the summary metrics.json reports under explanations.teacher."""
    from .bertscore import BACKBONE_NOTE, BERTScoreUnavailable, bertscore_f1
    out = {**source, "n": 0}
    pairs, todo = [], []
    for row, text, sid in zip(rows, rationales, sample_ids):
        if sid not in references:
            row.update(teacher_cosine=None, teacher_bertscore_f1=None, teacher_pair=None)
            continue
        cand, ref = compared_text(text), compared_text(references[sid])
        pairs.append(row)
        digest = _digest(ref, cand)
        if row.get("teacher_pair") != digest or row.get("teacher_bertscore_f1") is None:
            row.update(teacher_pair=digest, teacher_cosine=None, teacher_bertscore_f1=None)
            todo.append((row, cand, ref))
    out["n"], out["without_reference"] = len(pairs), len(rows) - len(pairs)
    if not pairs:
        return {**out, "note": out.get("note") or "no reference rationale for these samples"}
    out["compared"] = "both texts without their 'Prediction: Yes/No'"
    if todo:
        from ..retrieval import encode
        cands, refs = encode([c for _, c, _ in todo]), encode([r for _, _, r in todo])
        for (row, _, _), a, b in zip(todo, cands, refs):
            row["teacher_cosine"] = round(float(a @ b), 6)
        try:
            f1 = bertscore_f1([c for _, c, _ in todo], [r for _, _, r in todo])
        except BERTScoreUnavailable as exc:
            f1, out["bertscore_unavailable"] = [None] * len(todo), str(exc)
        for (row, _, _), value in zip(todo, f1):
            row["teacher_bertscore_f1"] = None if value is None else round(value, 6)
    out[COSINE_KEY] = stats([r["teacher_cosine"] for r in pairs])
    scored = [r["teacher_bertscore_f1"] for r in pairs if r["teacher_bertscore_f1"] is not None]
    out["bertscore_f1"] = stats(scored) if scored else None
    out["bertscore_backbone"] = BACKBONE_NOTE
    return out
