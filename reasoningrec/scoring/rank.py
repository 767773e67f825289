"""Rank many candidate items for one user, reading the shared user prefix only once.

    from reasoningrec.scoring.rank import candidate_items, rank_candidates
    ids = candidate_items(ds, sample, n=100, seed=42)        # the target + 99 unseen items
    ranked, stats = rank_candidates(scorer, ds, sample, ids) # [(item_id, p_yes), ...] best first

Every candidate's prompt is the scorer's own rendering (LLMScorer.render: its template,
prompt options and collaborative evidence, exactly what `predict` scores) of the sample with
that candidate as the target. All candidates show the same history — the entries fitted once
for the sample's own target — so the system text, profile and history are a shared token
prefix (RenderedPrompt.shared_prefix), scored in one backend session
(`session(prefix).score_continuations(tails)`, models/session.py): llama.cpp evaluates the
prefix once and then only each candidate's tail, transformers batches the prompts.
`fast=False` scores every prompt from scratch: the reference the benchmark compares against.
`progress(done, total)`, when given, is called as the candidates are scored
(PROGRESS_STEP at a time, in the same session: the shared prefix is still read once).
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from ..data.schema import Dataset, Sample
from .llm import LLMScorer
from .rendered import RenderedPrompt

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
                      candidates: list[str]) -> list[RenderedPrompt]:
    """Each candidate's rendered prompt, all showing the history fitted for the sample's own
    target (rendered once: the target's own prompt is that render). Unknown ids raise KeyError."""
    for item_id in candidates:
        ds.item(item_id)
    own = scorer.render(ds, sample, reserve=TAIL_ROOM)
    return [own if item_id == sample.target else
            scorer.render(ds, replace(sample, target=item_id), history=own.kept,
                          reserve=TAIL_ROOM) for item_id in candidates]


def rank_candidates(scorer: LLMScorer, ds: Dataset, sample: Sample, candidates: list[str], *,
                    fast: bool = True, progress: Callable[[int, int], None] | None = None
                    ) -> tuple[list[tuple[str, float]], dict]:
    """((item_id, p_yes) best first, stats). Unknown candidate ids raise KeyError."""
    start = time.perf_counter()
    rendered = candidate_prompts(scorer, ds, sample, candidates)
    if fast:
        prefix = shared_prefix(rendered)
        tails = [r.text[len(prefix):] for r in rendered]
        step = PROGRESS_STEP if progress is not None else max(len(tails), 1)
        scores = []
        with scorer.backend.session(prefix) as session:
            for first in range(0, len(tails), step):
                scores += session.score_continuations(tails[first:first + step])
                if progress is not None:
                    progress(len(scores), len(tails))
    else:
        scores = [scorer.backend.p_yes(r.text, reuse_cache=False) for r in rendered]
    ranked = sorted(zip(candidates, (s.p_yes for s in scores)), key=lambda x: (-x[1], x[0]))
    stats = {"candidates": len(candidates), "history_kept": len(rendered[0].kept) if rendered else 0,
             "fast": fast, "seconds": time.perf_counter() - start}
    return ranked, stats


def shared_prefix(rendered: list[RenderedPrompt]) -> str:
    """The text every candidate's prompt starts with: their shared_prefix (the system turn,
    profile and history), or "" when the prompts do not share it."""
    if not rendered:
        return ""
    prefix = rendered[0].shared_prefix
    return prefix if all(r.text.startswith(prefix) for r in rendered) else ""
