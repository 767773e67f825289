"""The `openai:` backend and `training.teach` against a real OpenAI-compatible server:
llama-cpp-python's own (`python -m llama_cpp.server`, its `[server]` extra installed by
`bash scripts/setup.sh --test`) serving SmolLM2-135M-Instruct's GGUF on localhost.

    .venv/bin/python -m pytest tests/test_openai_server.py -q
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from reasoningrec.data import load_dataset
from reasoningrec.models.base import BackendError
from reasoningrec.models.llamacpp import LlamaCppBackend
from reasoningrec.models.loader import load_backend
from reasoningrec.models.registry import smollm2_gguf
from reasoningrec.scoring.llm import LLMScorer
from reasoningrec.scoring.options import PromptOptions
from reasoningrec.prompts import build
from training import teach

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server's base URL; one thread, so its answers do not race the test's own model."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_gguf()),
             "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", str(port),
             "--n_ctx", "2048", "--n_threads", "1", "--n_threads_batch", "1"],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited ({process.returncode}):\n"
                            + log.read_text()[-2000:])
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("llama_cpp.server did not answer /v1/models in 5 minutes")
        yield url
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture(scope="module")
def local():
    backend = LlamaCppBackend(smollm2_gguf(), n_ctx=2048)
    yield backend
    backend.close()


def test_teacher_rationale_and_p_yes_through_the_server(server, local, data_dir):
    """A rationale from the chat endpoint, and P(Yes) read from top logprobs (chat and
    completion endpoints) equal to what llama.cpp gives for the same GGUF in-process."""
    backend = load_backend(f"openai:{server}#smollm2")
    backend.check()
    ds = load_dataset("ml1m", data_dir)
    sample = ds.splits["test"][0]
    short = {"history": sample.history[-5:], "with_description": False}
    rationale = backend.chat(build("teacher_brief", ds, sample, **short).chat(), max_tokens=24)
    assert len(rationale.split()) >= 3, rationale
    messages = build("zero_shot", ds, sample, **short).chat()
    text = local.apply_chat(messages)
    expected = local.p_yes(text).p_yes
    for score in (backend.p_yes_chat(messages), backend.p_yes(text)):
        assert score.source == "top_logprobs" and not score.hard_label
        assert np.isclose(score.p_yes, expected, atol=0.02), (score, expected)
    # repetition penalties are llama.cpp's and transformers': a server call asking for them fails
    with pytest.raises(BackendError, match="apply to llama.cpp and transformers models"):
        backend.generate(text, max_tokens=4, penalties={"repeat_penalty": 1.2})
    assert backend.generate(text, max_tokens=4, penalties={}) is not None   # none asked: fine
    backend.close()


def test_student_scored_through_the_server_with_a_local_tokenizer(server, local, data_dir):
    """openai:<url>#<model>+<gguf>: the student's "...Prediction:" prompt is rendered here and
    scored from one generated token's top logprobs (not a hard label from chat text), as
    llama.cpp scores it in-process; p_yes_many keeps the order of its prompts."""
    backend = load_backend(f"openai:{server}#smollm2+{smollm2_gguf()}", max_concurrency=3)
    ds = load_dataset("ml1m", data_dir)
    samples = ds.splits["test"][:3]
    options = PromptOptions(history_k=5, with_description=False)
    remote = LLMScorer(backend, options=options, context=1024, max_new_tokens=8)
    mine = LLMScorer(local, options=options, context=1024, max_new_tokens=8)
    assert remote.render(ds, samples[0]).text == mine.render(ds, samples[0]).text
    expected = [p.p_yes for p in mine.predict_many(ds, samples)]
    got = remote.predict_many(ds, samples)
    assert not any(p.hard_label for p in got)
    assert np.allclose([p.p_yes for p in got], expected, atol=0.02), (got, expected)
    backend.close()


def rows(path):
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"}
            for line in path.read_text().splitlines()]


def test_teach_with_concurrency_writes_the_serial_rows_in_order_and_resumes(server, data_dir,
                                                                            tmp_path):
    args = ["--teacher", f"openai:{server}#smollm2", "--data-dir", str(data_dir),
            "--split", "train", "--sample-k", "4", "--template", "teacher_brief",
            "--history-k", "5", "--no-description", "--max-tokens", "16", "--context", "1024",
            "--no-progress", "--json"]
    serial, parallel = tmp_path / "serial.jsonl", tmp_path / "parallel.jsonl"
    assert teach.main(args + ["--out", str(serial), "--concurrency", "1"]) == 0
    # concurrent: one row first, then a rerun resumes with the other three in flight at once
    assert teach.main(args + ["--out", str(parallel), "--concurrency", "3", "--limit", "1"]) == 0
    assert len(rows(parallel)) == 1
    assert teach.main(args + ["--out", str(parallel), "--concurrency", "3"]) == 0
    expected = rows(serial)
    assert len(expected) == 4 and all(r["rationale"] for r in expected)
    assert rows(parallel) == expected
