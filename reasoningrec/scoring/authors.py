"""`--model authors:<run>`: the paper's own student, replayed from its released outputs.

    reasoningrec eval --dataset fashion --model authors:sample64_valsample800_lr1e-4_valauc \
        --sample paper                                   # AUC 0.6554, the authors' results.json
    reasoningrec eval --dataset fashion --sample paper \
        --model authors:llama2-7b-chat/sample256_valsample800_lr1e-4_valauc       # AUC 0.7356

The authors' Llama-2-7B + LoRA student was run on their 800 Fashion test users; its P(Yes) and
generated text are in <data-dir>/reasoningrec/<dataset>/authors_student/<model>/<run>/
(ds.authors, data/outputs.py). This scorer serves them through the same harness as every
other model: P(Yes) as released, the rationale = their `student_output` without its leading
"Prediction: Yes/No". It can only score the samples they ran: any other sample set is an error
before anything is scored (use --sample paper).
"""
from __future__ import annotations

from ..data.outputs import authors_explanation
from ..data.schema import Dataset, Sample
from .protocol import Prediction, Scorer

PREFIX = "authors:"


class AuthorsScorer(Scorer):
    """P(Yes) and explanation of one released run of the authors' student."""

    writes_rationale = True

    def __init__(self, ds: Dataset, run: str):
        if not ds.authors:
            raise ValueError(f"{ds.name} has no authors' outputs (expected "
                             f"authors_student/<model>/<run>/test_outputs.jsonl in its folder)")
        try:
            self.run = ds.authors.resolve(run)
        except KeyError as err:
            raise ValueError(f"{PREFIX}{run}: {err.args[0]}") from None
        self.rows = ds.authors[self.run]
        self.dataset_name = ds.name
        self.name = f"{PREFIX}{self.run}"

    def check_samples(self, ds: Dataset, samples: list[Sample]) -> None:
        missing = [s for s in samples if self._row(ds, s) is None]
        if missing:
            raise ValueError(
                f"{self.name} holds the authors' outputs for {len(self.rows)} {ds.name} test "
                f"users only; {len(missing)} of these {len(samples)} samples are outside their "
                f"draw (e.g. {missing[0].sample_id}); evaluate with --sample paper")

    def _row(self, ds: Dataset, sample: Sample):
        if ds.name != self.dataset_name or sample.split != "test":
            return None
        return self.rows.get(sample.key or sample.user_id)

    def predict(self, ds: Dataset, sample: Sample, *, explain: bool = False) -> Prediction:
        row = self._row(ds, sample)
        if row is None:
            self.check_samples(ds, [sample])
        return Prediction(p_yes=row.p_yes, rationale=authors_explanation(row.explanation))

    def predict_many(self, ds: Dataset, samples: list[Sample]) -> list[Prediction]:
        self.check_samples(ds, samples)
        return [self.predict(ds, s) for s in samples]
