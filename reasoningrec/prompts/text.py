"""Prompt text pieces shared by every template: capped free text, item lines, domain wording,
and the `Prompt` object that renders to chat messages or to one string.

    from reasoningrec.prompts.text import cap_text, item_line, Prompt
    prompt.messages                  # [{"role": "system", ...}, {"role": "user", ...}]
    prompt.text()                    # backend-free string (contents joined by blank lines)
    prompt.text(tokenizer)           # through tokenizer.apply_chat_template(..., add_generation_prompt=True)

Free-text caps (why: one dirty field, e.g. a 400k-character scraped Amazon title or a runaway
LLM profile, must not turn a prompt into 26k tokens). Every field is whitespace-normalised
(runs of spaces/newlines become one space) and, when longer than its limit in FIELD_LIMITS,
cut at the last space before the limit and ended with " [...]". The caps are deterministic
and apply before any token budget, so the budget fitter only ever drops whole items.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..data.schema import Dataset, Item, User

# Characters, per kind of field. A 25-word paper summary is ~170 chars, a paper profile
# (200 words) ~1,300 chars: the limits leave room for real text and stop only garbage.
FIELD_LIMITS = {"title": 300, "attribute": 200, "description": 600, "profile": 1500,
                "demographics": 200, "review": 1000, "reasoning": 4000}
TRUNCATION_MARK = " [...]"
# Attribute keys that count as item description (the paper's "item description" ablation):
# all are left out of the attribute list; the first present one is shown as "Description:".
DESCRIPTION_KEYS = ("description", "summary", "plot")
# Long credits/metadata the paper's prompts never showed: kept for embeddings (Item.text()),
# left out of prompts to save tokens (SmolLM2 reads ~250 tokens/s on 2 CPU threads).
HIDDEN_KEYS = ("director", "writer", "actors", "rated", "released", "poster_url")
_SPACES = re.compile(r"\s+")


def cap_text(text: str | None, kind: str) -> str:
    """`text` whitespace-normalised and cut to FIELD_LIMITS[kind] characters (see module doc)."""
    limit = FIELD_LIMITS[kind]
    text = _SPACES.sub(" ", text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - len(TRUNCATION_MARK)]
    if " " in cut:  # end on a word boundary so no word is cut in half
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip() + TRUNCATION_MARK


@dataclass(frozen=True)
class Wording:
    """Domain-specific words, so one template serves movies and products."""

    noun: str          # "movie" | "item"
    nouns: str         # "movies" | "items"
    expert: str        # "movie critic" | "fashion product recommender"
    verb: str          # "watched" | "purchased"


def wording(ds: Dataset) -> Wording:
    """Movie wording for domain "movie", product wording (named after the dataset) otherwise."""
    if ds.domain == "movie":
        return Wording("movie", "movies", "movie critic", "watched")
    if ds.domain != "product":
        raise ValueError(f"dataset {ds.name!r} has domain {ds.domain!r}; prompts know "
                         "'movie' and 'product'")
    category = ds.name.replace("_", " ") if ds.name.replace("_", "").isalpha() else ""
    return Wording("item", "items", f"{category} product recommender".strip(), "purchased")


def item_line(item: Item, with_description: bool = True, labels: bool = True) -> str:
    """`Title (Year: 1995; Genres: Comedy) Description: ...`, each field capped; with
    `with_description=False` no description/summary/plot text at all; with `labels=False`
    the attribute values alone, `Title (1995; Comedy)` (fewer tokens: the candidate-last
    layout's answer line)."""
    attrs = [(f"{key.replace('_', ' ').capitalize()}: " if labels else "")
             + cap_text(value, "attribute")
             for key, value in item.attributes.items()
             if key not in DESCRIPTION_KEYS + HIDDEN_KEYS and str(value).strip()]
    line = cap_text(item.title, "title") or f"item {item.id}"
    if attrs:
        line += f" ({'; '.join(attrs)})"
    if with_description:  # the first description field only: the paper shows one summary
        desc = next((item.attributes[k] for k in DESCRIPTION_KEYS
                     if str(item.attributes.get(k) or "").strip()), "")
        if desc:
            line += f" Description: {cap_text(desc, 'description')}"
    return line


def item_title(item: Item) -> str:
    return cap_text(item.title, "title") or f"item {item.id}"


def profile_text(user: User | None, override: str | None = None) -> str:
    """Demographics and the LLM profile as one paragraph ("" when there is neither)."""
    if user is None and override is None:
        return ""
    parts = []
    demographics = cap_text(user.demographics if user else "", "demographics")
    if demographics:
        parts.append(f"The user is a {demographics}." if not demographics.endswith(".")
                     else demographics)
    profile = cap_text(override if override is not None else (user.profile if user else ""),
                       "profile")
    if profile:
        parts.append(profile)
    return " ".join(parts)


@dataclass(frozen=True)
class Prompt:
    """A rendered prompt. `template` ("teacher_cot/v1") is what users of it should record.

    `assistant_prefix` is text already written at the start of the assistant turn (the
    student's "Prediction:"); `answer_texts` = (yes, no) are the continuations whose first
    tokens are compared at the answer position, i.e. right after `text()` ends."""

    template: str
    messages: tuple[dict[str, str], ...]
    history_ids: tuple[str, ...] = ()
    assistant_prefix: str = ""
    answer_texts: tuple[str, str] | None = None
    response_cue: str = ""  # for plain rendering only (TALLRec's "### Response:\n")
    meta: dict = field(default_factory=dict, compare=False)

    def chat(self) -> list[dict[str, str]]:
        """Messages as a fresh list of {"role", "content"} dicts."""
        return [dict(m) for m in self.messages]

    def text(self, tokenizer=None) -> str:
        """The final string. With a tokenizer that has a chat template, its template (with the
        assistant turn opened); otherwise contents joined by blank lines."""
        if tokenizer is not None and getattr(tokenizer, "chat_template", None):
            head = tokenizer.apply_chat_template(self.chat(), tokenize=False,
                                                 add_generation_prompt=True)
            return head + self.assistant_prefix
        parts = [m["content"] for m in self.messages]
        tail = self.response_cue + self.assistant_prefix
        return "\n\n".join(parts + ([tail] if tail else []))
