"""The texts of the demo pool: how a released or generated explanation is prepared for the
page, and the checks every pool text passes (it neither echoes its prompt nor loops).

    from reasoningrec.pool_text import display_text, stated_prediction, text_problems
    stated_prediction("1. Prediction: No \\n2. The user ...")   # 0 (None when not stated)
    display_text(raw, "teacher")   # "Prediction: ..." removed, an unfinished last sentence cut
    end_text("It fits. The user likes dr")   # "It fits. The user likes dr …" (no 40-char sentence)
    text_problems(text, instruction_sentences(prompt_texts, data_texts))   # [] when fine

One rule for every system (Mixtral's rationales, the paper's 7B student, ours), so a rater
compares the reasoning, not the formatting: the answer is shown apart from the text (the
"Prediction: Yes/No" phrase and a leading "Answer:" label are removed), and a text the model
stopped mid-sentence at its token limit ends at its last full sentence, marked "…".

Echo: a sentence of the prompt's *instructions* (5+ words) copied into the text. Sentences
of the data the prompt shows (profile, titles, descriptions) are not instructions: quoting
the user's profile is fair, and Mixtral does it often. Loop: a word 4-gram occurring more
than MAX_NGRAM_REPEATS times (Mixtral's 3,296 released test rationales: at most 4; the rule
is reasoningrec/repeats.py's, shared with the explanation metric).
"""
from __future__ import annotations

import re

from .repeats import repeated_ngrams

MAX_NGRAM_REPEATS, POOL_NGRAM = 4, 4
MIN_ECHO_WORDS = 5
_PREDICTION = re.compile(r"(?:\d+\.\s*)?\**Prediction\**\s*:\s*\**\s*(Yes|No)\b\**\.?", re.I)
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*(?=\s|$)")
_LABEL = re.compile(r"^\s*(?:Answer|Response)\s*:\s*", re.I)   # a bare "Answer:" before the text
_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")


def stated_prediction(text: str) -> int | None:
    """The Yes (1) / No (0) a text states as "Prediction: ..." (the first one), else None."""
    m = _PREDICTION.search(text or "")
    return None if m is None else int(m.group(1).lower() == "yes")


def without_prediction(text: str) -> str:
    """The text with every "Prediction: Yes/No" phrase (and a list number before it) removed."""
    return _PREDICTION.sub(" ", text or "")


def cut_unfinished(text: str) -> str:
    """End at the last full sentence when the text stops mid-sentence (a token limit);
    unchanged when it ends a sentence or has no full sentence to fall back to."""
    text = text.rstrip()
    if not text or re.search(r"[.!?][\"')\]]*$", text):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if not ends or ends[-1] < 40:
        return text
    return text[:ends[-1]] + " …"


def end_text(text: str) -> str:
    """A live explanation once the model stopped: cut_unfinished, and where no full sentence
    is left to fall back to, the unfinished end is still marked "…" (never a silent cut)."""
    text = cut_unfinished(text.strip())
    if not text or re.search(r"([.!?][\"')\]]*|…)$", text):
        return text
    return text + " …"


def tidy(text: str) -> str:
    """Spaces collapsed inside lines, blank lines collapsed, ends stripped."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def display_text(raw: str, role: str = "student") -> str:
    """What the pool stores and the page shows for a model's explanation: a teacher
    rationale or the authors' student output as the data layer cleans it (its answer line
    removed), then any answer phrase left removed, spaces tidied, an unfinished end cut."""
    from .data.outputs import authors_explanation, teacher_text_without_prediction
    if role == "teacher":
        raw = teacher_text_without_prediction(raw)
    elif role == "authors":
        raw = authors_explanation(raw)
    return cut_unfinished(tidy(_LABEL.sub("", without_prediction(raw), count=1)))


# -- checks --------------------------------------------------------------------------------------
def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SPLIT.split(text or "") if s.strip()]


def instruction_sentences(prompt_texts, data_texts) -> set[str]:
    """Normalised sentences (MIN_ECHO_WORDS+ words) of the prompts that hold no data: not
    inside a data text, and containing no data sentence of 3+ words (a title alone does not
    make a sentence data: "The user will like X in 100 words." is an instruction)."""
    data = [_norm(t) for t in data_texts if t]
    parts = {p for t in data_texts if t for s in sentences(t) for p in [_norm(s)]
             if len(p.split()) >= 3}
    out = set()
    for prompt in prompt_texts:
        for s in sentences(prompt):
            n = _norm(s)
            if (len(n.split()) >= MIN_ECHO_WORDS and not any(n in d for d in data)
                    and not any(p in n for p in parts)):
                out.add(n)
    return out


def prompt_instructions(ds, sample) -> set[str]:
    """The instruction sentences of the teacher's and the student's prompt for `sample` (both
    student layouts): what no pool text may copy."""
    from .prompts import build
    built = [build("teacher_cot", ds, sample), build("student", ds, sample),
             build("student", ds, sample, candidate_last=True)]
    prompts = [m["content"] for p in built for m in p.chat()]
    user = ds.users.get(sample.user_id)
    data = [user.demographics, user.profile] if user else []
    for item_id in [h.item_id for h in sample.history] + [sample.target]:
        item = ds.items.get(item_id)
        if item is not None:
            data += [item.title, *item.attributes.values()]
    return instruction_sentences(prompts, data)


def text_problems(text: str, instructions: set[str]) -> list[str]:
    """Why a text may not be in the pool: empty, echoes an instruction sentence, or loops."""
    if not (text or "").strip():
        return ["empty"]
    problems = []
    body = _norm(text)
    echoed = sorted(s for s in instructions if s in body)
    if echoed:
        problems.append(f"echoes the prompt: {echoed[0][:80]!r}")
    loops = repeated_ngrams(text, POOL_NGRAM, MAX_NGRAM_REPEATS)
    if loops:
        problems.append(f"loops: {loops[0][0]!r} x{loops[0][1]}")
    return problems
