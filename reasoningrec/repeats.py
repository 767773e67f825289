"""Word n-gram repeats: the one rule for "this text loops", shared by the demo pool's check
(pool_text.text_problems: a 4-gram more than 4 times) and the explanation metric
(evaluate/explanations.py: a 6-gram three times or more, and the share of repeated 6-grams).

    from reasoningrec.repeats import repeated_ngrams, repeat_share, loop_fields
    repeated_ngrams("too small, too small, too small", n=2, more_than=1)  # [("too small", 3)]
    repeat_share("a b c a b c", n=3)      # 0.25: 1 of the 4 trigram positions repeats an earlier one
    loop_fields(text)                     # {"loops": bool, "repeated_ngram_share": float | None}

Words are runs of letters and digits (regex \\w+), lower-cased; punctuation and line breaks
are ignored, so "too small, too small." repeats "too small" twice.
"""
from __future__ import annotations

import re
from collections import Counter

# The explanation metric: a word 6-gram occurring more than twice. Twice is ordinary writing:
# on the first 100 of the paper's Fashion sample 33 of Mixtral's rationales repeat some 6-gram
# once (a product title, "the user has shown a preference for"), 3 three times or more; the
# Fashion student's greedy rationales: 87 and 73.
LOOP_N, LOOP_MORE_THAN = 6, 2


def words(text: str) -> list[str]:
    return re.findall(r"\w+", (text or "").lower())


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
