"""Explanation quality: consistency, grounding, similarity to the teacher, length.

    reasoningrec eval --dataset ml1m --model student --limit 50 --explanations \\
        [--checker smollm2|lexical|<spec>] [--teacher-variant V | --teacher-jsonl FILE]
    reasoningrec eval --dataset fashion --model authors:sample64_valsample800_lr1e-4_valauc \\
        --sample paper --explanations --limit 100     # the paper's 7B student, replayed

    from reasoningrec.evaluate.explanations import find_mentions
    find_mentions(text, TitleIndex(ds.items.values()), shown={"1", "48"}, candidate="48")

Per sample (explanations.jsonl in the report folder, one row a sample_id, in sample order):
- consistency: the checker (stance.py) reads the rationale without the prediction (no
  "Prediction: Yes/No" line, nor such a phrase mid-text as the paper's 7B student writes) and
  gives P(like); `consistent` = its stance (P >= 0.5) equals the model's own prediction. The
  lexical checker's stance is stored beside it as a model-free cross-check.
- grounding: every title the rationale names (explain.TitleIndex over the whole catalogue,
  plus quoted strings and "Title (1999)" patterns) is `candidate`, `history` (shown in the
  prompt), `history_not_shown` (the user's, but cut from the prompt), `invented` (another
  catalogue item) or `unknown` (a quoted or dated title that is in no catalogue: invented
  too). Outside the shown items a catalogue title counts only when written like a title
  (capitalised, and quoted or dated when one word long), so "powder" or "friday" in running
  text is not a mention of the films Powder and Friday.
- teacher_cosine, teacher_bertscore_f1: all-MiniLM-L6-v2 cosine and BERTScore F1 (MiniLM
  backbone, layer 6; bertscore.py) to the teacher's rationale for the same sample, both texts
  without "Prediction: Yes/No" (similarity.py). The reference is the dataset's released teacher
  (`ds.teacher_rationale`, the main variant unless `teacher_variant` names another) whenever it
  has rows for the samples, automatically; `teacher_jsonl` (training.teach output) overrides.
- loops, repeated_ngram_share: whether some word 6-gram occurs three times or more in the text
  (without its prediction), and the share of its 6-gram positions repeating an earlier one
  (reasoningrec/repeats.py, the rule the demo pool's loop check uses); recomputed for resumed
  rows, so reports from before the metric get it too. loop_stopped: the loop stop
  (models/decoding.py stop_loop_ngram) ended this rationale before a loop (its prediction
  record's extra "stopped"); the summary counts them.
- words, tokens (the scored model's tokenizer).
Rows are appended as they are judged (a killed run resumes; a torn last line is dropped) and
the file is rewritten in sample order at the end. The checker is the slow part (~0.5 s a row
with SmolLM2); BERTScore adds ~0.2 s a pair on 2 CPU cores. A replayed rationale (the authors'
student: `authors:<run>`) is judged like any other; nothing is generated for it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

from ..data.schema import DataError
from ..citations import TitleIndex, word_seq
from ..prompts.text import item_line, profile_text
from ..repeats import LOOP_MORE_THAN, LOOP_N, loop_fields
from .report import EXPLANATIONS
from .similarity import compared_text, stats, teacher_references, teacher_similarity
from .stance import LexicalChecker, load_checker, strip_prediction

GROUNDED, INVENTED = ("candidate", "history"), ("invented", "unknown")
CHECKER_INPUT = 3  # 3: the text without "Prediction: Yes/No" anywhere (similarity.compared_text),
#                    "Answer: <text>" keeping its text
SMALL_WORDS = {"a", "an", "and", "at", "by", "de", "for", "from", "in", "of", "on", "or",
               "the", "to", "with", "la", "le", "les", "el", "il", "der", "die", "das"}
QUOTES = "\"“”'‘’"
CAPITALISED_WORDS = {
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january",
    "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "christmas", "halloween", "action", "adventure", "animation",
    "children's", "comedy", "crime", "documentary", "drama", "fantasy", "film-noir", "horror",
    "musical", "mystery", "romance", "sci-fi", "thriller", "war", "western", "hollywood"}
_YEAR = re.compile(r"\s*\((?:19|20)\d\d\)")
QUESTION_WORDS = {"will", "would", "does", "do", "is", "are", "can", "should", "what", "why",
                  "how", "which"}
NOT_TITLES = {"yes", "no", "like", "liked", "dislike", "disliked", "prediction", "reasoning"}
# Quotes pair up left to right whatever their length (a long quoted product description must
# not leave its closing quote to pair with the next opening one); long ones are dropped later.
_QUOTED = re.compile(r"[\"“]([^\"”\n]*)[\"”]")
_DATED = re.compile(r"((?:[A-Z0-9][\w'’:&.,!-]*\s+(?:(?:of|the|a|an|and|in|on|to|for|with)\s+)*)*"
                    r"[A-Z0-9][\w'’:&.,!-]*)\s*\((?:19|20)\d\d\)")


def _title_like(text: str, start: int, end: int) -> bool:
    """Written as a title: capitalised words; one word only when quoted or dated, or
    mid-sentence, not a capitalised ordinary word (a day, a month, a genre) and not next to
    another capitalised word (part of a name)."""
    words = [w for w in text[start:end].split() if w.casefold() not in SMALL_WORDS]
    if not words or not all(w[0].isupper() or w[0].isdigit() for w in words):
        return False
    if len(word_seq(text[start:end])) > 1:
        return True
    before, after = text[start - 1:start], text[end:end + 1]
    if (before and after and before in QUOTES and after in QUOTES) or _YEAR.match(text[end:]):
        return True
    sentence_start = re.search(r"(^|[.!?:;\n])[\s\"“(]*$", text[:start]) is not None
    # "Michael Douglas", "Sean Connery": one word of a longer capitalised name, not a title
    in_a_name = (re.match(r" [A-Z]", text[end:end + 2]) is not None
                 or re.search(r"[A-Z]\w* $", text[max(0, start - 30):start]) is not None)
    return (not sentence_start and not in_a_name
            and words[0].casefold().strip("'’") not in CAPITALISED_WORDS)


def _not_a_title(inner: str) -> bool:
    """A quoted label ("Strong features:") or question ("Will the user like ...?")."""
    return inner.endswith(":") or (inner.endswith("?") and word_seq(inner)[0] in QUESTION_WORDS)


def _title_strings(text: str):
    """(start, end) of quoted strings and "Title (1999)" titles that look like titles."""
    for m in list(_QUOTED.finditer(text)) + list(_DATED.finditer(text)):
        inner = m.group(1).strip()
        words = word_seq(inner)
        if (words and len(words) <= 12 and 2 <= len(inner) <= 120
                and (inner[0].isupper() or inner[0].isdigit())
                and " ".join(words) not in NOT_TITLES and not _not_a_title(inner)):
            yield m.start(1), m.start(1) + len(m.group(1).rstrip())


def find_mentions(text: str, index: TitleIndex, shown: set[str], candidate: str,
                  history: set[str] = frozenset(), titles: dict[str, str] | None = None,
                  prompt_text: str = "") -> list[dict]:
    """[{"text", "item_id", "kind"}] for each title `text` names, in order of first mention,
    once each (see module doc). `titles` (id -> title of the shown items and the candidate)
    lets a quoted part of a shown title count as that item; words copied from `prompt_text`
    (the shown item lines and profile) are never an invented title."""
    mentions, kept = [], []
    echo = f" {' '.join(word_seq(prompt_text))} "
    for start, end, ids in index.spans(text):
        if candidate in ids:
            item, kind = candidate, "candidate"
        elif shown & set(ids):
            item, kind = next(i for i in ids if i in shown), "history"
        elif history & set(ids):
            item, kind = next(i for i in ids if i in history), "history_not_shown"
        elif (_title_like(text, start, end)
              and f" {' '.join(word_seq(text[start:end]))} " not in echo):
            item, kind = ids[0], "invented"
        else:
            continue
        mentions.append({"start": start, "text": text[start:end], "item_id": item, "kind": kind})
        kept.append((start, end))
    own = {i: word_seq(t) for i, t in (titles or {}).items()}
    for start, end in _title_strings(text):
        if any(start < e and s < end for s, e in kept):
            continue
        words = word_seq(text[start:end])
        part_of = [i for i, t in own.items()
                   if any(t[k:k + len(words)] == words for k in range(len(t)))]
        if not part_of and f" {' '.join(words)} " in echo:
            continue  # quoting the prompt's own words is not naming a title
        item = candidate if candidate in part_of else (part_of[0] if part_of else None)
        kind = "candidate" if item == candidate else "history" if item else "unknown"
        mentions.append({"start": start, "text": text[start:end], "item_id": item, "kind": kind})
        kept.append((start, end))
    mentions.sort(key=lambda m: m.pop("start"))
    seen, unique = set(), []
    for m in mentions:  # one entry an item (or an unknown title), where first named
        name = m["item_id"] or " ".join(word_seq(m["text"]))
        if name not in seen:
            seen.add(name)
            unique.append(m)
    return unique


def _read_rows(path: Path) -> dict[str, dict]:
    """Rows already judged (the last row of a sample_id wins). A last line without its
    newline is a write a kill interrupted: it is cut off, so new rows start on a line."""
    if not path.exists():
        return {}
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines[-1]:
        with open(path, "r+b") as f:
            f.truncate(len(data) - len(lines[-1]))
    rows = {}
    for number, raw in enumerate(lines[:-1], 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
            rows[row["sample_id"]] = row
        except (ValueError, KeyError, TypeError):
            raise DataError(path, "unreadable row; delete the file to judge again",
                            line=number) from None
    return rows


def _rewrite(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                   encoding="utf-8")
    os.replace(tmp, path)


_LEGACY_LINE = re.compile(r"^\s*\**\s*(prediction|answer)\s*\**\s*:.*$", re.I | re.M)
_LEGACY_LABEL = re.compile(r"^\s*\**\s*reasoning\s*\**\s*:\s*", re.I | re.M)


def _same_input(row: dict, rationale: str) -> bool:
    """Whether a stored row's checker read what it would read now. Rows without
    `checker_input` read the text with every "Prediction:"/"Answer:" line deleted (whole
    lines); they stand only where that is the text judged now."""
    if row.get("checker_input") == CHECKER_INPUT:
        return True
    if row.get("checker_input") is not None:
        return False
    legacy = _LEGACY_LABEL.sub("", _LEGACY_LINE.sub("", rationale)).strip()
    return legacy.split() == compared_text(rationale).split()


def judge_one(ds, sample, prediction: dict, judge, index: TitleIndex,
              count_tokens=None) -> dict:
    """The explanations.jsonl row of one rationale (see the module doc)."""
    text = compared_text(prediction["rationale"])  # no "Prediction: Yes/No" anywhere in it
    p_like, lexical = judge.p_like(text), LexicalChecker().p_like(text)
    shown = set((prediction.get("extra") or {}).get("history_shown")
                or [e.item_id for e in sample.history])  # rows from before history_shown
    titles = {i: ds.item(i).title for i in shown | {sample.target}}
    prompt_text = " ".join([item_line(ds.item(i)) for i in titles]
                           + [profile_text(ds.users.get(sample.user_id))])
    mentions = find_mentions(text, index, shown, sample.target,
                             {e.item_id for e in sample.history}, titles, prompt_text)
    stance = None if p_like is None else ("Yes" if p_like >= 0.5 else "No")
    return {"sample_id": sample.sample_id, "prediction": prediction["prediction"],
            "checker": judge.name,
            "checker_p_like": None if p_like is None else round(p_like, 6), "stance": stance,
            "consistent": None if stance is None else stance == prediction["prediction"],
            "lexical_stance": None if lexical is None else ("Yes" if lexical else "No"),
            "mentions": mentions, "mentioned": len(mentions),
            "grounded": sum(m["kind"] in GROUNDED for m in mentions),
            "invented": sum(m["kind"] in INVENTED for m in mentions), **loop_fields(text),
            "words": len(text.split()), "tokens": count_tokens(text) if count_tokens else None}


def evaluate_explanations(ds, samples, predictions: list[dict], folder: Path, *,
                          checker: str = "smollm2", checker_mode: str = "auto",
                          teacher_jsonl: str | None = None, teacher_variant: str | None = None,
                          count_tokens=None, progress: bool = True) -> dict:
    """Judge every rationale in `predictions` (rows of predictions.jsonl, in the order of
    `samples`); writes folder/explanations.jsonl and returns the summary for metrics.json.
    A row judged before is kept when its checker and rationale are the same; its similarity
    when the reference is the same too."""
    from tqdm.auto import tqdm

    path, key = Path(folder) / EXPLANATIONS, f"{checker}#{checker_mode}"
    references, source = teacher_references(ds, samples, teacher_jsonl, teacher_variant)
    done = _read_rows(path)
    index, judge = TitleIndex(ds.items.values()), None
    todo = [(s, p) for s, p in zip(samples, predictions) if (p.get("rationale") or "").strip()]
    rows = []
    bar = tqdm(total=len(todo), desc="judge explanations", unit="rationale", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    with open(path, "a", encoding="utf-8") as log:
        for sample, pred in todo:
            digest = hashlib.sha1(pred["rationale"].encode()).hexdigest()[:12]
            row = done.get(sample.sample_id)
            if (not row or row.get("checker_key") != key or row.get("rationale_sha1") != digest
                    or not _same_input(row, pred["rationale"])):
                judge = judge or load_checker(checker, checker_mode)  # only when needed
                row = {**judge_one(ds, sample, pred, judge, index, count_tokens),
                       "checker_key": key, "rationale_sha1": digest,
                       "checker_input": CHECKER_INPUT}
                log.write(json.dumps(row, ensure_ascii=False) + "\n")
                log.flush()
            rows.append({**row, **loop_fields(compared_text(pred["rationale"])),
                         "loop_stopped": bool((pred.get("extra") or {}).get("stopped"))})
            bar.update(1)
    bar.close()
    summary = summarise(rows, judge.name if judge else rows[0]["checker"] if rows else checker)
    summary["teacher"] = teacher_similarity(rows, [p["rationale"] for _, p in todo],
                                            [s.sample_id for s, _ in todo], references, source)
    _rewrite(path, rows)
    return summary


def summarise(rows: list[dict], checker_name: str) -> dict:
    """The per-model numbers metrics.json reports under "explanations"."""
    judged = [r for r in rows if r["consistent"] is not None]
    lexical = [r for r in rows if r["lexical_stance"] is not None]
    mentions = sum(r["mentioned"] for r in rows)
    looped = [r for r in rows if "loops" in r]   # evaluate_explanations sets it on every row
    shares = [r["repeated_ngram_share"] for r in looped if r["repeated_ngram_share"] is not None]
    ratio = lambda a, b: round(a / b, 4) if b else None  # noqa: E731
    return {
        "n_rationales": len(rows), "checker": checker_name,
        "consistency": ratio(sum(r["consistent"] for r in judged), len(judged)),
        "checker_says_like": ratio(sum(r["stance"] == "Yes" for r in judged), len(judged)),
        "lexical_consistency": ratio(sum(r["lexical_stance"] == r["prediction"] for r in lexical),
                                     len(lexical)),
        "lexical_decided": len(lexical),
        "grounding": ratio(sum(r["grounded"] for r in rows), mentions),
        "mentions": mentions, "invented": sum(r["invented"] for r in rows),
        "rationales_with_invented": sum(r["invented"] > 0 for r in rows),
        "loop_ngram": LOOP_N, "loop_more_than": LOOP_MORE_THAN,
        "loops": ratio(sum(r["loops"] for r in looped), len(looped)),
        "loop_stopped": sum(bool(r.get("loop_stopped")) for r in rows),  # ended before a loop
        "repeated_ngram_share": (None if not shares else
                                 round(sum(shares) / len(shares), 4)),
        "words": stats([r["words"] for r in rows]),
        "tokens": stats([r["tokens"] for r in rows if r["tokens"] is not None]),
    }
