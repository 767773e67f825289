"""Which history items an explanation cites, found by matching their titles in its text.

    from reasoningrec.citations import cited_items, cited_spans
    cited_items("Like Toy Story, it is ...", [ds.item("1"), ds.item("48")])   # ["1"]
    cited_spans(text, items)      # [(start, end, item_id)], non-overlapping, for highlighting
    TitleIndex(ds.items.values()).spans(text)   # the whole catalogue: [(start, end, [ids])]

A title is matched case-insensitively, on word boundaries, ignoring punctuation, in several
spellings: as written; without a trailing "(...)" (alternate titles) or without every "(...)"
(Amazon's "QIYUN.Z (TM) Tribal ..." is written "QIYUN.Z Tribal ..."); with MovieLens's moved
article put back ("American President, The" -> "The American President"); and, for long
product titles (Amazon titles run to 15+ words), their first LONG_TITLE_WORDS words. Names
shorter than MIN_CHARS characters are skipped: "Up" or "Heat" would match ordinary words. A
match may not run across a sentence end ("... and The Postman. The user ..." is not "Postman,
The") unless the title itself has one inside ("L.A. Confidential", "Tora! Tora! Tora!").
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from .data.schema import Item

MIN_CHARS = 5
LONG_TITLE_WORDS = 5
_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|La|Le|Les|Il|Das|Der|Die|El|L')$", re.I)
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = re.compile(r"[.!?][\"'’”)]*\s")  # a sentence end between two words


def _words(text: str) -> list[tuple[str, int, int]]:
    """(casefolded word, start, end) for every word of `text`."""
    return [(m.group().casefold(), m.start(), m.end()) for m in _WORD.finditer(text)]


def word_seq(text: str) -> tuple[str, ...]:
    """The casefolded words of `text`, as titles are compared."""
    return tuple(w for w, _, _ in _words(text or ""))


def title_variants(title: str) -> set[tuple[str, ...]]:
    """The word sequences that count as a mention of `title` (see module doc)."""
    base = re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title
    names = {title, base, re.sub(r"\s*\([^)]*\)", " ", title).strip() or title}
    m = _ARTICLE.match(base)
    if m:
        names |= {f"{m['article']} {m['rest']}", m["rest"]}
    variants = set()
    for name in names:
        words = tuple(w for w, _, _ in _words(name))
        if len(words) > LONG_TITLE_WORDS:
            variants.add(words[:LONG_TITLE_WORDS])
        variants.add(words)
    return {v for v in variants if v and len(" ".join(v)) >= MIN_CHARS}


class TitleIndex:
    """Every title spelling of a catalogue, so mentions are found in one pass per distinct
    spelling length (a dict lookup a window) instead of one scan per item: 3,883 ML-1M
    titles cost about as much as 20 history titles. Spellings shared by several items
    (remakes) keep every id, in the order the items came."""

    def __init__(self, items: Iterable[Item]):
        self.ids_by_variant: dict[tuple[str, ...], list[str]] = {}
        self.with_stop: set[tuple[str, ...]] = set()  # spellings of titles with ". " inside
        for item in items:
            for variant in title_variants(item.title):
                ids = self.ids_by_variant.setdefault(variant, [])
                if item.id not in ids:
                    ids.append(item.id)
                if _STOP.search(item.title):
                    self.with_stop.add(variant)
        self.lengths = sorted({len(v) for v in self.ids_by_variant}, reverse=True)

    def spans(self, text: str) -> list[tuple[int, int, list[str]]]:
        """Non-overlapping (start, end, item ids) of the titles `text` names; a longer match
        wins over a shorter one that overlaps it, then the earlier one."""
        words = _words(text or "")
        seq = [w for w, _, _ in words]
        found = []
        for n in self.lengths:
            for i in range(len(seq) - n + 1):
                variant = tuple(seq[i:i + n])
                ids = self.ids_by_variant.get(variant)
                if ids and (variant in self.with_stop or not _STOP.search(
                        text, words[i][2], words[i + n - 1][1])):
                    found.append((words[i][1], words[i + n - 1][2], ids))
        found.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
        taken: list[tuple[int, int, list[str]]] = []
        for span in found:
            if all(span[1] <= t[0] or span[0] >= t[1] for t in taken):
                taken.append(span)
        return sorted(taken)


def cited_spans(text: str, items: Iterable[Item]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, item_id) character spans of `text` naming an item; a
    longer match wins over a shorter one that overlaps it."""
    return [(start, end, ids[0]) for start, end, ids in TitleIndex(items).spans(text)]


def cited_items(text: str, items: Iterable[Item]) -> list[str]:
    """Ids of the items `text` names, in order of first mention."""
    seen: list[str] = []
    for _, _, item_id in cited_spans(text, items):
        if item_id not in seen:
            seen.append(item_id)
    return seen
