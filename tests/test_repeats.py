"""The n-gram repeat rule (reasoningrec/repeats.py) on hand-made texts and Mixtral's released
rationales: the one rule behind the explanation metric's loops, the demo pool's loop check and
the loop stop of generation (stop_when_looping).

    .venv/bin/python -m pytest tests/test_repeats.py -q
"""
from __future__ import annotations

import pytest

from reasoningrec.evaluate.explanations import summarise
from reasoningrec.pool_text import MAX_NGRAM_REPEATS, POOL_NGRAM, text_problems
from reasoningrec.repeats import (LOOP_MORE_THAN, LOOP_N, loop_fields, repeat_share,
                                  repeated_ngrams, stop_when_looping, words)

# the shape of a real looping explanation of the Fashion student (reports/, greedy decoding)
LOOPING = ("They dislike items that are too small, too small, and do not fit well. The user "
           "also does not like items that are too small, too small, and do not fit well. The "
           "user prefers clothing that is comfortable and stylish. The user prefers clothing "
           "that is comfortable and stylish. The user prefers clothing that is comfortable.")
# a clause and a title said twice: ordinary writing (Mixtral does it), not a loop
TWICE = ("The user has shown a preference for soft cotton tops. The FPT Womens Long Sleeve "
         "Henley Top is soft cotton, and the user has shown a preference for the FPT Womens "
         "Long Sleeve Henley Top's brand before.")
CLEAN = ("The user likes soft, well-made cotton shirts at a fair price and dislikes items "
         "that run small. This blouse is cotton, priced low, and other buyers say it fits "
         "true to size, so it matches what they value.")


def test_a_looping_text_loops_and_a_clean_one_does_not():
    looping, clean, twice = loop_fields(LOOPING), loop_fields(CLEAN), loop_fields(TWICE)
    assert looping["loops"] and not clean["loops"] and not twice["loops"]
    assert clean["repeated_ngram_share"] == 0.0 < twice["repeated_ngram_share"]
    assert 0.3 < looping["repeated_ngram_share"] < 0.5
    assert repeated_ngrams(LOOPING, LOOP_N, LOOP_MORE_THAN) == [
        ("the user prefers clothing that is", 3), ("user prefers clothing that is comfortable", 3)]
    assert ("items that are too small too", 2) in repeated_ngrams(LOOPING, LOOP_N, 1)


def test_repeat_share_counts_positions_repeating_an_earlier_ngram():
    assert repeat_share("a b c a b c", n=3) == pytest.approx(1 / 4)   # abc bca cab abc
    assert repeat_share("go go go go go go go", n=6) == pytest.approx(1 / 2)  # 2 positions, 1 new
    assert repeat_share("one two three four five six", n=6) == 0.0


def test_edge_cases_empty_short_punctuation_and_case():
    for text in ("", None, "Too short to hold a six-gram."):
        assert loop_fields(text) in ({"loops": False, "repeated_ngram_share": None},
                                     {"loops": False, "repeated_ngram_share": 0.0})
    assert loop_fields("")["repeated_ngram_share"] is None          # no n-gram at all
    # punctuation, line breaks and case do not hide a repeat
    assert loop_fields("It Fits Well, And Looks Good.\nit fits well and looks good; "
                       "IT FITS WELL AND LOOKS GOOD!")["loops"]
    with pytest.raises(ValueError):
        repeated_ngrams("a b", 0, 1)


def test_the_pool_check_uses_the_same_rule_with_its_own_threshold():
    """4-grams more than 4 times: a text that repeats a clause twice is allowed in the pool
    (Mixtral does that), five times is a loop."""
    twice, five = "It is soft. " * 2, "It is soft and warm. " * 5
    assert not text_problems(twice, set())
    assert text_problems(five, set())[0].startswith("loops: 'it is soft and' x5")
    assert repeated_ngrams(five, POOL_NGRAM, MAX_NGRAM_REPEATS)[0] == ("it is soft and", 5)


def test_summary_reports_the_loop_share_and_the_mean_repeated_share():
    rows = [{"consistent": True, "stance": "Yes", "prediction": "Yes", "lexical_stance": None,
             "mentioned": 0, "grounded": 0, "invented": 0, "words": 10, "tokens": None,
             **loop_fields(text)} for text in (LOOPING, CLEAN, CLEAN, "")]
    s = summarise(rows, "lexical")
    assert s["loop_ngram"] == LOOP_N and s["loop_more_than"] == 2 and s["loops"] == 0.25
    # the empty text has no n-gram: left out of the mean, not counted as 0
    assert s["repeated_ngram_share"] == pytest.approx(
        round(loop_fields(LOOPING)["repeated_ngram_share"] / 3, 4), abs=1e-4)
    old = [{k: v for k, v in r.items() if k not in ("loops", "repeated_ngram_share")} for r in rows]
    assert summarise(old, "lexical")["loops"] is None   # rows without the fields: no figure


def chunked(text: str, size: int) -> list[str]:
    """The text in pieces of `size` characters, as a backend streams it (mid-word splits too)."""
    return [text[i:i + size] for i in range(0, len(text), size)]


def check_stop(text: str, n: int = LOOP_N) -> str:
    """stop_when_looping's output for `text` in several chunkings (all must agree), checked
    against the rule: unchanged when the text does not loop, else the longest prefix that does
    not, ending where the occurrence that loops begins; `on_stop` is called once for a cut
    text, never for a whole one."""
    outs, stops = set(), []
    for size in (1, 3, 7, 10**6):
        called: list[int] = []
        outs.add("".join(stop_when_looping(iter(chunked(text, size)), n,
                                           on_stop=lambda: called.append(1))))
        stops.append(len(called))
    assert len(outs) == 1, outs
    out = outs.pop()
    if not repeated_ngrams(text, n, LOOP_MORE_THAN):
        assert out == text and stops == [0, 0, 0, 0]
        return out
    assert stops == [1, 1, 1, 1]
    assert text.startswith(out) and out == out.rstrip()
    assert not repeated_ngrams(out, n, LOOP_MORE_THAN)
    rest = words(text[len(out):])
    assert repeated_ngrams(out + " " + " ".join(rest[:n]), n, LOOP_MORE_THAN)  # the cut is as late as it can be
    return out


def test_generation_stops_before_a_loop_and_passes_other_texts_whole():
    out = check_stop(LOOPING)
    assert out.endswith("The user prefers clothing that is comfortable and stylish.")
    assert check_stop(TWICE) == TWICE and check_stop(CLEAN) == CLEAN
    assert check_stop("too small, too small, too small, too small", n=2) == "too small, too small,"
    assert "".join(stop_when_looping(iter([]))) == ""


def test_the_stop_closes_its_source():
    closed = []

    def source():
        try:
            while True:
                yield "on and on "
        finally:
            closed.append(True)

    assert "".join(stop_when_looping(source(), n=2)) == "on and on on and on"
    assert closed == [True]


def test_the_stop_on_mixtral_rationales(fashion):
    """Real text: the first 300 of Mixtral's Fashion test rationales, a few of which repeat a
    6-gram three times; every one passes through the stop as the rule says."""
    texts = [fashion.teacher_rationale(s).text for s in fashion.splits["test"][:300]
             if fashion.teacher_rationale(s) is not None]
    assert len(texts) >= 200
    looping = [t for t in texts if loop_fields(t)["loops"]]
    assert 1 <= len(looping) < len(texts) // 10
    for text in texts:
        check_stop(text)
