"""Detect and repair dirty text fields in scraped catalogue data.

    from reasoningrec.data.clean import clean_title, clean_field
    title, fix = clean_title(raw_title, description)   # fix: None, "script", "too_long", "missing"
    text, fix = clean_field(raw_description)           # fix: None, "script", "too_long", "empty"

Why: 11 Fashion titles are whole scraped Amazon pages (JavaScript, 57k-423k characters) that
turn one prompt into ~26k tokens and crash llama.cpp at n_ctx 4096. Such pages still carry the
product page's own title once ("Amazon.com: <title>: <category>"), so we recover it from there;
without one we fall back to a short name derived from the description.

MAX_TITLE_CHARS = 300: every ordinary Fashion title fits (the longest is 260 characters); the
three that do not are run-on keyword lists whose first 300 characters hold the product. 300
characters are ~75 tokens, so the five titles of a sample cost < 400 of a 4096-token context,
and the threshold is the one the dataset notes use ("14 titles over 300 characters"), so the
loader's count agrees with them. Cuts fall on a word boundary and end in "...".

Check on the real data: `.venv/bin/python -m reasoningrec data stats --dataset fashion`.
"""
from __future__ import annotations

import html
import re

MAX_TITLE_CHARS = 300
MAX_FIELD_CHARS = 1000  # descriptions are LLM summaries (<= 329 chars in Fashion)
MAX_FALLBACK_TITLE_CHARS = 80
ELLIPSIS = "..."

# Marks of program text; ordinary product titles and reviews contain none of them.
_SCRIPT_MARKERS = re.compile(
    r"\bfunction\s*\(|\bvar\s+\w+\s*=|\b(?:window|document)\.\w|</?(?:script|style|div|span)\b"
    r"|<!--|\bnew\s+Date\s*\(|=>\s*\{|\}\s*\)\s*\(|;\s*\}")
_SCRIPT_MIN_MARKERS = 2
# The product page's <title> survives in the scraped text as its own line.
_PAGE_TITLE = re.compile(r"^\s*Amazon\.[a-z.]+\s*:\s*(\S.*?)\s*$", re.MULTILINE)
# "Product: Zumba Shoes" heads some LLM-written descriptions.
_PRODUCT_LINE = re.compile(r"^\s*Product\s*:\s*(\S.*?)\s*$", re.MULTILINE)
_PRODUCT_IS = re.compile(r"^(?:the|this)\s+(?:product|item)\s+is\s+(?:an?\s+(?:pair\s+of\s+)?)?",
                         re.IGNORECASE)


def looks_like_script(text: str) -> bool:
    """True for scraped JavaScript/HTML; only the first 20k characters are inspected."""
    return len(_SCRIPT_MARKERS.findall(text[:20000])) >= _SCRIPT_MIN_MARKERS


def one_line(text: str) -> str:
    """HTML entities decoded, whitespace runs (newlines included) folded to one space."""
    return " ".join(html.unescape(text).split())


def truncate_words(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, ending in '...'."""
    if len(text) <= limit:
        return text
    cut = text[:limit - len(ELLIPSIS) + 1]
    space = cut.rfind(" ")
    if space > limit // 2:  # a word boundary not too far back; else cut mid-word
        cut = cut[:space]
    return cut[:limit - len(ELLIPSIS)].rstrip(" ,;:-/(&+") + ELLIPSIS


def page_title(script: str) -> str | None:
    """'Amazon.com: NIKE Flex TR 4: Nike: Shoes' -> 'NIKE Flex TR 4' (the first segment: the
    page appends store and category segments after ': ')."""
    match = _PAGE_TITLE.search(script)
    if not match:
        return None
    title = one_line(match.group(1).split(": ")[0])
    return title if title and not looks_like_script(title) else None


def title_from_description(description: str | None) -> str | None:
    """A short name from an LLM description: its 'Product: X' line, else its first clause
    without 'The product is a'."""
    if not description or not description.strip() or looks_like_script(description):
        return None
    match = _PRODUCT_LINE.search(description)
    text = match.group(1) if match else re.split(r"[.,;:!?\n]", description.strip())[0]
    text = one_line(_PRODUCT_IS.sub("", one_line(text)))
    if not text:
        return None
    return truncate_words(text[0].upper() + text[1:], MAX_FALLBACK_TITLE_CHARS)


def clean_title(raw: str | None, description: str | None = None,
                placeholder: str = "untitled item") -> tuple[str, str | None]:
    """(title, fix): fix is None when `raw` was fine, else what was repaired."""
    text = one_line(raw or "")
    if not text:
        return title_from_description(description) or placeholder, "missing"
    if looks_like_script(text):
        # Search the raw text: the page title is found by its own line.
        return (page_title(raw) or title_from_description(description) or placeholder), "script"
    if len(text) > MAX_TITLE_CHARS:
        return truncate_words(text, MAX_TITLE_CHARS), "too_long"
    return text, None


def clean_field(raw: str | None, limit: int = MAX_FIELD_CHARS) -> tuple[str | None, str | None]:
    """(text, fix) for a brand/price/description: script is dropped (None), overlong text is cut,
    empty text is None with fix 'empty'."""
    text = one_line(raw or "")
    if not text:
        return None, "empty"
    if looks_like_script(text):
        return None, "script"
    if len(text) > limit:
        return truncate_words(text, limit), "too_long"
    return text, None
