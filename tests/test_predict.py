"""LLMScorer and the `predict` CLI on real samples: a tiny model for the fast tests,
SmolLM2 in the slow one."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.models.loader import load_backend
from reasoningrec.scoring.llm import LLMScorer, prompt_history
from reasoningrec.scoring.options import PromptOptions
from reasoningrec.scoring.registry import load_scorer



@pytest.fixture(scope="module")
def tiny(tiny_model):  # noqa: F811
    return load_backend(f"llamacpp:{tiny_model.gguf}")


def test_student_prediction_and_rationale_follow_the_score(ml1m, tiny):
    scorer = LLMScorer(tiny, "student", max_new_tokens=12)
    sample = ml1m.sample("test", "1")
    pred = scorer.predict(ml1m, sample, explain=True)
    text = scorer.render(ml1m, sample).text
    assert text.endswith("Prediction:")
    assert pred.p_yes == pytest.approx(tiny.p_yes(text).p_yes, abs=1e-9)
    assert 0.0 < pred.p_yes < 1.0 and not pred.hard_label
    # The rationale continues "Prediction: <label>\nReasoning:", so it explains that label.
    answer = " Yes" if pred.label else " No"
    expected = tiny.generate(text + answer + "\nReasoning:", max_tokens=12,
                             stop=["<|im_end|>", "\nPrediction:"]).strip()
    assert pred.rationale == expected
    assert pred.prompt_tokens == tiny.count_tokens(text)
    assert pred.extra["history_kept"] == 20


def test_stream_explanation_yields_prediction_then_tokens(ml1m, tiny):
    scorer = LLMScorer(tiny, "student", max_new_tokens=8)
    sample = ml1m.sample("test", "10")
    events = list(scorer.stream_explanation(ml1m, sample))
    assert events[0][0] == "prediction"
    assert all(kind == "token" for kind, _ in events[1:])
    streamed = "".join(piece for _, piece in events[1:]).strip()
    assert streamed == scorer.predict(ml1m, sample, explain=True).rationale


def test_small_context_drops_oldest_history(ml1m, tiny):
    full = LLMScorer(tiny, "student", max_new_tokens=16)
    small = LLMScorer(tiny, "student", max_new_tokens=16, context=700)
    sample = ml1m.sample("test", "1")
    fitted = small.render(ml1m, sample)
    assert fitted.n_tokens <= 700 - 16 and 0 < len(fitted.kept) < 20
    assert fitted.kept == sample.history[-len(fitted.kept):]
    assert full.render(ml1m, sample).n_tokens > fitted.n_tokens


def test_history_options(ml1m):
    sample = ml1m.sample("test", "1")
    assert prompt_history(ml1m, sample, PromptOptions(history_k=5)) == sample.history[-5:]
    with pytest.raises(ValueError, match="history_mode: must be recent or relevant"):
        PromptOptions(history_mode="oldest")
    with pytest.raises(ValueError, match="history_k: must be at least 1"):
        PromptOptions(history_k=0)


def test_zero_shot_scores_at_turn_start(ml1m, tiny, tiny_model):  # noqa: F811
    scorer = load_scorer(f"zero-shot:llamacpp:{tiny_model.gguf}", ml1m)
    text = scorer.render(ml1m, ml1m.sample("test", "1")).text
    assert text.endswith("<|im_start|>assistant\n")
    pred = scorer.predict(ml1m, ml1m.sample("test", "1"), explain=True)
    assert pred.rationale is None and 0 < pred.p_yes < 1


def test_predict_cli_errors(data_dir):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "reasoningrec", "predict", "--dataset",
                               "ml1m", "--data-dir", str(data_dir), *args],
                              capture_output=True, text=True, timeout=300)
    bad_user = run("--user", "999999", "--model", "smollm2")
    assert bad_user.returncode == 2 and "999999" in bad_user.stderr
    bad_model = run("--user", "1", "--model", "gpt-7")
    assert bad_model.returncode == 2 and "unknown model spec" in bad_model.stderr
    missing = run("--user", "1", "--model", "llamacpp:/nonexistent/model.gguf")
    assert missing.returncode == 2 and "/nonexistent/model.gguf" in missing.stderr


@pytest.mark.slow
def test_predict_cli_with_smollm2(data_dir):
    out = subprocess.run([sys.executable, "-m", "reasoningrec", "predict", "--dataset", "fashion",
                          "--data-dir", str(data_dir), "--split", "test", "--user", "0",
                          "--model", "smollm2", "--json"],
                         capture_output=True, text=True, timeout=600, check=True)
    result = json.loads(out.stdout)
    assert {"p_yes", "prediction", "rationale", "prompt_tokens", "seconds"} <= set(result)
    assert 0 <= result["p_yes"] <= 1 and result["prediction"] in ("Yes", "No")
    assert result["prediction"] == ("Yes" if result["p_yes"] >= 0.5 else "No")
    assert result["rationale"] and result["prompt_tokens"] > 100
