"""The one interface every LLM backend offers, and the P(Yes) arithmetic they share.

    backend = load_backend("llamacpp:model.gguf")           # see loader.py
    prompt = backend.apply_chat([{"role": "user", "content": "Like it?"}]) + "Prediction:"
    for piece in backend.stream(prompt, max_tokens=64): print(piece, end="")
    backend.p_yes(prompt)   # Score(p_yes=0.73, hard_label=False, source='logits')
    with backend.session(prompt) as s:                      # prompts continuing one prefix
        s.p_yes(); s.score_continuations([" a", " b"]); "".join(s.stream(" Yes", max_tokens=8))

P(Yes) is read at the position right after the prompt: P(Yes) / (P(Yes) + P(No)).
Choice of answer token: tokenisers have both `Yes` and ` Yes` (and `No`, ` No`); which one a
model emits depends on how the prompt ends (SmolLM2 puts `Yes` with no space after
"assistant\\n", ` Yes` after "Prediction:"). Rather than guess, each answer's mass is the
logsumexp over every single-token spelling in ANSWER_VARIANTS, so the score is right whatever
the prompt's last character. Token ids come from the backend's tokenizer at run time.

Prompts sharing a prefix go through `Backend.session(prefix)` (session.py): plain here, the
prefix read once from llama.cpp's KV state there.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from .session import PromptSession

ANSWER_VARIANTS = {"yes": ("Yes", " Yes"), "no": ("No", " No")}


class BackendError(RuntimeError):
    """A backend that cannot do what was asked (server unreachable, bad reply, ...)."""


@dataclass(frozen=True)
class Score:
    """P(Yes) for one prompt. hard_label=True means the backend gave no probabilities and
    p_yes is 1.0/0.0 parsed from the generated answer (0.5 when it was neither)."""
    p_yes: float
    hard_label: bool = False
    logprob_yes: float | None = None   # log-mass of the Yes spellings (unnormalised)
    logprob_no: float | None = None
    source: str = "logits"             # logits | top_logprobs | text
    answer: str | None = None          # the generated token(s), for hard labels


def logsumexp(values: Iterable[float]) -> float:
    values = [v for v in values if v is not None and v != -math.inf]
    if not values:
        return -math.inf
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def score_from_logprobs(logprob_of: Callable[[str], float | None],
                        floor: float = -math.inf) -> Score:
    """Normalise Yes against No. logprob_of(spelling) is a token's log-probability, or None
    when the backend does not know it (a spelling outside the top-k of a server reply); an
    answer with no known spelling gets `floor` (the smallest top-k logprob bounds it)."""
    lp_yes = logsumexp(logprob_of(s) for s in ANSWER_VARIANTS["yes"])
    lp_no = logsumexp(logprob_of(s) for s in ANSWER_VARIANTS["no"])
    if lp_yes == -math.inf and lp_no == -math.inf:
        raise BackendError("neither Yes nor No has a probability at the answer position")
    lp_yes, lp_no = max(lp_yes, floor), max(lp_no, floor)
    if lp_no == -math.inf:
        return Score(1.0, logprob_yes=lp_yes, logprob_no=lp_no)
    if lp_yes == -math.inf:
        return Score(0.0, logprob_yes=lp_yes, logprob_no=lp_no)
    p_yes = 1.0 / (1.0 + math.exp(lp_no - lp_yes))
    return Score(p_yes, logprob_yes=lp_yes, logprob_no=lp_no)


def hard_score(answer: str, source: str = "text") -> Score:
    """A Score from generated text alone: Yes → 1.0, No → 0.0, anything else → 0.5."""
    word = answer.strip().lstrip("*:# ").lower()
    p = 1.0 if word.startswith("yes") else 0.0 if word.startswith("no") else 0.5
    return Score(p, hard_label=True, source=source, answer=answer)


def answer_token_ids(tokenize: Callable[[str], list[int]]) -> dict[str, list[int]]:
    """{'yes': ids, 'no': ids} of the single-token spellings of each answer. Multi-token
    spellings are skipped; a tokenizer with neither spelling of an answer is an error. What
    the tokenizer puts before any text (Llama-2's BOS: tokenize("") == [1]) is not counted."""
    prefix = tokenize("")

    def body(text: str) -> list[int]:
        ids = tokenize(text)
        return ids[len(prefix):] if ids[:len(prefix)] == prefix else ids

    ids: dict[str, list[int]] = {}
    for answer, spellings in ANSWER_VARIANTS.items():
        ids[answer] = sorted({t[0] for s in spellings if len(t := body(s)) == 1})
        if not ids[answer]:
            raise BackendError(f"the tokenizer has no single token for any of {spellings}")
    return ids


def score_from_vector(logprobs, ids: dict[str, list[int]]) -> Score:
    """P(Yes) from a full next-token log-probability vector (numpy array or torch tensor)."""
    lp_yes = logsumexp(float(logprobs[i]) for i in ids["yes"])
    lp_no = logsumexp(float(logprobs[i]) for i in ids["no"])
    return Score(1.0 / (1.0 + math.exp(lp_no - lp_yes)), logprob_yes=lp_yes, logprob_no=lp_no)


def cut_at_stop(pieces: Iterable[str], stop: list[str] | None) -> Iterator[str]:
    """Pass streamed text through, ending before the first stop string. Text that might be the
    start of a stop string is held back until it is known not to be."""
    if not stop:
        yield from pieces
        return
    pending = ""
    for piece in pieces:
        pending += piece
        hits = [i for i in (pending.find(s) for s in stop) if i >= 0]
        if hits:
            if min(hits):
                yield pending[:min(hits)]
            return
        keep = max((k for s in stop for k in range(1, len(s)) if pending.endswith(s[:k])),
                   default=0)
        if len(pending) > keep:
            yield pending[:len(pending) - keep]
            pending = pending[len(pending) - keep:]
    if pending:
        yield pending


class Backend:
    """Base class: subclasses implement tokenize, apply_chat, stream and p_yes."""
    name: str = "backend"
    # False for servers that apply their own chat template (no apply_chat/tokenize here).
    local_template: bool = True
    # True when session(prefix, keep=True) keeps the prefix's evaluated state for later
    # sessions (a prompt evaluated ahead of a Run: the app's warm)
    keeps_prompts: bool = False
    # Requests it serves at once (a server: its in-flight bound); callers may run that many
    # calls from threads. Local models: 1 (their own lock serialises calls).
    max_concurrency: int = 1

    def tokenize(self, text: str) -> list[int]:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def apply_chat(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        """The model's own chat template rendered to text."""
        raise NotImplementedError

    def stream(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
               stop: list[str] | None = None, seed: int | None = None,
               penalties: dict | None = None) -> Iterator[str]:
        """`penalties`: this call's repetition penalties (models/decoding.py penalties(): the
        keys not at their default; {} = none), None = the backend's own (set when built)."""
        raise NotImplementedError

    def generate(self, prompt: str, max_tokens: int = 256, temperature: float = 0.0,
                 stop: list[str] | None = None, seed: int | None = None,
                 penalties: dict | None = None) -> str:
        return "".join(self.stream(prompt, max_tokens, temperature, stop, seed, penalties))

    def chat_stream(self, messages: list[dict], **kwargs) -> Iterator[str]:
        """Stream an assistant reply to chat messages (servers use their own template)."""
        return self.stream(self.apply_chat(messages), **kwargs)

    def chat(self, messages: list[dict], **kwargs) -> str:
        return "".join(self.chat_stream(messages, **kwargs))

    def p_yes(self, prompt: str) -> Score:
        """P(Yes) at the end of prompt (the full text, ending where the answer token comes)."""
        raise NotImplementedError

    def p_yes_chat(self, messages: list[dict]) -> Score:
        """P(Yes) as the first token of the assistant's reply to messages."""
        return self.p_yes(self.apply_chat(messages))

    def p_yes_many(self, prompts: list[str]) -> list[Score]:
        """P(Yes) for many prompts; backends that can reuse a shared prefix override this."""
        return [self.p_yes(p) for p in prompts]

    def session(self, prefix: str, keep: bool = False) -> PromptSession:
        """A PromptSession for prompts starting with `prefix` (see the module doc)."""
        return PromptSession(self, prefix, keep)

    def forget_prompts(self) -> None:
        """Drop the prompt states sessions kept (benchmarks: a cold start); none here."""

    def close(self) -> None:
        """Free the model or connection (optional)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
