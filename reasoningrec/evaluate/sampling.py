"""Which samples an evaluation scores: the paper's seeded subsamples, or the authors' own draw.

    from reasoningrec.evaluate.sampling import eval_samples
    samples = eval_samples(ds, "test")            # ML-1M: 1,500 of 6,040, seed 42
    samples = eval_samples(ds, "test", limit=100) # any other size, same sampler
    samples = eval_samples(ds, "test", sample="paper")   # Fashion: the authors' 800 users

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

`sample="paper"`: where the dataset holds the authors' released test outputs
(authors_student/, ds.authors), exactly their users in their order; else the seeded draw
above. Their Fashion 800 are `random.Random(42).sample(<test samples with a mixtral-8x7b
rationale, CSV order>, 800)`: the same seed over the 896 samples the teacher covered, not over
all 1,273 (tests/test_evaluate.py checks it), so the seeded draw and theirs differ. A `limit`
takes a prefix of their draw.
"""
from __future__ import annotations

import logging
import random

from ..data.schema import Dataset, Sample

log = logging.getLogger(__name__)
SEED = 42
PAPER_SIZES = {"ml1m": 1500, "ml1m-raw": 1500, "fashion": 800, "beauty": 600}
SAMPLED_SPLITS = ("valid", "test")
SAMPLES = ("seeded", "paper")  # --sample choices; seeded is the default


def default_size(dataset: str, split: str) -> int | None:
    """The paper's subsample size for (dataset, split); None = the whole split."""
    return PAPER_SIZES.get(dataset) if split in SAMPLED_SPLITS else None


def authors_draw(ds: Dataset, split: str) -> tuple[list[Sample], str] | None:
    """(the samples of the authors' released outputs for `split`, in their order, the run they
    were read from); None when the dataset has none for the split (they are test-only). Every
    run must hold the same users in the same order (one draw), else ValueError."""
    if split != "test" or not ds.authors:
        return None
    runs = sorted(ds.authors)
    keys = list(ds.authors[runs[0]])
    for run in runs[1:]:
        if list(ds.authors[run]) != keys:
            raise ValueError(f"the authors' runs {runs[0]} and {run} hold different test users; "
                             "--sample paper needs one draw")
    by_key = {(s.key or s.user_id): s for s in ds.splits[split]}
    return [by_key[k] for k in keys], runs[0]


def sample_name(ds: Dataset, split: str, sample: str = "seeded") -> str:
    """The sample `eval_samples` actually draws: "paper" only where the authors' draw exists."""
    return "paper" if sample == "paper" and authors_draw(ds, split) else "seeded"


def describe_sample(ds: Dataset, split: str, sample: str = "seeded", seed: int = SEED) -> str:
    """One line saying how `eval_samples` draws (for config.json and metrics.json)."""
    draw = authors_draw(ds, split) if sample == "paper" else None
    if draw:
        return (f"the authors' {len(draw[0])} test users, in their order (the one draw of "
                f"their {len(ds.authors)} released runs, authors_student/); a limit takes the "
                "first n")
    what = "the paper's size" if default_size(ds.name, split) else "the whole split"
    return (f"the first n of random.Random({seed}).sample(split in file order, {what}), as the "
            "paper" + ("; this dataset has no authors' outputs" if sample == "paper" else ""))


def eval_samples(ds: Dataset, split: str, limit: int | None = None,
                 seed: int = SEED, sample: str = "seeded") -> list[Sample]:
    """`limit` (else the paper's size) samples of `split`, drawn as the paper drew them.
    When the size covers the whole split, the split is returned in file order.
    sample="paper": the authors' own users where the dataset has them (see module docstring)."""
    if split not in ds.splits:
        raise KeyError(f"unknown split {split!r}; {ds.name} has {sorted(ds.splits)}")
    if limit is not None and limit < 1:
        raise ValueError(f"--limit must be a positive number of samples, got {limit}")
    if sample not in SAMPLES:
        raise ValueError(f"unknown sample {sample!r}; expected one of {', '.join(SAMPLES)}")
    draw = authors_draw(ds, split) if sample == "paper" else None
    if draw:
        if seed != SEED:
            raise ValueError(f"--sample paper on {ds.name} is the authors' fixed draw; "
                             f"--seed {seed} does not apply (use --sample seeded)")
        return draw[0][:limit] if limit else draw[0]
    population = ds.splits[split]
    if not population:
        raise ValueError(f"{ds.name}:{split} has no samples")
    paper = default_size(ds.name, split)
    if paper is not None and len(population) < paper:
        log.warning("WARNING %s:%s has %d samples, fewer than the paper's %d: the split is "
                    "probably cut short, and this is not the paper's sample", ds.name, split,
                    len(population), paper)
    size = limit if limit is not None else paper
    if size is None or size >= len(population):
        return list(population)
    if paper is not None and size < paper:  # a prefix of the paper's draw, so a small run's
        # samples are also in every larger run (random.sample(k) is no prefix of sample(k'))
        return random.Random(seed).sample(population, min(paper, len(population)))[:size]
    return random.Random(seed).sample(population, size)
