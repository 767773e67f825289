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


def test_a_training_runs_files_are_scored_with_the_options_it_recorded(ml1m, tmp_path):
    """`--model llamacpp:<base>+<run>/gguf/lora.gguf` (or hf:<base>+<run>/adapter) reads the
    prompt options from <run>/train_meta.json (training.sft writes it), as a shipped student
    is read from its card; flags still win; the report records what was served."""
    import shutil

    from reasoningrec.evaluate import run_eval
    from reasoningrec.models.registry import smollm2_gguf
    from reasoningrec.scoring.registry import run_options
    run = tmp_path / "run"
    (run / "gguf").mkdir(parents=True)
    shutil.copy(STUDENT_DIR / "adapter.gguf", run / "gguf" / "lora.gguf")
    recorded = {"with_description": False, "history_k": 4, "evidence": False}
    (run / "train_meta.json").write_text(json.dumps({"config": {**recorded, "lora_r": 8}}))
    spec = f"llamacpp:{smollm2_gguf()}+{run / 'gguf' / 'lora.gguf'}"
    assert run_options(spec) == (recorded, run / "train_meta.json")
    assert run_options(f"hf:{smollm2_gguf()}+{run / 'adapter'}")[0] == recorded
    assert run_options("smollm2") is None and run_options("openai:http://x/v1#m") is None
    scorer = load_scorer(spec, ml1m)
    assert scorer.options == PromptOptions(**recorded)
    assert load_scorer(spec, ml1m, history_k=2).options.history_k == 2
    result = run_eval(ml1m, scorer, model=spec, limit=2, report_dir=tmp_path / "report",
                      progress=False, prompt={})
    served = json.loads((tmp_path / "report" / "config.json").read_text())["served_prompt"]
    assert served == {**PromptOptions().__dict__, **recorded} and result["n"] == 2
    (run / "train_meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="train_meta.json: unreadable training record"):
        load_scorer(spec, ml1m)
