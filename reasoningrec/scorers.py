"""`--model` names → scorers. The one place that knows every kind of model.

    popularity | mf | sasrec | lr         classic baselines (reasoningrec/baselines/)
    zero-shot:<llm spec>                  P(Yes) with the zero-shot prompt
    tallrec:<llm spec>                    P(Yes) with TALLRec's prompt
    student                               the shipped distilled student (assets/student/)
    student-evidence                      the hybrid student reading collaborative evidence
                                          (assets/student_evidence/)
    <llm spec>                            llamacpp:/hf:/openai:/smollm2 with the student prompt
"""
from __future__ import annotations

import json

from .config import ASSETS_DIR
from .data.schema import Dataset
from .scoring import Scorer

BASELINES = ("popularity", "mf", "sasrec", "lr")
STUDENT_DIR = ASSETS_DIR / "student"
# Shipped students by short name: the paper's text-only student and the hybrid one that reads
# collaborative evidence (issue #8; training/recipes/smollm2-135m-gpu-ml1m-evidence.yaml).
STUDENTS = {"student": STUDENT_DIR, "student-evidence": ASSETS_DIR / "student_evidence"}


def _student_dir(name: str):
    if name not in STUDENTS:
        raise ValueError(f"unknown shipped student {name!r}: {', '.join(STUDENTS)}")
    return STUDENTS[name]


def student_options(name: str = "student") -> dict:
    """The prompt options a shipped student was trained with (assets/<dir>/student.json):
    serving it with other options (more history, descriptions) shows it prompts it never saw."""
    meta = _student_dir(name) / "student.json"
    if not meta.is_file():
        return {}
    return dict(json.loads(meta.read_text(encoding="utf-8")).get("prompt_options", {}))


def student_spec(name: str = "student") -> str:
    """SmolLM2 + a shipped LoRA adapter, when the training issue has shipped one."""
    from .models.registry import smollm2_gguf
    lora = _student_dir(name) / "adapter.gguf"
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
    if spec in STUDENTS:
        name, spec = spec, student_spec(spec)
        # the student's own options, except where the caller asked for something else
        defaults = PromptOptions()
        given = {**student_options(name), **{k: v for k, v in given.items()
                                             if v != getattr(defaults, k, None)}}
    opts = PromptOptions(**given)
    return LLMScorer(load_backend(spec), template=template, options=opts)
