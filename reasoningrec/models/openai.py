"""OpenAI-compatible backend (vLLM, TGI, llama.cpp server, Ollama, OpenAI) over httpx.

    backend = OpenAIBackend("http://localhost:8000/v1", "my-model", max_concurrency=16)
    backend.chat([{"role": "user", "content": "..."}])     # /v1/chat/completions
    backend.p_yes(rendered_prompt)                          # /v1/completions, logprobs=20

Key: $REASONINGREC_OPENAI_KEY, else $OPENAI_API_KEY, else none (local servers). A base URL
with no path gets /v1. Requests share one connection pool; at most `max_concurrency` run at
once across threads; each has a timeout and is retried with exponential backoff on
connection errors, timeouts, 408/409/429/5xx (honouring Retry-After). A stream is retried
only before its first event.

P(Yes) uses the top-k (top_logprobs=, default 20) logprobs of the first completion token when
the server returns them (an answer missing from the top k gets the smallest listed logprob, an
upper bound); a server that returns none gives a hard label parsed from the generated token.
The server applies its own chat template, so apply_chat/tokenize are not available here:
use chat()/chat_stream()/p_yes_chat(), or send text already rendered for the served model.
With `tokenizer=` (spec `openai:<url>#<model>+<model folder, .gguf or Hub id>`) prompts are
rendered and counted here with that tokenizer's chat template, exactly as for hf:/llamacpp:,
and sent as text to /v1/completions with `add_special_tokens: false` (vLLM: the text already
holds the BOS the template writes): a student's "...Prediction:" prompt is then scored from
one generated token's top logprobs, and p_yes_many sends up to max_concurrency at once.
"""
from __future__ import annotations

import json
import math
import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx

from .base import Backend, BackendError, Score, hard_score, score_from_logprobs

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
TOP_LOGPROBS = 20


def normalise_base_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"openai base URL must be http(s)://host[:port][/path], got {url!r}")
    url = url.rstrip("/")
    return url + "/v1" if parsed.path in ("", "/") else url


def api_key() -> str | None:
    return os.environ.get("REASONINGREC_OPENAI_KEY") or os.environ.get("OPENAI_API_KEY")


def no_penalties(penalties: dict | None, name: str) -> None:
    """Repetition penalties are llama.cpp's and transformers' (models/decoding.py); a server
    applies its own sampler, so a call that asks for any is refused."""
    if penalties:
        raise BackendError(f"{name}: repetition penalties ({', '.join(penalties)}) apply to "
                           "llama.cpp and transformers models, not to a server")


class OpenAIBackend(Backend):
    local_template = False
    def __init__(self, base_url: str, model: str, timeout: float = 120.0,
                 connect_timeout: float = 10.0, retries: int = 3, backoff: float = 0.5,
                 max_concurrency: int = 8, key: str | None = None,
                 top_logprobs: int = TOP_LOGPROBS, tokenizer: str | None = None):
        self.base_url, self.model = normalise_base_url(base_url), model
        self.name = f"openai:{base_url}#{model}" + (f"+{tokenizer}" if tokenizer else "")
        self.max_concurrency = max_concurrency
        # batch: the samples eval hands the scorer at once, scored max_concurrency at a time
        self.tokenizer, self.batch_size = None, 4 * max_concurrency
        if tokenizer:  # prompts rendered here (transformers is imported only then)
            from .hf import load_tokenizer_of
            self.tokenizer, self.local_template = load_tokenizer_of(tokenizer), True
        self.retries, self.backoff, self.top_logprobs = retries, backoff, top_logprobs
        key = key or api_key()
        self.client = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {key}"} if key else {},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_concurrency))
        self.slots = threading.BoundedSemaphore(max_concurrency)

    # -- transport --------------------------------------------------------------------------
    def _wait(self, attempt: int, response: httpx.Response | None = None) -> None:
        delay = min(30.0, self.backoff * 2 ** attempt) * (1 + random.random() / 4)
        if response is not None and response.headers.get("retry-after", "").isdigit():
            delay = max(delay, float(response.headers["retry-after"]))
        time.sleep(delay)

    def _fail(self, path: str, problem: str, attempts: int) -> BackendError:
        return BackendError(f"{self.base_url}{path}: {problem}"
                            + (f" (after {attempts} attempts)" if attempts > 1 else ""))

    def request(self, method: str, path: str, payload: dict | None = None) -> dict:
        """One JSON request with retries; returns the decoded reply."""
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self.slots:
                    response = self.client.request(method, path, json=payload)
            except httpx.TimeoutException as exc:
                problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                problem = f"cannot reach the server: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise self._fail(path, f"reply is not JSON: {response.text[:200]!r}",
                                         attempt + 1) from None
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUS:
                    raise self._fail(path, problem, attempt + 1)
                if not last:
                    self._wait(attempt, response)
                    continue
            if last:
                raise self._fail(path, problem, attempt + 1)
            self._wait(attempt)
        raise AssertionError("unreachable")

    def stream_events(self, path: str, payload: dict) -> Iterator[dict]:
        """Server-sent events of a streamed request, retried only before the first event."""
        payload = {**payload, "stream": True}
        for attempt in range(self.retries + 1):
            started, response = False, None
            try:
                with self.slots, self.client.stream("POST", path, json=payload) as response:
                    if response.status_code != 200:
                        response.read()
                        problem = f"HTTP {response.status_code}: {response.text[:300]}"
                        if response.status_code not in RETRY_STATUS or attempt == self.retries:
                            raise self._fail(path, problem, attempt + 1)
                    else:
                        for line in response.iter_lines():
                            if not line.startswith("data:"):
                                continue
                            data = line[5:].strip()
                            if data == "[DONE]":
                                return
                            started = True
                            yield json.loads(data)
                        return
            except httpx.TransportError as exc:
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else \
                    "cannot reach the server"
                if started or attempt == self.retries:
                    raise self._fail(path, f"{kind}: {exc!r}", attempt + 1) from exc
                response = None
            self._wait(attempt, response)

    def check(self) -> None:
        """Fail early, with a clear error, when the server cannot be reached."""
        self.request("GET", "/models")

    # -- interface --------------------------------------------------------------------------
    def _completion_payload(self, prompt, max_tokens, temperature, stop, seed) -> dict:
        payload = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens,
                   "temperature": temperature}
        if self.tokenizer is not None and prompt is not None:
            payload["add_special_tokens"] = False
        if stop:
            payload["stop"] = stop
        if seed is not None:
            payload["seed"] = seed
        return payload

    def stream(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
               stop: list[str] | None = None, seed: int | None = None,
               penalties: dict | None = None) -> Iterator[str]:
        no_penalties(penalties, self.name)
        payload = self._completion_payload(prompt, max_tokens, temperature, stop, seed)
        for event in self.stream_events("/completions", payload):
            for choice in event.get("choices") or []:
                if choice.get("text"):
                    yield choice["text"]

    def generate(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
                 stop: list[str] | None = None, seed: int | None = None,
                 penalties: dict | None = None) -> str:
        no_penalties(penalties, self.name)
        payload = self._completion_payload(prompt, max_tokens, temperature, stop, seed)
        return self._first_choice(self.request("POST", "/completions", payload))["text"]

    def chat_stream(self, messages: list[dict], max_tokens: int = 256,
                    temperature: float = 0.0, stop: list[str] | None = None,
                    seed: int | None = None) -> Iterator[str]:
        payload = {**self._completion_payload(None, max_tokens, temperature, stop, seed),
                   "messages": messages}
        del payload["prompt"]
        for event in self.stream_events("/chat/completions", payload):
            for choice in event.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    yield choice["delta"]["content"]

    def chat(self, messages: list[dict], **kwargs) -> str:
        payload = {**self._completion_payload(None, kwargs.get("max_tokens", 256),
                                              kwargs.get("temperature", 0.0), kwargs.get("stop"),
                                              kwargs.get("seed")), "messages": messages}
        del payload["prompt"]
        reply = self.request("POST", "/chat/completions", payload)
        return self._first_choice(reply)["message"].get("content") or ""

    def _first_choice(self, reply: dict) -> dict:
        choices = reply.get("choices") if isinstance(reply, dict) else None
        if not choices:
            raise BackendError(f"{self.name}: reply has no choices: {str(reply)[:300]}")
        return choices[0]

    @staticmethod
    def _score(top: dict[str, float] | None, answer: str, source: str) -> Score:
        if not top:
            return hard_score(answer)
        floor = min(top.values())
        try:
            score = score_from_logprobs(top.get, floor=floor)
        except BackendError:  # neither answer among the top tokens: fall back to the text
            return hard_score(answer)
        return Score(score.p_yes, False, score.logprob_yes, score.logprob_no, source, answer)

    def p_yes(self, prompt: str) -> Score:
        payload = {**self._completion_payload(prompt, 1, 0.0, None, None),
                   "logprobs": self.top_logprobs}
        choice = self._first_choice(self.request("POST", "/completions", payload))
        top_list = (choice.get("logprobs") or {}).get("top_logprobs") or []
        return self._score(top_list[0] if top_list else None, choice.get("text") or "",
                           "top_logprobs")

    def p_yes_chat(self, messages: list[dict]) -> Score:
        payload = {"model": self.model, "messages": messages, "max_tokens": 1,
                   "temperature": 0.0, "logprobs": True, "top_logprobs": self.top_logprobs}
        choice = self._first_choice(self.request("POST", "/chat/completions", payload))
        content = (choice.get("logprobs") or {}).get("content") or []
        top = {t["token"]: t["logprob"] for t in content[0].get("top_logprobs", [])} \
            if content else None
        return self._score(top, (choice.get("message") or {}).get("content") or "",
                           "top_logprobs")

    def p_yes_many(self, prompts: list[str]) -> list[Score]:
        """Up to max_concurrency requests in flight (the server batches them), in order."""
        with ThreadPoolExecutor(max(1, min(self.max_concurrency, len(prompts)))) as pool:
            return list(pool.map(self.p_yes, prompts))

    def tokenize(self, text: str) -> list[int]:
        if self.tokenizer is None:
            raise BackendError(f"{self.name}: an OpenAI-compatible server exposes no tokenizer "
                               "(name one: openai:<url>#<model>+<model folder or .gguf>)")
        from .hf import tokenize_text
        return tokenize_text(self.tokenizer, text)

    def count_tokens(self, text: str) -> int:
        """Exact with a local tokenizer, else an estimate (4 characters a token)."""
        return len(self.tokenize(text)) if self.tokenizer is not None else \
            math.ceil(len(text) / 4)

    def apply_chat(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        if self.tokenizer is None:
            raise BackendError(f"{self.name}: the server applies its own chat template; use "
                               "chat(), chat_stream() or p_yes_chat() with messages, or name a "
                               "local tokenizer (openai:<url>#<model>+<model folder or .gguf>)")
        from .hf import render_chat
        return render_chat(self.tokenizer, messages, add_generation_prompt, self.name)

    def close(self) -> None:
        self.client.close()
