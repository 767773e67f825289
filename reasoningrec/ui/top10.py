"""Top 10 for this user, on the Explain tab: the student ranks pool candidates for what is on
the page (the pool user, or their edited profile and history) and lists the best ten; picking
one makes it the candidate and Run streams its explanation (run.py, the same path as Run).

    btn, top_status, top_list = top10_block()               # inside the tab's layout
    top = Top10Events(service, views)
    btn.click(top.rank, page, [top_status, top_list], **MODEL_QUEUE)    # progress while ranking
    top_list.input(top.pick, [top_list], [candidate], queue=False).then(... Run's chain ...)

The ranking is reasoningrec.scoring.pool_rank's (no model logic here). Errors become messages.
"""
from __future__ import annotations

import gradio as gr

from ..models.base import BackendError
from ..scoring.pool_rank import CANDIDATES, top_for_pool_user
from . import render
from .state import InputError

HIDDEN_LIST = {"choices": [], "value": None, "visible": False}
STALE = ("The page changed (another dataset or user) while the ranking waited for the model: "
         "press the button again.")


def choice_label(n: int, row, ds) -> str:
    """One line of the list: rank, title, P(Yes), and the held-out item marked."""
    line = f"{n}. {render.item_title(ds, row.item_id)} · P(Yes) {row.p_yes:.3f}"
    if row.held_out:
        answer = {1: ", liked by the user", 0: ", not liked by the user"}.get(row.label, "")
        line += f" · ★ the user's held-out test item{answer}"
    return line


def top10_block():
    """The section (inside the Explain tab's left column): (button, status, list)."""
    with gr.Column(elem_id="rr-top10"):
        gr.Markdown("**Top 10 for this user**: which items would our student recommend? It "
                    "ranks this user's pool candidates and other pool users' items, then "
                    "explains the one you pick.")
        button = gr.Button("Rank top 10 for this user", size="sm", elem_id="rr-top10-run")
        status = gr.HTML(elem_id="rr-top10-status")
        listing = gr.Radio([], label="Top 10", visible=False, elem_id="rr-top10-list")
    return button, status, listing


class Top10Events:
    def __init__(self, service, views):
        self.service, self.views = service, views

    def rank(self, dataset, user_id, draft, profile, candidate, progress=gr.Progress()):
        """(status HTML, list update): the top 10 of the user's pool candidates and others."""
        if self.views.stale(dataset, user_id, draft):
            return render.message(STALE, "info"), gr.update(**HIDDEN_LIST)
        try:
            req = self.views.request(draft, profile, candidate)
        except InputError as exc:
            return render.message(f"Cannot rank: {exc}", "error"), gr.update(**HIDDEN_LIST)
        student = self.service.student(dataset)
        progress((0, CANDIDATES), desc="Ranking candidates", unit="candidates")
        try:
            top = top_for_pool_user(
                student.explainer, self.service.pool, dataset, req.pool_user.user_id,
                ds=req.ds, sample=req.sample, progress=lambda done, total: progress(
                    (done, total), desc="Ranking candidates", unit="candidates"))
        except (BackendError, ValueError, KeyError) as exc:
            return (render.message(f"The model could not rank: {exc}", "error"),
                    gr.update(**HIDDEN_LIST))
        whose = ("your edited profile and history" if req.edited
                 else "the user's profile and history")
        note = (f"{student.title} ranked {top.candidates} candidates in {top.seconds:.1f} s: "
                f"this user's {top.own} pool candidates (★ marks their held-out test item) and "
                f"{top.candidates - top.own} other pool users' candidates, with {whose}. "
                "Pick one to see why.")
        choices = [(choice_label(n, r, req.ds), r.item_id) for n, r in enumerate(top.rows, 1)]
        return (render.message(note, "ok"),
                gr.update(choices=choices, value=None, visible=True,
                          label=f"Top {len(choices)} of {top.candidates}: pick one to explain it"))

    @staticmethod
    def pick(item_id):
        """The chosen item becomes the candidate (the next steps are the candidate's and Run's)."""
        return item_id if item_id else gr.skip()
