"""The shipped student (assets/student/): its files, the prompt options it is served with, and
that its adapter really changes the base model's answer on real ML-1M samples."""
from __future__ import annotations

import json

import pytest

from reasoningrec.scoring.options import PromptOptions
from reasoningrec.scoring.registry import STUDENT_DIR, load_scorer, student_options, student_spec


def test_shipped_files_and_options():
    meta = json.loads((STUDENT_DIR / "student.json").read_text())
    assert (STUDENT_DIR / "adapter.gguf").stat().st_size > 1_000_000
    assert (STUDENT_DIR / "peft" / "adapter_model.safetensors").is_file()
    assert (STUDENT_DIR / "README.md").read_text().count("AUC") > 3
    PromptOptions(**meta["prompt_options"])  # valid options
    assert student_options() == meta["prompt_options"]
    assert student_spec().endswith("+" + str(STUDENT_DIR / "adapter.gguf"))


def test_student_is_served_with_its_options_unless_told_otherwise(ml1m):
    own = load_scorer("student", ml1m)
    assert own.options == PromptOptions(**student_options())
    told = load_scorer("student", ml1m, history_k=3, with_profile=False)
    assert told.options.history_k == 3 and told.options.with_profile is False
    assert told.options.with_description == student_options()["with_description"]


@pytest.mark.slow
def test_adapter_changes_p_yes(ml1m):
    options = student_options()
    student = load_scorer("student", ml1m)
    base = load_scorer("smollm2", ml1m, **options)
    samples = ml1m.splits["test"][:3]
    diffs = [abs(student.predict(ml1m, s).p_yes - base.predict(ml1m, s).p_yes) for s in samples]
    assert max(diffs) > 0.01, diffs
