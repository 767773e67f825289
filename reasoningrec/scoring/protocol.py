"""What every model in the harness returns, and the interface it implements.

A *scorer* turns a sample into a Prediction. LLM scorers (reasoningrec/scoring/llm.py) read P(Yes)
off a backend; baselines (reasoningrec/scoring/baselines/) fit on training interactions first. The
evaluation harness, the app and the benchmarks only see this interface.

    scorer = load_scorer("popularity", ds)        # reasoningrec/scoring/registry.py
    pred = scorer.predict(ds, ds.sample("test", "1"))
    pred.p_yes, pred.label
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..data.schema import Dataset, Sample


@dataclass
class Prediction:
    p_yes: float                    # P(Yes) in [0, 1]
    hard_label: bool = False        # True: p_yes is 0/1 from text, not a probability
    rationale: str | None = None    # the explanation, for models that write one
    prompt_tokens: int | None = None
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)  # model-specific details (kept items, ...)

    @property
    def label(self) -> int:
        return int(self.p_yes >= 0.5)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["prediction"] = "Yes" if self.label else "No"
        return out


class Scorer:
    """Base class. `fit` sees the whole dataset once (baselines train on the train split and
    on interactions outside every user's valid/test targets); `predict` scores one sample."""

    name: str = "scorer"
    writes_rationale: bool = False

    def fit(self, ds: Dataset) -> "Scorer":
        return self

    def predict(self, ds: Dataset, sample: Sample, *, explain: bool = False) -> Prediction:
        raise NotImplementedError

    def predict_many(self, ds: Dataset, samples: list[Sample]) -> list[Prediction]:
        """Scores only (no rationales); baselines override this with a vectorised version."""
        return [self.predict(ds, s) for s in samples]

    def check_samples(self, ds: Dataset, samples: list[Sample]) -> None:
        """Raise ValueError before any scoring when this scorer cannot score `samples` (the
        harness calls it first, so a run fails at once, not after its first rows)."""
