"""LLM backends on a tiny random-init Llama built in code (tests/tiny_model.py), plus the
OpenAI-compatible backend against a real local HTTP server that serves that model.

    .venv/bin/python -m pytest tests/test_backends.py -q
"""
from __future__ import annotations

import json
import math
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.models.base import BackendError, cut_at_stop, hard_score, score_from_logprobs
from reasoningrec.models.loader import load_backend
from reasoningrec.models.registry import ModelNotFound

CHATML = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"
QUESTIONS = ["Will user 7 like Toy Story (1995)? Answer Yes or No.",
             "The user liked Heat and Casino. Will they like Goodfellas?",
             "Is a rainy Monday a good day for a picnic?"]
PROMPTS = ([CHATML.format(q=q) for q in QUESTIONS] + [CHATML.format(q=q) + "Prediction:"
                                                      for q in QUESTIONS]
           + ["The answer is", "Q: is the sky blue?\nA:"])


@pytest.fixture(scope="module")
def llama(tiny_model):  # noqa: F811
    return load_backend(f"llamacpp:{tiny_model.gguf}")


@pytest.fixture(scope="module")
def hf(tiny_model):  # noqa: F811
    return load_backend(f"hf:{tiny_model.hf_dir}")


# -- shared arithmetic -----------------------------------------------------------------------
def test_score_from_logprobs_sums_both_spellings():
    score = score_from_logprobs({"Yes": math.log(0.3), " Yes": math.log(0.1),
                                 "No": math.log(0.2)}.get)
    assert score.p_yes == pytest.approx(0.4 / 0.6) and not score.hard_label
    floored = score_from_logprobs({"Yes": math.log(0.5), "maybe": math.log(0.01)}.get,
                                  floor=math.log(0.01))
    assert floored.p_yes == pytest.approx(0.5 / 0.51)
    with pytest.raises(BackendError, match="neither Yes nor No"):
        score_from_logprobs({"maybe": -1.0}.get)


def test_hard_score_parses_answer_text():
    assert [hard_score(t).p_yes for t in (" Yes.", "no", "**Yes**", "Maybe")] == [1, 0, 1, 0.5]
    assert hard_score("Yes").hard_label


def test_cut_at_stop_across_pieces():
    pieces = ["Yes, because", " the user lik", "ed it.\n", "\nRationale: x"]
    assert "".join(cut_at_stop(pieces, ["\n\n"])) == "Yes, because the user liked it."
    assert "".join(cut_at_stop(pieces, ["lik"])) == "Yes, because the user "
    assert "".join(cut_at_stop(pieces, None)) == "".join(pieces)


# -- llama.cpp vs transformers ---------------------------------------------------------------
def test_same_tokens_and_chat_template(llama, hf):
    messages = [{"role": "user", "content": QUESTIONS[0]}]
    assert llama.apply_chat(messages) == hf.apply_chat(messages)
    assert llama.apply_chat(messages).endswith("<|im_start|>assistant\n")
    for prompt in PROMPTS:
        assert llama.tokenize(prompt) == hf.tokenize(prompt)
    assert llama.answer_ids == hf.answer_ids and len(llama.answer_ids["yes"]) == 2


def test_p_yes_agrees_between_llamacpp_f16_and_hf(llama, hf):
    ours = [llama.p_yes(p, reuse_cache=False).p_yes for p in PROMPTS]
    theirs = [hf.p_yes(p).p_yes for p in PROMPTS]
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 0.02
    assert max(theirs) - min(theirs) > 0.3  # the prompts give different answers: not trivial
    assert all(0 < p < 1 for p in ours)


@pytest.mark.parametrize("backend_name", ["llama", "hf"])
def test_stream_joins_to_generate(backend_name, request):
    backend = request.getfixturevalue(backend_name)
    prompt = PROMPTS[3]
    pieces = list(backend.stream(prompt, max_tokens=24, temperature=0.0))
    assert len(pieces) > 3
    assert "".join(pieces) == backend.generate(prompt, max_tokens=24, temperature=0.0)
    full = "".join(pieces)
    stop = full[len(full) // 2: len(full) // 2 + 3]  # a stop string in the middle of the text
    cut = "".join(backend.stream(prompt, max_tokens=24, stop=[stop]))
    assert cut == full[:full.index(stop)] == backend.generate(prompt, max_tokens=24, stop=[stop])


def test_greedy_text_agrees_between_backends(llama, hf):
    assert llama.generate(PROMPTS[0], max_tokens=12) == hf.generate(PROMPTS[0], max_tokens=12)


def test_p_yes_many_reuses_prefix_with_identical_scores(llama):
    prefix = CHATML.format(q="User history: liked Heat, Casino; disliked Cats.\n\n")
    prompts = [prefix + f"Candidate: {title}<|im_end|>\n<|im_start|>assistant\nPrediction:"
               for title in ("Goodfellas", "Toy Story", "Alien", "Heat 2")]
    plain = [llama.p_yes(p, reuse_cache=False).p_yes for p in prompts]
    llama.p_yes(PROMPTS[-1])  # leave something unrelated in the cache
    many = [s.p_yes for s in llama.p_yes_many(prompts)]
    cached = [llama.p_yes(p).p_yes for p in reversed(prompts)][::-1]
    assert np.max(np.abs(np.array(many) - plain)) < 1e-6
    assert np.max(np.abs(np.array(cached) - plain)) < 1e-6
    assert llama.p_yes_many([]) == []


def test_hf_p_yes_many_batches_left_padded_prompts_like_single_ones(tiny_model):  # noqa: F811
    """Prompts of different lengths in one left-padded batch score as they do alone (the GPU
    evaluation path), in the order given."""
    from reasoningrec.models.hf import HFBackend
    hf = HFBackend(str(tiny_model.hf_dir), batch_size=3)
    prompts = [CHATML.format(q="Liked " + ", ".join(["Heat"] * n) + ". Candidate: Alien")
               + "Prediction:" for n in (1, 7, 3, 12, 2)]
    alone = [hf.p_yes(p).p_yes for p in prompts]
    many = [s.p_yes for s in hf.p_yes_many(prompts)]
    assert len(set(np.round(alone, 4))) > 1          # the prompts really score differently
    assert np.max(np.abs(np.array(many) - alone)) < 1e-5
    assert hf.p_yes_many([]) == []


def test_cuda_keeps_student_sized_models_in_float32():
    """On a GPU a 135M student loads in float32 (its padded batches then score as one at a
    time); a 7B model in bfloat16; on CPU always float32. Decided from the config alone."""
    from transformers import AutoConfig, LlamaConfig

    from reasoningrec.models.hf import default_dtype
    from reasoningrec.models.registry import smollm2_gguf
    gguf = smollm2_gguf()
    smollm2 = AutoConfig.from_pretrained(gguf.parent, gguf_file=gguf.name)
    llama2_7b = LlamaConfig(hidden_size=4096, intermediate_size=11008, num_hidden_layers=32,
                            num_attention_heads=32, vocab_size=32000)
    assert default_dtype(smollm2, "cuda") == "float32"
    assert default_dtype(llama2_7b, "cuda:0") == "bfloat16"
    assert default_dtype(llama2_7b, "cpu") == "float32"


def test_hf_wrap_serves_a_model_already_in_memory_like_a_loaded_one(tiny_model):  # noqa: F811
    """HFBackend.wrap (training.sft's construction): the same tokens, chat text and P(Yes) as
    HFBackend loading the folder; the model keeps its mode; a tokenizer alone gives text only."""
    from transformers import AutoModelForCausalLM

    from reasoningrec.models.hf import HFBackend
    loaded = HFBackend(str(tiny_model.hf_dir))
    model = AutoModelForCausalLM.from_pretrained(tiny_model.hf_dir).train()
    wrapped = HFBackend.wrap(loaded.tokenizer, model.eval(), name="hf:in-memory")
    prompt = CHATML.format(q="Liked Heat, Casino. Candidate: Alien") + "Prediction:"
    assert wrapped.tokenize(prompt) == loaded.tokenize(prompt) and wrapped.device == "cpu"
    assert wrapped.answer_ids == loaded.answer_ids and wrapped.name == "hf:in-memory"
    assert abs(wrapped.p_yes(prompt).p_yes - loaded.p_yes(prompt).p_yes) < 1e-6
    text_only = HFBackend.wrap(loaded.tokenizer)
    chat = [{"role": "user", "content": "Hi"}]
    assert text_only.apply_chat(chat) == loaded.apply_chat(chat)
    assert text_only.model is None and text_only.count_tokens(prompt) == len(loaded.tokenize(prompt))


# -- errors ----------------------------------------------------------------------------------
def test_spec_errors(tmp_path, tiny_model):  # noqa: F811
    with pytest.raises(ValueError, match="unknown model spec"):
        load_backend("gpt:whatever")
    with pytest.raises(ModelNotFound, match="GGUF model file not found"):
        load_backend(f"llamacpp:{tmp_path / 'missing.gguf'}")
    with pytest.raises(ModelNotFound, match="LoRA adapter file not found"):
        load_backend(f"llamacpp:{tiny_model.gguf}+{tmp_path / 'missing-lora.gguf'}")
    with pytest.raises(ModelNotFound, match="not found"):
        load_backend(f"hf:{tmp_path / 'no-such-folder'}")
    with pytest.raises(ValueError, match="not an LLM backend"):
        load_backend("st:some/folder")
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a gguf")
    with pytest.raises(BackendError, match="could not load"):
        load_backend(f"llamacpp:{garbage}")


# -- OpenAI-compatible server ----------------------------------------------------------------
class TinyOpenAIServer(ThreadingHTTPServer):
    """/v1/models, /v1/completions, /v1/chat/completions served by the llama.cpp backend."""
    daemon_threads = True

    def __init__(self, backend):
        super().__init__(("127.0.0.1", 0), Handler)
        self.backend, self.fail_next, self.delay, self.with_logprobs = backend, 0, 0.0, True
        self.calls, self.headers_seen, self.in_flight, self.max_in_flight = [], [], 0, 0
        self.counter = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.reply(200, {"data": [{"id": "tiny"}]})

    def do_POST(self):
        server: TinyOpenAIServer = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.calls.append(self.path)
        server.headers_seen.append(self.headers.get("Authorization"))
        if server.fail_next:
            server.fail_next -= 1
            return self.reply(500, {"error": "try again"})
        if body.get("model") != "tiny":
            return self.reply(400, {"error": f"unknown model {body.get('model')!r}"})
        with server.counter:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:  # in flight while it waits; counted out BEFORE the reply is written, since
            time.sleep(server.delay)  # the client may send its next request once it reads it
        finally:
            with server.counter:
                server.in_flight -= 1
        self.complete(server, body)

    def complete(self, server, body):
        backend, chat = server.backend, self.path.endswith("/chat/completions")
        prompt = backend.apply_chat(body["messages"]) if chat else body["prompt"]
        args = dict(max_tokens=body.get("max_tokens", 16), temperature=body.get("temperature", 0),
                    stop=body.get("stop"))
        k = body.get("top_logprobs") if chat else body.get("logprobs")
        if k and server.with_logprobs:
            logprobs = backend.next_token_logprobs(prompt, reuse_cache=False)
            best = np.argsort(-logprobs)[:k]
            top = {backend.token_text(int(i)): float(logprobs[i]) for i in best}
            text = backend.token_text(int(best[0]))
            info = ({"content": [{"token": text, "logprob": top[text], "top_logprobs": [
                {"token": t, "logprob": v} for t, v in top.items()]}]} if chat
                    else {"tokens": [text], "top_logprobs": [top]})
            choice = {"logprobs": info}
            choice.update({"message": {"role": "assistant", "content": text}} if chat
                          else {"text": text})
            return self.reply(200, {"choices": [choice]})
        if not body.get("stream"):
            text = backend.generate(prompt, **args)
            return self.reply(200, {"choices": [{"message": {"role": "assistant",
                                                             "content": text}} if chat
                                                else {"text": text}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in backend.stream(prompt, **args):
            choice = {"delta": {"content": piece}} if chat else {"text": piece}
            self.wfile.write(f"data: {json.dumps({'choices': [choice]})}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture
def server(llama):
    srv = TinyOpenAIServer(llama)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def openai(server, **options):
    return load_backend(f"openai:{server.url}#tiny", backoff=0.01, **options)


def test_openai_streams_and_generates_like_the_model(server, llama):
    backend = openai(server)
    prompt = PROMPTS[4]
    pieces = list(backend.stream(prompt, max_tokens=16))
    assert len(pieces) > 3
    expected = llama.generate(prompt, max_tokens=16)
    assert "".join(pieces) == backend.generate(prompt, max_tokens=16) == expected
    messages = [{"role": "user", "content": QUESTIONS[1]}]
    chat_pieces = list(backend.chat_stream(messages, max_tokens=10))
    assert "".join(chat_pieces) == backend.chat(messages, max_tokens=10) == \
        llama.generate(llama.apply_chat(messages), max_tokens=10)


def test_openai_p_yes_from_logprobs_matches_the_model(server, llama):
    backend = openai(server, top_logprobs=llama.n_vocab)  # the whole distribution
    for prompt in PROMPTS[:4]:
        score = backend.p_yes(prompt)
        assert score.source == "top_logprobs" and not score.hard_label
        assert score.p_yes == pytest.approx(llama.p_yes(prompt, reuse_cache=False).p_yes,
                                            abs=1e-9)
    messages = [{"role": "user", "content": QUESTIONS[2]}]
    assert backend.p_yes_chat(messages).p_yes == pytest.approx(
        llama.p_yes(llama.apply_chat(messages), reuse_cache=False).p_yes, abs=1e-9)


def test_openai_without_logprobs_gives_a_hard_label(server, llama):
    server.with_logprobs = False
    score = openai(server).p_yes(PROMPTS[1])
    assert score.hard_label and score.source == "text"
    assert score.answer == llama.generate(PROMPTS[1], max_tokens=1)
    assert score.p_yes == hard_score(score.answer).p_yes


def test_openai_retries_then_succeeds(server, monkeypatch):
    monkeypatch.setenv("REASONINGREC_OPENAI_KEY", "sk-test")
    backend = openai(server, retries=3)
    server.fail_next = 2
    assert backend.generate(PROMPTS[0], max_tokens=4)
    assert server.calls == ["/v1/completions"] * 3
    assert server.headers_seen[-1] == "Bearer sk-test"
    server.fail_next = 1
    assert "".join(backend.stream(PROMPTS[0], max_tokens=4))
    server.fail_next = 5
    with pytest.raises(BackendError, match=r"HTTP 500.*after 2 attempts"):
        openai(server, retries=1).generate(PROMPTS[0], max_tokens=4)


def test_openai_client_errors_are_not_retried(server):
    server.calls.clear()
    with pytest.raises(BackendError, match="HTTP 400.*unknown model"):
        load_backend(f"openai:{server.url}#nope", backoff=0.01).generate("hi", max_tokens=2)
    assert len(server.calls) == 1


def test_openai_timeout(server):
    server.delay = 10
    start = time.monotonic()
    with pytest.raises(BackendError, match="timed out"):
        openai(server, timeout=0.3, retries=1).generate(PROMPTS[0], max_tokens=2)
    assert time.monotonic() - start < server.delay  # gave up before the (slow) answer came


def test_openai_bounded_concurrency(server):
    server.delay = 0.3
    backend = openai(server, max_concurrency=2)
    threads = [threading.Thread(target=backend.generate, args=(PROMPTS[0],),
                                kwargs={"max_tokens": 2}) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert server.max_in_flight == 2 and len(server.calls) == 6


def test_eval_concurrency_sets_the_requests_in_flight(server, data_dir, tmp_path, capsys,
                                                     tiny_model):  # noqa: F811
    from reasoningrec.cli import main
    server.delay = 0.2
    base = ["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--limit", "12",
            "--no-progress", "--json"]
    chat = f"openai:{server.url}#tiny"                      # the server's chat template
    local = f"openai:{server.url}#tiny+{tiny_model.hf_dir}"  # prompts rendered here
    for spec, n in ((chat, 3), (chat, 1), (local, 3)):
        server.max_in_flight, server.calls = 0, []
        assert main(base + ["--model", spec, "--concurrency", str(n),
                            "--report-dir", str(tmp_path / f"c{n}{spec[-4:]}")]) == 0
        assert server.max_in_flight == n and len(server.calls) == 12   # one request a sample
    capsys.readouterr()
    assert main(base + ["--model", "mf", "--concurrency", "4"]) == 2    # not a server: said so
    assert "--concurrency sets the requests in flight to an openai: server, not to mf" \
        in capsys.readouterr().err


def test_openai_unreachable_server_is_a_clear_error():
    with socket.socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(BackendError, match=rf"127.0.0.1:{port}/v1/models: cannot reach"):
        load_backend(f"openai:http://127.0.0.1:{port}#tiny", retries=1, backoff=0.01)
    with pytest.raises(ValueError, match="base URL"):
        load_backend("openai:localhost:8000#tiny")
