"""Label-stratified sampling, as the paper draws its K=64 training samples (50/50 Yes/No).

    from reasoningrec.data.sampling import stratified_sample
    train = stratified_sample(ds.splits["train"], k=64, seed=0)   # 32 liked, 32 disliked

Deterministic for a given (samples, k, seed): each class is drawn with its own seeded RNG from
the samples in sample-id order, so the same call always returns the same samples whatever
order the loader produced them in. When one class has fewer than its half, all of it is taken
and the other class fills the rest (so K is met whenever the split has K samples).
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from .schema import Sample


def stratified_sample(samples: Sequence[Sample], k: int, seed: int = 0,
                      positive_share: float = 0.5) -> list[Sample]:
    """k samples, round(k * positive_share) with label 1 and the rest with label 0, shuffled.
    k <= 0 or k >= len(samples) returns every sample (shuffled the same way)."""
    if not 0.0 <= positive_share <= 1.0:
        raise ValueError(f"positive_share must be in [0, 1], got {positive_share}")
    ordered = sorted(samples, key=lambda s: s.sample_id)
    rng = random.Random(seed)
    if k <= 0 or k >= len(ordered):
        rng.shuffle(ordered)
        return ordered
    pos = [s for s in ordered if s.label == 1]
    neg = [s for s in ordered if s.label == 0]
    want_pos = min(round(k * positive_share), len(pos))
    want_neg = min(k - want_pos, len(neg))
    want_pos = min(k - want_neg, len(pos))  # the other class fills a short one
    chosen = (random.Random(f"{seed}:pos").sample(pos, want_pos)
              + random.Random(f"{seed}:neg").sample(neg, want_neg))
    rng.shuffle(chosen)
    return chosen
