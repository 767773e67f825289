"""Rank many candidate items for one user, reading the shared user prefix only once.

    from reasoningrec.scoring.rank import candidate_items, rank_candidates
    ids = candidate_items(ds, sample, n=100, seed=42)        # the target + 99 unseen items
    ranked, stats = rank_candidates(scorer, ds, sample, ids) # [(item_id, p_yes), ...] best first

Every candidate's prompt is the scorer's own rendering (LLMScorer.render: its template,
prompt options and collaborative evidence, exactly what `predict` scores) of the sample with
that candidate as the target. All candidates show the same history — the entries fitted once
for the sample's own target — so the system text, profile and history are a shared token
prefix: the backend evaluates it once and then only each candidate's tail
(LlamaCppBackend.p_yes_many). `fast=False` scores every prompt from scratch: the reference
the benchmark compares against. `progress(done, total)`, when given, is called as the
candidates are scored (PROGRESS_STEP at a time; the shared prefix is still read once).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from ..data.schema import Dataset, Sample
from .llm import LLMScorer

TAIL_ROOM = 96  # tokens kept free for the longest candidate's tail beyond the target's
PROGRESS_STEP = 4  # candidates scored between two progress calls


def candidate_items(ds: Dataset, sample: Sample, n: int, seed: int = 42) -> list[str]:
    """The sample's target plus n-1 items the user has not rated in the history, drawn with
    `seed` from the catalogue (sorted ids first, so the draw is reproducible)."""
    if n < 1:
        raise ValueError(f"need at least 1 candidate, got {n}")
    seen = {h.item_id for h in sample.history} | {sample.target}
    pool = sorted(i for i in ds.items if i not in seen)
    if n - 1 > len(pool):
        raise ValueError(f"asked for {n} candidates but only {len(pool) + 1} items are unseen")
    return [sample.target] + random.Random(seed).sample(pool, n - 1)


def candidate_prompts(scorer: LLMScorer, ds: Dataset, sample: Sample,
                      candidates: list[str]) -> tuple[list[str], int]:
    """(each candidate's prompt text, history entries shown). Unknown ids raise KeyError."""
    for item_id in candidates:
        ds.item(item_id)
    fitted, _ = scorer.render(ds, sample, reserve=TAIL_ROOM)
    texts = [scorer.render(ds, replace(sample, target=item_id), history=fitted.kept,
                           reserve=TAIL_ROOM)[1] for item_id in candidates]
    return texts, len(fitted.kept)


def rank_candidates(scorer: LLMScorer, ds: Dataset, sample: Sample, candidates: list[str], *,
                    fast: bool = True, progress: Callable[[int, int], None] | None = None
                    ) -> tuple[list[tuple[str, float]], dict]:
    """((item_id, p_yes) best first, stats). Unknown candidate ids raise KeyError."""
    start = time.perf_counter()
    texts, kept = candidate_prompts(scorer, ds, sample, candidates)
    if fast and progress is not None:   # the cache keeps the shared prefix between steps
        scores = []
        for first in range(0, len(texts), PROGRESS_STEP):
            scores += scorer.backend.p_yes_many(texts[first:first + PROGRESS_STEP])
            progress(len(scores), len(texts))
    elif fast:
        scores = scorer.backend.p_yes_many(texts)
    else:
        scores = [scorer.backend.p_yes(t, reuse_cache=False) for t in texts]
    ranked = sorted(zip(candidates, (s.p_yes for s in scores)), key=lambda x: (-x[1], x[0]))
    stats = {"candidates": len(candidates), "history_kept": kept,
             "fast": fast, "seconds": time.perf_counter() - start}
    return ranked, stats
