"""The Rate tab: two explanations of one prediction, from two of three systems (Mixtral, the
paper's teacher; the paper's Llama-2-7B student, Fashion only; our student), sides random and
names hidden. The rater scores each 1-5 on three criteria and picks A / B / tie / both bad;
the names are revealed after the vote. Built inside gr.Blocks by `rate_tab(demo, desk)`.

Vote buttons unlock only when both texts are on screen and the minimum reading time (scaled
to their length, REASONINGREC_RATINGS_MIN_READ_S / _READ_CPS) has passed, and lock again after
one vote; the server checks the same time and the one-vote rule itself (ratings/desk.py,
store.py). Raters are a Hugging Face login on a Space with OAuth, else an anonymous id kept in
the browser (gr.BrowserState). Every text was stored by the pool builder ahead of time: no
model runs for a rating, so an item shows at once.
"""
from __future__ import annotations

import hashlib
import time
from html import escape

import gradio as gr

from ..ratings.desk import RatingDesk
from ..ratings.payload import PayloadError, parse_vote
from ..ratings.raters import client_ip, new_browser_id, oauth_available, rater_for
from ..ratings.schema import CHOICES, CRITERIA
from ..ratings.store import VoteRejected
from . import render

ROLE_NAMES = {"teacher": "the paper's teacher", "authors": "the paper's 7B student",
              "student": "our student", "check": "an attention check"}
CHOICE_LABELS = {"A": "A is better", "B": "B is better", "tie": "Tie", "both_bad": "Both bad"}
HELP = ("### Rate explanations\nTwo systems said whether this user will like the candidate "
        "and explained why. Read both explanations (their authors are hidden and the sides are "
        "random), score each from 1 (poor) to 5 (excellent), then pick the better one. "
        "**Plausibility**: does the reasoning sound right? **Faithfulness**: does it support its "
        "own prediction with facts from the profile and history? **Helpfulness**: would it help "
        "the user decide? The vote buttons unlock after a short reading time.")


def side_html(side: str, shown: dict) -> str:
    word = shown["prediction"]
    colour = render.GREEN if word == "Yes" else render.RED
    return (f'<div class="rr-side rr-side-{side.lower()}"><div style="font-weight:700;color:{colour}">'
            f'Prediction: {escape(word)}</div>{render.explanation(shown["text"])}</div>')


def context_html(desk: RatingDesk, shown: dict) -> str:
    item = desk.items[shown["sample_id"]]
    ds = desk.pool.datasets[item.dataset]
    user = ds.users.get(item.user_id)
    about = " · ".join(x for x in (user.demographics, user.profile or "") if x) if user else ""
    title = render.item_title(ds, item.sample.target)
    return (f'<div class="rr-rate-context"><b>Candidate:</b> {escape(title)}'
            f'<br><b>User:</b> {escape(about[:1500]) or "(no profile)"}</div>'
            + render.history_table(ds, item.sample.history))


def reveal_html(result: dict) -> str:
    parts = []
    for side in ("A", "B"):
        r = result["reveal"][side]
        parts.append(f'<div><b>{side}</b> was {escape(ROLE_NAMES.get(r["role"], r["role"]))}: '
                     f'{escape(r.get("title") or r["system"])} '
                     f'<span style="color:#6b7280">({escape(r["version"])})</span></div>')
    if result["attention_failed"] is not None:
        parts.append(render.message("This item was an attention check: one text contradicts its "
                                    "own prediction." + (" Your vote did not catch it." if
                                    result["attention_failed"] else " You caught it, thank you."),
                                    "error" if result["attention_failed"] else "ok"))
    return f'<div class="rr-reveal">{"".join(parts)}</div>'


def rater_state(desk: RatingDesk | None) -> gr.BrowserState | None:
    """The anonymous rater id in the browser's localStorage, encrypted with a key derived from
    the ratings salt (stable across restarts). Created at the page's top level, outside the
    tabs: Gradio mounts a tab's components only when the tab is first shown, and a
    BrowserState that is not mounted yet reads as empty, so inside the Rate tab every reload
    made a new id."""
    if desk is None:
        return None
    secret = hashlib.sha256(f"{desk.settings.resolved_salt()}:browser-state".encode()).hexdigest()[:32]
    return gr.BrowserState(None, storage_key="reasoningrec-rater", secret=secret)


def rate_tab(demo: gr.Blocks, desk: RatingDesk | None, browser_id: gr.BrowserState | None) -> None:
    with gr.Tab("Rate", id="rate"):
        if desk is None:
            gr.Markdown("### Rate explanations\nRatings are switched off in this app.")
            return
        _rate_tab(demo, desk, browser_id)


def _rate_tab(demo: gr.Blocks, desk: RatingDesk, browser_id: gr.BrowserState) -> None:
    salt = desk.settings.resolved_salt()
    skip = gr.skip()

    def rater(browser_id, profile, request):
        return rater_for(profile, browser_id or None,
                         client_ip(request, desk.settings.proxy_hops), salt)

    def init(browser_id, profile: gr.OAuthProfile | None):
        if not browser_id or not isinstance(browser_id, str) or len(browser_id) < 8:
            browser_id = new_browser_id()
        who = (f"Rating as **{profile.username}** (Hugging Face)" if profile else
               f"Rating anonymously as `{browser_id[:8]}…` (kept in this browser)")
        return browser_id, who

    locked = [gr.update(interactive=False)] * 4
    unlocked = [gr.update(interactive=True)] * 4
    open_scores = [gr.update(value=None, interactive=True)] * 6

    def showing(shown):
        """Outputs for a freshly shown item: texts, cleared scores, locked buttons, timer on."""
        shown = {**shown, "shown_at": time.time(), "voted": False}
        wait = (f"Read both explanations: voting opens in {shown['min_read_s']:.0f} s."
                if shown["min_read_s"] else "Score both explanations, then vote.")
        return [shown, render.message(wait, "info"), context_html(desk, shown),
                side_html("A", shown["A"]), side_html("B", shown["B"]), *open_scores, *locked, "",
                gr.Timer(active=True)]

    def start(browser_id, profile: gr.OAuthProfile | None, request: gr.Request):
        blank = [None, "", "", "", "", *[gr.update(value=None, interactive=False)] * 6, *locked, "",
                 gr.Timer(active=False)]
        try:
            return showing(desk.issue(rater(browser_id, profile, request)))
        except (PayloadError, VoteRejected) as exc:
            return [None, render.message(str(exc), "error"), *blank[2:]]

    def tick(shown):
        if not shown or "shown_at" not in shown or shown.get("voted"):
            return [*[skip] * 4, gr.Timer(active=False), skip]
        if time.time() - shown["shown_at"] < shown["min_read_s"]:
            return [*[skip] * 4, skip, skip]
        return [*unlocked, gr.Timer(active=False),
                render.message("Voting is open: score both sides, then pick one.", "ok")]

    def vote(choice, shown, browser_id, *scores, profile: gr.OAuthProfile | None = None,
             request: gr.Request = None):
        if not shown or "ticket" not in shown:
            return [skip, render.message("Press Next item first.", "error"), skip, *[skip] * 10]
        missing = [f"{side} {c}" for n, (side, c) in enumerate((s, c) for s in "AB" for c in CRITERIA)
                   if scores[n] in (None, "")]
        if missing:
            return [skip, render.message("Score both explanations on all three criteria first "
                                         f"(missing: {', '.join(missing)}).", "error"), skip, *[skip] * 10]
        values = iter(int(v) for v in scores)
        table = {side: {c: next(values) for c in CRITERIA} for side in "AB"}
        try:
            result = desk.cast(parse_vote({"ticket": shown["ticket"], "choice": choice,
                                           "scores": table}), rater(browser_id, profile, request))
        except (PayloadError, VoteRejected) as exc:
            return [skip, render.message(str(exc), "error"), skip, *[skip] * 10]
        done = {**shown, "voted": True}
        return [done, render.message(f"Vote saved ({CHOICE_LABELS[choice]}). Press Next item for "
                                     "another.", "ok"), reveal_html(result), *locked,
                *[gr.update(interactive=False)] * 6]

    # -- layout -------------------------------------------------------------------------------
    gr.Markdown(HELP)
    shown = gr.State()
    timer = gr.Timer(0.5, active=False)
    with gr.Row(equal_height=True):
        if oauth_available():
            gr.LoginButton(size="sm")
        who = gr.Markdown(elem_id="rr-rater")
        next_btn = gr.Button("Next item", variant="primary", elem_id="rr-rate-next")
    status = gr.HTML(elem_id="rr-rate-status")
    context = gr.HTML(elem_id="rr-rate-context")
    texts, radios = {}, []
    with gr.Row(equal_height=False):
        for side in "AB":
            with gr.Column():
                gr.Markdown(f"### Explanation {side}")
                texts[side] = gr.HTML(elem_id=f"rr-rate-text-{side.lower()}")
                for c in CRITERIA:
                    radios.append(gr.Radio([1, 2, 3, 4, 5], label=f"{c.capitalize()} ({side})",
                                           interactive=False, elem_id=f"rr-score-{side.lower()}-{c}"))
    with gr.Row():
        buttons = [gr.Button(CHOICE_LABELS[c], interactive=False, elem_id=f"rr-vote-{c}")
                   for c in CHOICES]
    reveal = gr.HTML(elem_id="rr-rate-reveal")

    hidden = {"api_visibility": "undocumented"}
    item_out = [shown, status, context, texts["A"], texts["B"], *radios, *buttons, reveal, timer]
    demo.load(init, [browser_id], [browser_id, who], queue=False, **hidden)
    next_btn.click(start, [browser_id], item_out, queue=False, **hidden)
    timer.tick(tick, [shown], [*buttons, timer, status], queue=False, show_progress="hidden",
               **hidden)
    vote_out = [shown, status, reveal, *buttons, *radios]
    for choice, button in zip(CHOICES, buttons):
        button.click(vote_handler(vote, choice), [shown, browser_id, *radios], vote_out,
                     queue=False, **hidden)


def vote_handler(vote, choice: str):
    """One button's handler; explicit parameters so Gradio can inject the login and request."""
    def handler(shown, browser_id, pa, fa, ha, pb, fb, hb, profile: gr.OAuthProfile | None,
                request: gr.Request):
        return vote(choice, shown, browser_id, pa, fa, ha, pb, fb, hb, profile=profile,
                    request=request)
    return handler
