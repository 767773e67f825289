"""Interactive prediction + explanation for the app: fast repeat runs through saved prompt states.

    from reasoningrec.scoring.live import LiveExplainer
    explainer = LiveExplainer(load_backend("smollm2"))
    explainer.warm(ds, sample)                       # when a user is picked: evaluates the prompt
    explainer.rank(ds, sample, ["1", "48"])          # [(item_id, p_yes), ...] best first, stats
    for kind, value in explainer.stream(ds, sample):  # ("prediction", Prediction), ("token", str),
        ...                                          # then ("done", {"ttft_s", "tokens", ...})

Why: a pool user's student prompt is 401–466 tokens and the first token comes ~4.8 s after a
cold Run on 2 busy CPU threads, ~0.22 s once the prompt is warm (benchmarks/results/
app_latency.md, n = 8). `warm` evaluates a prompt once and keeps the llama.cpp KV cache
(LlamaCppBackend.save_prompt_state, ~25 MB each, the last `keep_states` prompts); a later run
of the same prompt, or of an edited one sharing a long token prefix with a kept one (a new
candidate: only the tail changes), restores the closest state and evaluates only the rest.
Backends without states (openai:) just stream.

Threads: the backend's lock is held while a stream is consumed, and Gradio advances a
generator on whichever worker thread is free; so the whole run happens on one thread of its
own and hands events over through a queue. Closing the generator stops the run.
"""
from __future__ import annotations

import queue
from contextlib import nullcontext
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator

from ..data.schema import Dataset, Sample
from ..models.base import Backend
from ..models.llamacpp import common_prefix_length
from .llm import LLMScorer
from .options import PromptOptions

_END = object()


class LiveExplainer:
    def __init__(self, backend: Backend, template: str = "student",
                 options: PromptOptions | None = None, max_new_tokens: int = 160,
                 keep_states: int = 12, evidence_source=None):
        self.backend, self.template = backend, template
        self.evidence_source = evidence_source  # LLMScorer's, for students that read evidence
        self.options = options or PromptOptions()
        self.max_new_tokens = max_new_tokens
        self.keep_states = keep_states
        self.can_keep = hasattr(backend, "save_prompt_state")
        self._states: OrderedDict[tuple, tuple] = OrderedDict()  # prompt tokens -> state
        self._scorers: dict[int, LLMScorer] = {}
        self._states_lock = threading.Lock()

    def scorer(self, max_tokens: int | None = None) -> LLMScorer:
        n = max_tokens or self.max_new_tokens
        if n not in self._scorers:
            self._scorers[n] = LLMScorer(self.backend, self.template, self.options, n,
                                         evidence_source=self.evidence_source)
        return self._scorers[n]

    # -- prompt states -------------------------------------------------------------------------
    def _restore_closest(self, tokens: list[int]) -> int:
        """Load the kept state sharing the longest token prefix with `tokens`, when it beats
        what the cache holds now. Returns the tokens that need no evaluation."""
        now = self.backend.cached_prefix(tokens)
        with self._states_lock:
            best, best_len = None, now
            for key, state in self._states.items():
                n = common_prefix_length(key, tokens)
                if n > best_len:
                    best, best_len = key, n
            if best is not None:
                self._states.move_to_end(best)
                state = self._states[best]
        if best is not None:
            self.backend.load_prompt_state(state)
        return best_len

    def _keep(self, tokens: list[int]) -> None:
        key = tuple(tokens)
        with self._states_lock:
            if key in self._states:
                self._states.move_to_end(key)
                return
        state = self.backend.save_prompt_state()
        with self._states_lock:
            self._states[key] = state
            while len(self._states) > self.keep_states:
                self._states.popitem(last=False)

    def forget(self) -> None:
        """Drop every kept state (benchmarks: a cold start)."""
        with self._states_lock:
            self._states.clear()

    def kept(self, ds: Dataset, sample: Sample, profile: str | None = None) -> bool:
        """Whether this prompt's state is kept (a run starts streaming at once)."""
        tokens = tuple(self._tokens(ds, sample, profile))
        with self._states_lock:
            return tokens in self._states

    def _tokens(self, ds, sample, profile, max_tokens=None) -> list[int]:
        _, text = self.scorer(max_tokens).render(ds, sample, profile)
        return self.backend.tokenize(text)

    # -- runs ----------------------------------------------------------------------------------
    def warm(self, ds: Dataset, sample: Sample, profile: str | None = None) -> dict:
        """Evaluate a prompt and keep its state; returns {"seconds", "prompt_tokens", "reused"}."""
        start = time.perf_counter()
        if not self.can_keep:
            return {"seconds": 0.0, "prompt_tokens": None, "reused": 0}
        with self.backend.lock:
            _, text = self.scorer().render(ds, sample, profile)
            tokens = self.backend.tokenize(text)
            reused = self._restore_closest(tokens)
            self.backend.p_yes(text)
            self._keep(tokens)
        return {"seconds": time.perf_counter() - start, "prompt_tokens": len(tokens),
                "reused": reused}

    def predict(self, ds: Dataset, sample: Sample, profile: str | None = None):
        """P(Yes) only (a Prediction without rationale), reusing and keeping prompt states."""
        if not self.can_keep:
            return self.scorer().predict(ds, sample, profile=profile)
        with self.backend.lock:
            tokens = self._tokens(ds, sample, profile)
            self._restore_closest(tokens)
            pred = self.scorer().predict(ds, sample, profile=profile)
            self._keep(tokens)
        return pred

    def rank(self, ds: Dataset, sample: Sample, candidates: list[str], progress=None):
        """((item_id, p_yes) best first, stats) for the sample's user (reasoningrec.scoring.rank): the
        shared prompt prefix is read once, whatever state was kept; progress(done, total)."""
        from .rank import rank_candidates
        return rank_candidates(self.scorer(), ds, sample, candidates, progress=progress)

    def _run(self, ds, sample, profile, max_tokens, out: queue.Queue, stop: threading.Event):
        start = time.perf_counter()
        scorer = self.scorer(max_tokens)
        stats = {"reused": 0, "tokens": 0}
        try:
            with self.backend.lock if self.can_keep else nullcontext():
                if self.can_keep:
                    tokens = self._tokens(ds, sample, profile, max_tokens)
                    stats["reused"], stats["prompt_tokens"] = self._restore_closest(tokens), len(tokens)
                for kind, value in scorer.stream_explanation(ds, sample, profile):
                    if stop.is_set():
                        break
                    if kind == "prediction":
                        stats["prediction_s"] = time.perf_counter() - start
                        if self.can_keep:  # p_yes has just evaluated the prompt: keep it
                            self._keep(tokens)
                    elif "ttft_s" not in stats:
                        stats["ttft_s"] = time.perf_counter() - start
                    if kind == "token":
                        stats["tokens"] += 1
                    out.put((kind, value))
            stats["seconds"] = time.perf_counter() - start
            gen = stats["seconds"] - stats.get("ttft_s", stats["seconds"])
            stats["tokens_per_s"] = (stats["tokens"] - 1) / gen if stats["tokens"] > 1 and gen > 0 else None
            out.put(("done", stats))
        except Exception as exc:  # handed to the consumer, which re-raises it
            out.put(("error", exc))
        finally:
            out.put(_END)

    def stream(self, ds: Dataset, sample: Sample, profile: str | None = None,
               max_tokens: int | None = None) -> Iterator[tuple[str, object]]:
        """("prediction", Prediction), ("token", piece)..., ("done", stats); errors re-raised."""
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        worker = threading.Thread(target=self._run, name="live-explain", daemon=True,
                                  args=(ds, sample, profile, max_tokens, out, stop))
        worker.start()
        try:
            while (event := out.get()) is not _END:
                if event[0] == "error":
                    raise event[1]
                yield event
        finally:
            stop.set()  # the consumer went away (closed tab, cancelled event): end the run
