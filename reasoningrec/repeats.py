"""Word n-gram repeats: the one rule for "this text loops", shared by the demo pool's check
(pool_text.text_problems: a 4-gram more than 4 times) and the explanation metric
(evaluate/explanations.py: a 6-gram three times or more, and the share of repeated 6-grams).

    from reasoningrec.repeats import repeated_ngrams, repeat_share, loop_fields
    repeated_ngrams("too small, too small, too small", n=2, more_than=1)  # [("too small", 3)]
    repeat_share("a b c a b c", n=3)      # 0.25: 1 of the 4 trigram positions repeats an earlier one
    loop_fields(text)                     # {"loops": bool, "repeated_ngram_share": float | None}
    "".join(stop_when_looping(backend.stream(...)))   # generation ends before a 6-gram's 3rd time

Words are runs of letters and digits (regex \\w+), lower-cased; punctuation and line breaks
are ignored, so "too small, too small." repeats "too small" twice.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

# The explanation metric: a word 6-gram occurring more than twice. Twice is ordinary writing:
# on the first 100 of the paper's Fashion sample 33 of Mixtral's rationales repeat some 6-gram
# once (a product title, "the user has shown a preference for"), 3 three times or more; the
# Fashion student's greedy rationales: 87 and 73.
LOOP_N, LOOP_MORE_THAN = 6, 2


WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return WORD.findall((text or "").lower())


def ngram_counts(text: str, n: int) -> Counter:
    if n < 1:
        raise ValueError(f"n-gram length must be >= 1, got {n}")
    w = words(text)
    return Counter(tuple(w[i:i + n]) for i in range(len(w) - n + 1))


def repeated_ngrams(text: str, n: int, more_than: int) -> list[tuple[str, int]]:
    """Word n-grams occurring more than `more_than` times, most frequent first."""
    return [(" ".join(g), c) for g, c in ngram_counts(text, n).most_common() if c > more_than]


def repeat_share(text: str, n: int = LOOP_N) -> float | None:
    """The share of the text's n-gram positions whose n-gram already occurred earlier in it:
    (n-grams - distinct n-grams) / n-grams; 0 for no repeat, near 1 for a text that is one
    loop. None when the text has fewer than n words (no n-gram at all)."""
    counts = ngram_counts(text, n)
    total = sum(counts.values())
    return None if total == 0 else (total - len(counts)) / total


def loop_fields(text: str, n: int = LOOP_N) -> dict:
    """The per-text loop figures an explanations.jsonl row stores."""
    return {"loops": bool(repeated_ngrams(text, n, LOOP_MORE_THAN)),
            "repeated_ngram_share": (None if (s := repeat_share(text, n)) is None
                                     else round(s, 4))}


def stop_when_looping(pieces: Iterable[str], n: int = LOOP_N, more_than: int = LOOP_MORE_THAN,
                      on_stop: Callable[[], None] | None = None) -> Iterator[str]:
    """Pass the pieces of a text being generated through until some word n-gram would occur
    more than `more_than` times: the text ends before that occurrence (trailing spaces dropped)
    and the source is closed (for a backend's stream: generation stops). The text's last n - 1
    words, a word still being written and what follows the last word passed on are held back
    until later words settle them, so the occurrence that stops the text is never passed on
    and what is passed on never loops by loop_fields' rule. Without a loop the whole text comes
    through unchanged. `on_stop` is called when the text is cut (before its last piece)."""
    text, sent, counts, done = "", 0, Counter(), 0  # done: words counted so far

    def cut_at(spans, j) -> str | None:
        """The rest to pass on when word j completes an n-gram one time too many, else None."""
        if j + 1 < n:
            return None
        gram = tuple(text[a:b].lower() for a, b in spans[j + 1 - n:j + 1])
        counts[gram] += 1
        return text[sent:spans[j + 1 - n][0]].rstrip() if counts[gram] > more_than else None

    def stopped(rest: str) -> Iterator[str]:
        if on_stop is not None:
            on_stop()   # first: a consumer may close the stream once it has the last piece
        yield rest

    try:
        for piece in pieces:
            text += piece
            spans = [m.span() for m in WORD.finditer(text)]
            if spans and spans[-1][1] == len(text):
                spans.pop()  # the last word may go on in the next piece
            for j in range(done, len(spans)):
                if (rest := cut_at(spans, j)) is not None:
                    yield from stopped(rest)
                    return
            done = len(spans)
            if done >= n and spans[done - n][1] > sent:
                yield text[sent:spans[done - n][1]]
                sent = spans[done - n][1]
        spans = [m.span() for m in WORD.finditer(text)]  # the source ended: all complete
        for j in range(done, len(spans)):
            if (rest := cut_at(spans, j)) is not None:
                yield from stopped(rest)
                return
        if len(text) > sent:
            yield text[sent:]
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()
