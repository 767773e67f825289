"""llama.cpp's prompt sessions: a prefix read once from the KV cache, kept states of prompts.

    with backend.session(text, keep=True) as s:   # LlamaCppBackend.session
        s.reused                                  # prefix tokens a kept state already held
        s.p_yes()                                 # evaluates the rest, keeps the state
        "".join(s.stream(" Yes\\nReasoning:", max_tokens=64))   # continues from the cache

A session holds the backend's lock from enter to exit (a llama.cpp context serves one caller at
a time, and a state restored for this prompt must not be overwritten before it is used). On
enter it restores the kept state sharing the longest token prefix with the session's prefix,
when that beats what the cache holds now; `p_yes()` (no tail) then evaluates only the rest and,
with keep=True, keeps the prompt's state (save_prompt_state, ~23 KB a token for SmolLM2: the
last `keep` prompts, oldest dropped). Why: a pool user's student prompt is 371-763 tokens and
its first token comes ~1.2 s after a cold Run on the 2-core CPU, ~0.07 s once it is warm
(benchmarks/results/app_latency.md, n = 8); a new candidate for the same user changes only the
tail. Splits never change a score (LlamaCppBackend._eval_last_logprobs).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from .session import PromptSession, common_prefix_length


class PromptStates:
    """The KV states of the last `keep` kept prompts of one backend, keyed by their tokens."""

    def __init__(self, backend, keep: int = 12):
        self.backend, self.keep = backend, keep
        self._states: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def restore_closest(self, tokens: list[int]) -> int:
        """Load the kept state sharing the longest token prefix with `tokens`, when it beats
        what the cache holds now. Returns the tokens that need no evaluation. Caller holds the
        backend's lock."""
        best, best_len = None, self.backend.cached_prefix(tokens)
        with self._lock:
            for key in self._states:
                n = common_prefix_length(key, tokens)
                if n > best_len:
                    best, best_len = key, n
            if best is not None:
                self._states.move_to_end(best)
                state = self._states[best]
        if best is not None:
            self.backend.load_prompt_state(state)
        return best_len

    def save(self, tokens: list[int]) -> None:
        """Keep the cache's state as that of `tokens` (just evaluated). Caller holds the lock."""
        key = tuple(tokens)
        with self._lock:
            if key in self._states:
                self._states.move_to_end(key)
                return
        state = self.backend.save_prompt_state()
        with self._lock:
            self._states[key] = state
            while len(self._states) > self.keep:
                self._states.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()


class LlamaSession(PromptSession):
    """PromptSession on a LlamaCppBackend's KV cache (see the module doc)."""

    def __enter__(self) -> "LlamaSession":
        self.backend.lock.acquire()
        try:
            self.tokens = self.backend.tokenize(self.prefix)
            self.reused = self.backend.states.restore_closest(self.tokens)
        except BaseException:
            self.backend.lock.release()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.backend.lock.release()

    def p_yes(self, tail: str = ""):
        score = self.backend.p_yes(self.prefix + tail)
        if self.keep and not tail:  # the prefix has just been evaluated: keep its state
            self.backend.states.save(self.tokens)
        return score
