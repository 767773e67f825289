"""Classic baselines in the same harness as the LLMs:
`--model popularity | mf | sasrec | lr | like-share`.

    from reasoningrec.scoring.baselines import make
    scorer = make("mf").fit(ds)                 # fitted once per dataset in this process
    preds = scorer.predict_many(ds, ds.splits["test"])

All of them fit on the train split and on interactions with every user's valid/test targets
held out (interactions.py), except like-share, which reads only the sample's own history;
none of them writes a rationale.
"""
from __future__ import annotations

from .base import BaselineScorer, forget_fitted
from .interactions import build_training_data, held_out_pairs, like_threshold, training_data

NAMES = ("popularity", "mf", "sasrec", "lr", "like-share")

__all__ = ["NAMES", "BaselineScorer", "LRScorer", "LikeShareScorer", "MFScorer", "PopularityScorer", "SASRecScorer",
           "build_training_data", "forget_fitted", "held_out_pairs", "like_threshold", "make",
           "training_data"]


def make(name: str, **options) -> BaselineScorer:
    """An unfitted baseline by its `--model` name; `options` go to its constructor."""
    if name == "popularity":
        from .popularity import PopularityScorer
        return PopularityScorer(**options)
    if name == "mf":
        from .mf import MFScorer
        return MFScorer(**options)
    if name == "sasrec":
        from .sasrec import SASRecScorer
        return SASRecScorer(**options)
    if name == "lr":
        from .lr import LRScorer
        return LRScorer(**options)
    if name == "like-share":
        from .like_share import LikeShareScorer
        return LikeShareScorer(**options)
    raise ValueError(f"unknown baseline {name!r}; expected one of {', '.join(NAMES)}")


def __getattr__(name: str):
    # Scorer classes load lazily: mf pulls in implicit/scikit-learn, sasrec pulls in torch.
    if name == "PopularityScorer":
        from .popularity import PopularityScorer
        return PopularityScorer
    if name == "MFScorer":
        from .mf import MFScorer
        return MFScorer
    if name == "SASRecScorer":
        from .sasrec import SASRecScorer
        return SASRecScorer
    if name == "LRScorer":
        from .lr import LRScorer
        return LRScorer
    if name == "LikeShareScorer":
        from .like_share import LikeShareScorer
        return LikeShareScorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
