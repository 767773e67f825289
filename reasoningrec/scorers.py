"""`--model` names → scorers. The one place that knows every kind of model.

    popularity | mf | sasrec | lr         classic baselines (reasoningrec/baselines/)
    zero-shot:<llm spec>                  P(Yes) with the zero-shot prompt
    tallrec:<llm spec>                    P(Yes) with TALLRec's prompt
    student                               the shipped distilled student (assets/student/)
    <llm spec>                            llamacpp:/hf:/openai:/smollm2 with the student prompt
"""
from __future__ import annotations

import json

from .config import ASSETS_DIR
from .data.schema import Dataset
from .scoring import Scorer

BASELINES = ("popularity", "mf", "sasrec", "lr")
STUDENT_DIR = ASSETS_DIR / "student"


def student_options() -> dict:
    """The prompt options the shipped student was trained with (assets/student/student.json):
    serving it with other options (more history, descriptions) shows it prompts it never saw."""
    meta = STUDENT_DIR / "student.json"
    if not meta.is_file():
        return {}
    return dict(json.loads(meta.read_text(encoding="utf-8")).get("prompt_options", {}))


def student_spec() -> str:
    """SmolLM2 + the shipped LoRA adapter, when the training issue has shipped one."""
    from .models.registry import smollm2_gguf
    lora = STUDENT_DIR / "adapter.gguf"
    if not lora.is_file():
        raise FileNotFoundError(f"no shipped student adapter at {lora} yet; use "
                                "--model smollm2 (the base model) or train one (training/)")
    return f"llamacpp:{smollm2_gguf()}+{lora}"


def load_scorer(spec: str, ds: Dataset, **options) -> Scorer:
    """A fitted scorer for `spec` on `ds`. `options` are PromptOptions fields
    (with_profile, with_description, history_k, history_mode) for LLM scorers."""
    spec = spec.strip()
    if spec in BASELINES:
        from . import baselines
        return baselines.make(spec).fit(ds)
    from .models.loader import load_backend
    from .predict import LLMScorer, PromptOptions
    template = "student"
    for prefix, name in (("zero-shot:", "zero_shot"), ("tallrec:", "tallrec")):
        if spec.startswith(prefix):
            template, spec = name, spec[len(prefix):]
    given = {k: v for k, v in options.items() if v is not None}
    if spec == "student":
        spec = student_spec()
        # the student's own options, except where the caller asked for something else
        defaults = PromptOptions()
        given = {**student_options(), **{k: v for k, v in given.items()
                                         if v != getattr(defaults, k, None)}}
    opts = PromptOptions(**given)
    return LLMScorer(load_backend(spec), template=template, options=opts)
