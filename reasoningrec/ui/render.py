"""HTML pieces of the Explain tab. Every user or model string goes through html.escape here;
nothing else in the app builds HTML. Styles are inline so the pieces look the same anywhere.

    history_table(ds, entries, cited={"48"}); probability_bar(0.62); explanation(text, spans)
    timing_line({"start": 2.1, "prediction": 2.4, "token": 2.5, "done": 4.0}, stats)
    teacher_panel(pool_text); authors_panel(pool_text); system_note(system)
"""
from __future__ import annotations

from html import escape

from ..data.schema import Dataset, HistoryEntry
from ..demo_pool import PoolText
from ..prompts.text import cap_text

GREEN, RED, MARK, GREY = "#15803d", "#b91c1c", "#fde68a", "#6b7280"


def message(text: str, kind: str = "info") -> str:
    colour = {"error": RED, "ok": GREEN, "info": "#1d4ed8", "wait": "#92400e"}[kind]
    return (f'<div class="rr-msg rr-{kind}" style="border-left:4px solid {colour};'
            f'padding:6px 10px;margin:2px 0;color:{colour}">{escape(text)}</div>')


def messages(items: list[tuple[str, str]]) -> str:
    return "".join(message(text, kind) for kind, text in items)


def item_title(ds: Dataset, item_id: str) -> str:
    item = ds.items.get(item_id)
    if item is None:
        return f"unknown item {item_id}"
    year = item.attributes.get("year")
    return cap_text(item.title, "title") + (f" ({year})" if year else "")


def item_details(ds: Dataset, item_id: str) -> str:
    """What tells items apart beyond the title: "id 18 · NIKE · $59.99" (brand and price where
    the catalogue has them; Amazon titles repeat across sizes and colours)."""
    item = ds.items.get(item_id)
    attrs = item.attributes if item is not None else {}
    parts = [f"id {item_id}"] + [cap_text(str(attrs[k]), "attribute")
                                 for k in ("brand", "price") if attrs.get(k)]
    return " · ".join(parts)


def history_table(ds: Dataset, entries, cited: set[str] = frozenset()) -> str:
    if not entries:
        return message("The history is empty: add items from the catalogue below.", "error")
    rows = []
    for n, e in enumerate(entries, 1):
        e = e if isinstance(e, HistoryEntry) else HistoryEntry(str(e[0]), bool(e[1]))
        badge = (f'<span style="color:{GREEN if e.liked else RED};font-weight:600">'
                 f'{"Liked" if e.liked else "Disliked"}</span>')
        hit = e.item_id in cited
        style = f"background:{MARK};" if hit else ""
        flag = ' <span class="rr-cited-flag" title="cited by the explanation">● cited</span>' if hit else ""
        rows.append(f'<tr class="{"rr-cited" if hit else ""}" style="{style}">'
                    f'<td style="padding:2px 6px;color:{GREY}">{n}</td>'
                    f'<td style="padding:2px 6px">{escape(item_title(ds, e.item_id))}{flag}'
                    f'<div class="rr-item-details" style="color:{GREY};font-size:0.85em">'
                    f'{escape(item_details(ds, e.item_id))}</div></td>'
                    f'<td style="padding:2px 6px">{badge}</td></tr>')
    return ('<div style="max-height:420px;overflow-y:auto"><table class="rr-history" '
            'style="width:100%;border-collapse:collapse;font-size:0.9em">'
            '<thead><tr><th>#</th><th style="text-align:left">item (oldest first)</th>'
            f'<th>rating</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def probability_bar(p_yes: float, timing: str = "") -> str:
    label = "Yes" if p_yes >= 0.5 else "No"
    colour = GREEN if p_yes >= 0.5 else RED
    return (f'<div class="rr-prediction"><div style="font-size:1.3em;font-weight:700;color:{colour}">'
            f'Prediction: {label}</div>'
            f'<div style="display:flex;align-items:center;gap:8px;margin:4px 0">'
            f'<span>P(Yes)</span><div style="flex:1;background:#e5e7eb;border-radius:4px;height:14px">'
            f'<div class="rr-bar" style="width:{100 * p_yes:.1f}%;background:{colour};height:14px;'
            f'border-radius:4px"></div></div><b class="rr-pyes">{p_yes:.3f}</b></div>'
            f'<div style="color:#6b7280;font-size:0.85em">{escape(timing)}</div></div>')


def timing_line(after_click: dict[str, float], stats: dict) -> str:
    """How long the visitor waited, every figure counted from the click on Run (`after_click`:
    seconds from the click to "start" (the model was free), "prediction", "token", "done"),
    then the stream's own figures (LiveExplainer stats: tokens, tokens_per_s, reused)."""
    parts = []
    if "prediction" in after_click:
        parts.append(f"P(Yes) {after_click['prediction']:.2f} s after your click")
    if "token" in after_click:
        parts.append(f"first token {after_click['token']:.2f} s after it")
    if after_click.get("start", 0) >= 0.05:
        parts.append(f"{after_click['start']:.2f} s of it waiting for the model")
    rate = f", {stats['tokens_per_s']:.0f} tokens/s" if stats.get("tokens_per_s") else ""
    if "done" in after_click:
        parts.append(f"{stats.get('tokens', 0)} tokens, done at {after_click['done']:.2f} s{rate}")
    if stats.get("prompt_tokens"):
        parts.append(f"{stats.get('reused', 0)}/{stats['prompt_tokens']} prompt tokens reused "
                     "from the cache")
    return " · ".join(parts)


def explanation(text: str, spans: list[tuple[int, int, str]] = (), done: bool = True,
                ended: str = "") -> str:
    """Escaped text with the cited titles marked; a cursor while still streaming; `ended`: why
    it ended early, in a muted line under it."""
    parts, at = [], 0
    for start, end, _ in spans:
        parts.append(escape(text[at:start]))
        parts.append(f'<mark style="background:{MARK}">{escape(text[start:end])}</mark>')
        at = end
    parts.append(escape(text[at:]))
    cursor = "" if done else '<span style="color:#9ca3af">▍</span>'
    body = "".join(parts) or ("" if not done else
                              '<span style="color:#9ca3af">(no explanation text)</span>')
    why = (f'<div class="rr-ended" style="color:#6b7280;font-size:0.85em;margin-top:4px">'
           f'{escape(ended)}</div>') if ended else ""
    return (f'<div class="rr-explanation" style="white-space:pre-wrap;line-height:1.5">'
            f'{body}{cursor}</div>{why}')


def _head(title: str, how: str) -> str:
    return (f'<div style="color:#6b7280;font-size:0.85em"><b>{escape(title)}</b>'
            + (f' · {escape(how)}' if how else "") + '</div>')


def teacher_panel(rationale: PoolText | None, note: str = "", text: str | None = None,
                  model: str = "", label: int | None = None, done: bool = True) -> str:
    """A stored rationale, a live one (text/model/label), or a note why there is none."""
    if rationale is not None:
        text, label = rationale.text, rationale.label
        head = _head(rationale.system.title, rationale.system.about)
        word = "true answer"
    else:
        head = _head(model, "live, not told the answer")
        word = "its answer"
    if text is None:
        return message(note or "No teacher rationale for this input.", "info")
    verdict = "" if label is None else (
        f'<div style="font-weight:700;color:{GREEN if label else RED}">Teacher: '
        f'{"Yes" if label else "No"} ({word})</div>')
    return f'<div class="rr-teacher">{head}{verdict}{explanation(text, done=done)}</div>'


def authors_panel(output: PoolText | None, note: str = "") -> str:
    """The paper's student's released explanation and P(Yes), or a note why there is none."""
    if output is None:
        return message(note or "No output of the paper's student for this input.", "info")
    scored = None if output.p_yes is None else int(output.p_yes >= 0.5)
    said = "" if output.label is None or output.label == scored else (
        f'<div style="font-weight:700;color:{GREEN if output.label else RED}">Its text argues '
        f'{"Yes" if output.label else "No"}, against its own P(Yes)</div>')
    bar = probability_bar(output.p_yes, "") if output.p_yes is not None else ""
    return (f'<div class="rr-authors">{_head(output.system.title, output.system.about)}'
            f'{bar}{said}{explanation(output.text)}</div>')


def agreement(student_label: int | None, teacher_label: int | None) -> str:
    if student_label is None or teacher_label is None:
        return ('<div class="rr-agree rr-agree-none" style="color:#6b7280">Agreement: '
                'needs both predictions</div>')
    same = student_label == teacher_label
    word = lambda x: "Yes" if x else "No"  # noqa: E731
    text = (f"✓ Student and teacher agree ({word(student_label)})" if same else
            f"✗ They disagree: student {word(student_label)}, teacher {word(teacher_label)}")
    return (f'<div class="rr-agree rr-agree-{"yes" if same else "no"}" style="font-weight:700;'
            f'color:{GREEN if same else RED}">{escape(text)}</div>')


def evidence_table(ds: Dataset, evidence: dict | None, history_edited: bool) -> str:
    """The collaborative evidence beside the explanation (training ratings only); a share
    from fewer than layout.MIN_RATERS raters says it is too few to mean much."""
    from ..scoring.evidence import evidence_rows
    from ..prompts.text import wording
    from .layout import MIN_RATERS
    if not evidence:
        return ('<div class="rr-evidence"><b>Evidence</b>: none stored for this candidate '
                '(only the demo pool\'s items have it).</div>')
    cell = 'style="padding:2px 6px"'
    rows = []
    for k, v, n in evidence_rows(evidence, wording(ds)):
        few = (f' <span class="rr-too-few" style="color:{RED};font-size:0.85em">(n = {n}: too '
               'few to mean much)</span>' if n is not None and n < MIN_RATERS else "")
        rows.append(f"<tr><td {cell}>{escape(k)}</td><td {cell}><b>{escape(v)}</b>{few}</td></tr>")
    note = ("Similar users and the MF estimate come from the recorded ratings: not recomputed "
            "for an edited history." if history_edited else
            "From training ratings only; this user's own rating of the item is left out.")
    return (f'<div class="rr-evidence"><b>Evidence</b> (other users\' ratings)'
            f'<table id="rr-evidence-table" style="font-size:0.9em">{"".join(rows)}</table>'
            f'<small style="color:{GREY}">{escape(note)}</small></div>')
