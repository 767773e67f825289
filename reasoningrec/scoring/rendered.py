"""A prompt rendered once for one sample: what the scorer, ranking, the app and training share.

    r = scorer.render(ds, sample)         # LLMScorer.render -> RenderedPrompt
    r.text, r.n_tokens, r.kept, r.evidence     # the prompt, its size, the history shown, evidence
    r.token_ids                           # the backend's tokens of r.text (computed on first use)
    r.shared_prefix, r.prefix_length      # the text before the candidate, its length in tokens

Everything downstream reads these fields instead of rendering again: predict and the streamed
explanation score `text`, the app's live explainer keys its kept states by it, rank scores many
candidates' tails after one `shared_prefix`, training tokenizes it (`token_ids`).
`shared_prefix` is the text before the candidate-specific part (templates.CANDIDATE_AT): the
system turn, profile and history (candidate last: also the request and the turn markers),
identical for every candidate shown the same history; "" for a template that does not mark it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from ..data.schema import HistoryEntry
from ..models.session import common_prefix_length
from ..prompts.templates import CANDIDATE_AT, CANDIDATE_IN_ANSWER
from ..prompts.text import Prompt


class _Fetch:
    """render(evidence=FETCH): the scorer fetches the sample's evidence itself. One object,
    also after pickling (ZeroGPU hands calls to a forked worker)."""

    def __reduce__(self):
        return "FETCH"

    def __repr__(self):
        return "FETCH"


FETCH = _Fetch()


@dataclass(frozen=True)
class RenderedPrompt:
    prompt: Prompt                     # the messages (servers that template chats themselves)
    text: str                          # the full prompt, ending where the answer token comes
    n_tokens: int                      # the backend's count_tokens(text)
    kept: tuple[HistoryEntry, ...]     # history entries shown, oldest first
    dropped: int                       # older entries left out to fit the context
    evidence: dict | None = None       # collaborative evidence shown (None: none)
    tokenize: Callable[[str], list[int]] | None = field(default=None, repr=False, compare=False)

    @property
    def template(self) -> str:
        return self.prompt.template

    @cached_property
    def token_ids(self) -> list[int]:
        if self.tokenize is None:
            raise ValueError("this prompt was rendered without a tokenizer")
        return self.tokenize(self.text)

    @cached_property
    def shared_prefix(self) -> str:
        at = self.prompt.meta.get(CANDIDATE_AT)
        if at is not None and self.prompt.meta.get(CANDIDATE_IN_ANSWER):
            opened = self.prompt.assistant_prefix   # the candidate is in the answer's first line
            return self.text[:len(self.text) - len(opened) + at] if self.text.endswith(opened) else ""
        content = self.prompt.messages[-1]["content"]
        start = self.text.rfind(content)
        if at is None or start < 0:   # unmarked, or a chat template that rewrote the content
            return ""
        return self.text[:start + at]

    @cached_property
    def prefix_length(self) -> int:
        """Tokens of `text` that `shared_prefix` covers (a token merging across the cut is
        not counted)."""
        if not self.shared_prefix:
            return 0
        return common_prefix_length(self.tokenize(self.shared_prefix), self.token_ids)
