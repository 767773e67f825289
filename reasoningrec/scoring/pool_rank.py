"""Top 10 for a demo-pool user: the app's student ranks pool candidates by P(Yes).

    from reasoningrec.scoring.pool_rank import pool_candidates, top_for_pool_user, top_items
    explainer = service.student("ml1m").explainer           # the app's student (LiveExplainer)
    top = top_for_pool_user(explainer, pool, "ml1m", "1")   # TopList: .rows best first (<= 10)
    top.rows[0].item_id, top.rows[0].p_yes, top.rows[0].held_out
    top.candidates, top.own, top.seconds                     # what was ranked, and how long
    top_for_pool_user(explainer, pool, "ml1m", "1", ds=req.ds, sample=req.sample)  # edited

Candidates (`pool_candidates`): the user's own pool candidates (their held-out test item first),
then the other pool users' candidates of the dataset — their test items first, in pool order —
that the user has not rated, up to n (default 20: on 2 idle cores ranking 100 took 36 s,
benchmarks/results/rank_speed.md, so 20 take a few seconds). Scores come from
LiveExplainer.rank (reasoningrec.scoring.rank: each candidate's prompt is the one `predict` scores,
the user's shared prefix read once); `progress(done, total)` is called while it runs.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..data.schema import Dataset, Sample
from ..demo_pool import DemoPool

CANDIDATES = 20
TOP = 10


@dataclass(frozen=True)
class Ranked:
    item_id: str
    title: str
    p_yes: float
    held_out: bool          # the pool user's real test item (the one the dataset held out)
    label: int | None       # the user's real answer for it, None when never rated


@dataclass(frozen=True)
class TopList:
    rows: list[Ranked]      # best first
    candidates: int         # how many were ranked
    own: int                # of them, the user's own pool candidates
    seconds: float
    history_kept: int       # history entries every candidate's prompt shows


def pool_candidates(pool: DemoPool, dataset: str, user_id: str, n: int = CANDIDATES,
                    rated: set[str] | None = None) -> tuple[list[str], int]:
    """(item ids, how many are the user's own pool candidates): the user's own first, then
    other pool users' candidates not in `rated` (default: the user's pool history), up to n."""
    if n < 1:
        raise ValueError(f"need at least 1 candidate, got {n}")
    user = pool.user(dataset, user_id)
    rated = {h.item_id for h in user.sample.history} if rated is None else set(rated)
    own = [c.item_id for c in user.candidates if c.item_id not in rated][:n]
    others = [u for u in pool.users[dataset] if u.user_id != user.user_id]
    ids = list(own)
    for item_id in [u.sample.target for u in others] + [c.item_id for u in others
                                                         for c in u.candidates]:
        if len(ids) >= n:
            break
        if item_id not in rated and item_id not in ids:
            ids.append(item_id)
    return ids, len(own)


def top_items(explainer, ds: Dataset, sample: Sample, candidates: list[str], own: int,
              held_out: str, labels: dict[str, int | None] | None = None, top: int = TOP,
              progress: Callable[[int, int], None] | None = None) -> TopList:
    """Rank `candidates` for the sample's user (its profile and history) with `explainer`
    (LiveExplainer or GPUExplainer) and keep the best `top`. Unknown ids raise KeyError."""
    ranked, stats = explainer.rank(ds, sample, candidates, progress=progress)
    labels = labels or {}
    rows = [Ranked(i, ds.item(i).title, p, i == held_out, labels.get(i)) for i, p in ranked[:top]]
    return TopList(rows, len(candidates), own, stats["seconds"], stats["history_kept"])


def top_for_pool_user(explainer, pool: DemoPool, dataset: str, user_id: str,
                      n: int = CANDIDATES, top: int = TOP,
                      progress: Callable[[int, int], None] | None = None, *,
                      ds: Dataset | None = None, sample: Sample | None = None) -> TopList:
    """The pool user's top `top` of `pool_candidates(n)`: as is, or with the page's edited
    `ds` (profile) and `sample` (history; its items are left out of the candidates)."""
    user = pool.user(dataset, user_id)
    sample = sample or user.sample
    ids, own = pool_candidates(pool, dataset, user_id, n,
                               rated={h.item_id for h in sample.history})
    labels = {c.item_id: c.label for c in user.candidates}
    return top_items(explainer, ds or pool.datasets[dataset], sample, ids, own,
                     user.sample.target, labels, top, progress)
