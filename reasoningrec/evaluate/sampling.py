"""Which samples an evaluation scores: the paper's seeded subsamples.

    from reasoningrec.evaluate.sampling import eval_samples
    samples = eval_samples(ds, "test")            # ML-1M: 1,500 of 6,040, seed 42
    samples = eval_samples(ds, "test", limit=100) # any other size, same sampler

How the paper sampled (millenniumbismay/llm-based-seq-rec, `predfirst_evaluate_reasoning_rec.py`
for ml_1m, fashion and beauty): the test list in file order, then

    random.seed(42); test_data = random.sample(test_data, test_sample)

with test_sample = 800 (Fashion) and 600 (Beauty); the ML-1M script in the repository says
3000, the paper reports 1,500, and we follow the paper. The fine-tuning scripts draw their
validation sets with the same sizes (valsample1500 / 800 / 600), so valid uses the same sizes
here. `random.Random(seed).sample` is the same generator as `random.seed(seed);
random.sample(...)`, so this reproduces their selection as long as our split keeps the CSV
order (the loaders do). Not pandas: the paper's evaluation never calls `DataFrame.sample`.

Other datasets (and the train split) are scored whole unless `limit` says otherwise. ml1m-raw
rebuilds the same ML-1M protocol, so it gets the ML-1M size.
"""
from __future__ import annotations

import random

from ..data.schema import Dataset, Sample

SEED = 42
PAPER_SIZES = {"ml1m": 1500, "ml1m-raw": 1500, "fashion": 800, "beauty": 600}
SAMPLED_SPLITS = ("valid", "test")


def default_size(dataset: str, split: str) -> int | None:
    """The paper's subsample size for (dataset, split); None = the whole split."""
    return PAPER_SIZES.get(dataset) if split in SAMPLED_SPLITS else None


def eval_samples(ds: Dataset, split: str, limit: int | None = None,
                 seed: int = SEED) -> list[Sample]:
    """`limit` (else the paper's size) samples of `split`, drawn as the paper drew them.
    When the size covers the whole split, the split is returned in file order."""
    if split not in ds.splits:
        raise KeyError(f"unknown split {split!r}; {ds.name} has {sorted(ds.splits)}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be a positive number of samples, got {limit}")
    population = ds.splits[split]
    if not population:
        raise ValueError(f"{ds.name}:{split} has no samples")
    paper = default_size(ds.name, split)
    size = limit if limit is not None else paper
    if size is None or size >= len(population):
        return list(population)
    if paper is not None and size < paper:  # a prefix of the paper's draw, so a small run's
        # samples are also in every larger run (random.sample(k) is no prefix of sample(k'))
        return random.Random(seed).sample(population, min(paper, len(population)))[:size]
    return random.Random(seed).sample(population, size)
