"""Does a rationale argue that the user will like the item? The consistency checker.

    from reasoningrec.evaluate.stance import load_checker
    checker = load_checker("smollm2")     # LLM judge, llama.cpp, offline (the default)
    checker.p_like("The user loves sci-fi ... so they will enjoy it.")   # ~0.9
    checker.name                          # "llm-continuation:llamacpp:/.../SmolLM2...gguf"
    load_checker("lexical").p_like(text)  # cue phrases only, no model
    load_checker("openai:http://host:8000/v1#model", mode="yesno")

The checker never sees the model's prediction: lines such as "Prediction: Yes" are stripped
from the rationale first (strip_prediction), so agreement is a property of the text alone.

Modes of the LLM judge (any backend spec; the report records "<mode>:<backend>"):
- continuation (default where the backend exposes next-token log-probabilities: llama.cpp,
  transformers): the judge is asked to sum the reasoning up in one word and its answer is
  started for it with "The reasoning says the user will"; P(like) is the mass of the tokens
  " like", " enjoy", " love", " appreciate" against " not", " dislike", " hate", " avoid".
- yesno: P(Yes) of "Does this reasoning conclude the user will like the item? Answer Yes or
  No." (every backend, openai: servers too; the right choice for a capable judge).
Why continuation by default: on 20 hand-written clear cases SmolLM2-135M's Yes/No answer is at
chance (P(Yes) 0.04-0.10 whatever the text says; accuracy 0.50) while its continuation gets
all 20 right, the closest by 1.3 nats (tests/test_explanations.py checks a real set of these).
- lexical: the last conclusion phrase ("will (not) like/enjoy", "unlikely to enjoy", "a poor
  fit") decides, 1.0 or 0.0; None when there is none. Model-free; reported beside the judge.
"""
from __future__ import annotations

import math
import re

from ..models.base import logsumexp

MODES = ("auto", "continuation", "yesno")
YESNO_QUESTION = ("Does this reasoning conclude the user will like the item? "
                  "Answer Yes or No.")
SUMMARY_REQUEST = "Summarise this recommender's reasoning in one word: like or dislike."
CONTINUATION_CUE = "The reasoning says the user will"
LIKE_WORDS = (" like", " enjoy", " love", " appreciate")
DISLIKE_WORDS = (" not", " dislike", " hate", " avoid")
# A line that is only an answer ("Prediction: Yes", "# Answer:") goes; a label in front of text
# ("Answer: 1. The user ...", as the paper's 7B student writes its whole explanation) goes with
# its Yes/No, and the text stays.
_PREDICTION_LINE = re.compile(r"^[ \t#*]*(prediction|answer)[ \t*]*:[ \t*]*(yes|no)?[ \t*.]*$",
                              re.I | re.M)
_REASONING_LABEL = re.compile(r"^[ \t#*]*(reasoning|prediction|answer)[ \t*]*:[ \t*]*"
                              r"(?:(?:yes|no)\b[ \t*.,:;-]*)?", re.I | re.M)

_VERB = r"(?:like|enjoy|love|appreciate|be (?:interested in|pleased with|satisfied with))"
_NEG_VERB = r"(?:dislike|hate|not (?:like|enjoy|love|appreciate)|be disappointed)"
_MODAL = (r"(?:will|would|should|is (?:likely|going) to|are (?:likely|going) to|"
          r"(?:most |very )?likely to|may|might|probably will|will probably|will likely|"
          r"will definitely|will surely)")
_NEGATIVE = re.compile(
    rf"\b(?:{_MODAL}\s+(?:probably\s+)?{_NEG_VERB}"
    rf"|(?:won't|wouldn't|will not|would not|doesn't|does not|don't|do not|unlikely to)"
    rf"\s+(?:\w+\s+)?(?:{_VERB}|match|fit|suit)"
    rf"|(?:not|poor|bad) (?:a )?(?:good |great )?(?:fit|match)|goes against)\b", re.I)
_POSITIVE = re.compile(
    rf"\b(?:{_MODAL}\s+(?:really\s+|also\s+)?{_VERB}(?!\s+or\s+(?:dis)?like)"
    rf"|(?:good|great|perfect|strong) (?:fit|match)"
    rf"|fits (?:their|the user's|his|her) (?:taste|preferences))\b", re.I)


def strip_prediction(rationale: str | None) -> str:
    """The rationale without "Prediction: Yes/No" / "Answer:" lines, and without such labels
    (and their Yes/No) in front of text, or a "Reasoning:" label."""
    text = _PREDICTION_LINE.sub("", rationale or "")
    return _REASONING_LABEL.sub("", text).strip()


class LexicalChecker:
    """1.0 / 0.0 from the LAST conclusion phrase in the text, None when there is none."""

    name = "lexical"

    def p_like(self, rationale: str) -> float | None:
        text = strip_prediction(rationale)
        last = [(m.start(), 1.0) for m in _POSITIVE.finditer(text)]
        last += [(m.start(), 0.0) for m in _NEGATIVE.finditer(text)]
        return max(last)[1] if last else None


class LLMChecker:
    """An LLM judge through any backend (see the module doc for the two modes)."""

    def __init__(self, backend, mode: str = "auto"):
        if mode not in MODES:
            raise ValueError(f"checker mode must be one of {MODES}, got {mode!r}")
        has_logprobs = hasattr(backend, "next_token_logprobs") and backend.local_template
        if mode == "auto":
            mode = "continuation" if has_logprobs else "yesno"
        if mode == "continuation" and not has_logprobs:
            raise ValueError(f"{backend.name} gives no next-token log-probabilities; "
                             "use --checker-mode yesno")
        self.backend, self.mode = backend, mode
        self.name = f"llm-{mode}:{backend.name}"
        if mode == "continuation":
            self._ids = [self._word_ids(words) for words in (LIKE_WORDS, DISLIKE_WORDS)]

    def _word_ids(self, words) -> list[int]:
        """First token of each word, past the BOS some tokenizers put before any text."""
        skip = len(self.backend.tokenize(""))
        return [self.backend.tokenize(w)[skip] for w in words]

    def p_like(self, rationale: str) -> float | None:
        text = strip_prediction(rationale)
        if not text:
            return None
        if self.mode == "yesno":
            return self.backend.p_yes_chat([{"role": "user", "content":
                                             f"Here is a recommender's reasoning about whether "
                                             f"a user will like an item:\n\n{text}\n\n"
                                             f"{YESNO_QUESTION}"}]).p_yes
        prompt = self.backend.apply_chat([{"role": "user", "content":
                                           f"{SUMMARY_REQUEST}\n\nReasoning: {text}"}])
        logprobs = self.backend.next_token_logprobs(prompt + CONTINUATION_CUE)
        like, dislike = (logsumexp(float(logprobs[i]) for i in ids) for ids in self._ids)
        return 1.0 / (1.0 + math.exp(dislike - like))


def load_checker(spec: str = "smollm2", mode: str = "auto"):
    """"lexical", or an LLM judge on the backend `spec` names (load_backend)."""
    if spec == "lexical":
        return LexicalChecker()
    from ..models.loader import load_backend
    return LLMChecker(load_backend(spec), mode)
