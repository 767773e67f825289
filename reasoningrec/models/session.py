"""Prompt sessions: prompts that continue one prefix, scored and continued on one backend.

    with backend.session(rendered.text) as s:        # Backend.session (base.py)
        score = s.p_yes()                            # P(Yes) of the prefix itself
        for piece in s.stream(" Yes\\nReasoning:", max_tokens=64): ...
    with backend.session(shared_prefix) as s:        # rank: many candidates' tails at once
        scores = s.score_continuations(tails)

The scorer (scoring/llm.py), ranking (scoring/rank.py) and the app's live explainer
(scoring/live.py) talk to every backend through this one interface. The plain PromptSession
here evaluates each prompt whole (hf: in batches, openai: as requests). A backend with a
reusable cache returns its own: llama.cpp's (llamacpp_session.py) holds the model's lock for
the session, restores the closest kept KV state, evaluates the prefix once and, with keep=True,
keeps the prefix's state for later sessions (Backend.keeps_prompts says whether it does).
Scores are the same either way (tests/test_backends.py, tests/test_live.py).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence


def common_prefix_length(a: Sequence, b: Sequence) -> int:
    """How many leading elements (tokens) two sequences share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


class PromptSession:
    """`p_yes(tail)` and `stream(tail)` of prefix + tail, `score_continuations(tails)` for many
    tails; a context manager. `reused`: prefix tokens read from a cache (0 here); `keep` is
    ignored here (nothing is kept)."""

    reused = 0

    def __init__(self, backend, prefix: str, keep: bool = False):
        self.backend, self.prefix, self.keep = backend, prefix, keep

    def __enter__(self) -> "PromptSession":
        return self

    def __exit__(self, *exc) -> None:
        return None

    def p_yes(self, tail: str = ""):
        return self.backend.p_yes(self.prefix + tail)

    def score_continuations(self, tails: list[str]) -> list:
        return self.backend.p_yes_many([self.prefix + t for t in tails])

    def stream(self, tail: str = "", **kwargs) -> Iterator[str]:
        return self.backend.stream(self.prefix + tail, **kwargs)
