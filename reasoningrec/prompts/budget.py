"""Fit a prompt into a token budget by dropping the OLDEST history items, whole items only.

    from reasoningrec.prompts import fit_history, get_template
    fitted = fit_history(get_template("student")[1], ds, sample, count_tokens=lambda s:
                         len(tok(s, add_special_tokens=False).input_ids), budget=1024,
                         tokenizer=tok, reserve=8)
    fitted.prompt, fitted.text, fitted.tokens, fitted.kept, fitted.dropped

Rules: the kept items are always the most recent suffix of the history given (oldest dropped
first), an item is either in the prompt whole or not at all (long fields were already capped
by text.cap_text), the result is the largest suffix that fits (found by binary search, then
checked), and the same inputs always give the same result. When even an empty history does not
fit, ValueError says how many tokens the rest of the prompt needs.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..data.schema import Dataset, HistoryEntry, Sample
from .text import Prompt


@dataclass(frozen=True)
class Fitted:
    prompt: Prompt
    text: str
    tokens: int                       # count_tokens(text)
    kept: tuple[HistoryEntry, ...]    # most recent items, oldest first
    dropped: int                      # how many of the oldest items were left out


def fit_history(build: Callable[..., Prompt], ds: Dataset, sample: Sample,
                count_tokens: Callable[[str], int], budget: int, *,
                history: Sequence[HistoryEntry] | None = None, tokenizer=None,
                reserve: int = 0, **build_options) -> Fitted:
    """The prompt with the most recent history items whose text (rendered with `tokenizer`'s
    chat template when given) counts at most `budget - reserve` tokens. `reserve` leaves room
    for what the model writes (or the training completion)."""
    limit = budget - reserve
    if limit <= 0:
        raise ValueError(f"budget {budget} minus reserve {reserve} leaves no room for a prompt")
    entries = tuple(sample.history if history is None else history)
    cache: dict[int, tuple[Prompt, str, int]] = {}

    def render(keep: int) -> tuple[Prompt, str, int]:
        if keep not in cache:
            prompt = build(ds, sample, history=entries[len(entries) - keep:], **build_options)
            text = prompt.text(tokenizer)
            cache[keep] = (prompt, text, int(count_tokens(text)))
        return cache[keep]

    if render(len(entries))[2] <= limit:
        best = len(entries)
    else:
        empty_tokens = render(0)[2]
        if empty_tokens > limit:
            raise ValueError(
                f"{sample.sample_id}: the prompt without any history needs {empty_tokens} "
                f"tokens but the budget allows {limit} ({budget} - reserve {reserve}); raise "
                f"the budget or shorten the profile/target text")
        lo, hi = 0, len(entries)  # render(lo) fits, render(hi) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if render(mid)[2] <= limit:
                lo = mid
            else:
                hi = mid
        best = lo
    prompt, text, tokens = render(best)
    return Fitted(prompt, text, tokens, entries[len(entries) - best:], len(entries) - best)
