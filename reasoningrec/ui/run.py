"""Run on the Explain tab: note the click (outside the queue), then stream our student's answer
and explanation in the model queue, timing everything from the click; and the live teacher
that answers edited inputs when REASONINGREC_TEACHER is set.

    runs = RunEvents(service, ExplainViews(service))
    run_btn.click(runs.clicked, None, [click_at, status], queue=False).then(runs.run, ...)

An event that waited through a dataset or user switch only says so (views.stale): nothing of
another page state reaches a component. Errors become messages; nothing raises to Gradio.
"""
from __future__ import annotations

import time

import gradio as gr

from ..citations import cited_spans
from ..models.base import BackendError
from ..pool_text import end_text
from ..scoring.llm import STOPPED_LOOPING
from . import render
from .state import InputError

LOOP_STOPPED_NOTE = ("Ended here: the student began repeating itself (its answer and P(Yes) "
                     "are unchanged).")
STALE = ("The page changed (another dataset or user) while this Run waited for the model: "
         "press Run again.")


class RunEvents:
    def __init__(self, service, views):
        self.service, self.views = service, views

    @staticmethod
    def clicked():
        """Run's first step, outside the queue: the time the click arrived."""
        return time.perf_counter(), render.message("Waiting for the model…", "wait")

    def run(self, click_at, dataset, user_id, draft, profile, candidate):
        skip = gr.skip()
        click_at = click_at or time.perf_counter()
        if self.views.stale(dataset, user_id, draft):
            yield render.message(STALE, "info"), skip, skip, skip, skip, skip, skip, skip
            return
        try:
            req = self.views.request(draft, profile, candidate)
        except InputError as exc:
            yield render.message(str(exc), "error"), skip, skip, skip, skip, skip, None, skip
            return
        student = self.service.student(req.sample.dataset)
        notes = [("info", n) for n in req.notes]
        items = [req.ds.items[h.item_id] for h in req.sample.history]
        history_view = lambda cited=frozenset(): render.history_table(  # noqa: E731
            req.ds, req.sample.history, cited)
        teacher_label = req.teacher.label if req.teacher else None
        marks = {"start": time.perf_counter()}
        yield render.messages(notes + [("wait", "Running our student…")]), "", \
            render.explanation("", done=False), history_view(), self.views.teacher(req), \
            render.agreement(None, None), None, self.views.authors(req)
        text, pred, stats = "", None, {}
        try:
            for kind, value in student.explainer.stream(req.ds, req.sample,
                                                        evidence=req.evidence):
                if kind == "prediction":
                    pred, marks["prediction"] = value, time.perf_counter()
                    after = marks["prediction"] - click_at
                    bar = render.probability_bar(pred.p_yes, f"P(Yes) {after:.2f} s after your "
                                                 "click · writing the explanation…")
                    yield skip, bar, skip, skip, skip, render.agreement(pred.label, teacher_label), \
                        pred.label, skip
                elif kind == "token":
                    marks.setdefault("token", time.perf_counter())
                    text += value
                    spans = cited_spans(text, items)
                    yield skip, skip, render.explanation(text, spans, done=False), \
                        history_view({s[2] for s in spans}), skip, skip, skip, skip
                elif kind == "done":
                    stats, marks["done"] = value, time.perf_counter()
        except (BackendError, ValueError) as exc:
            yield render.messages(notes + [("error", f"The model could not answer: {exc}")]), \
                skip, skip, skip, skip, skip, skip, skip
            return
        text = end_text(text)
        spans = cited_spans(text, items)
        ended = LOOP_STOPPED_NOTE if stats.get("stopped") == STOPPED_LOOPING else ""
        done = render.messages(notes + [("ok", f"Done · {student.title}")])
        timing = render.timing_line({k: v - click_at for k, v in marks.items()}, stats)
        yield done, render.probability_bar(pred.p_yes, timing), \
            render.explanation(text, spans, ended=ended), \
            history_view({s[2] for s in spans}), skip, skip, skip, skip

    def live_teacher(self, draft, profile, candidate, student_label):
        teacher = self.service.teacher()
        try:
            req = self.views.request(draft, profile, candidate)
        except InputError:
            req = None
        if teacher is None or req is None or not req.edited:
            yield gr.skip(), gr.skip()
            return
        text, answer = "", None
        try:
            for kind, value in teacher.stream(req.ds, req.sample):
                if kind == "prediction":
                    answer = value.label
                elif kind == "token":
                    text += value
                    yield render.teacher_panel(None, text=text, model=self.service.teacher_spec,
                                               label=answer, done=False), gr.skip()
        except Exception as exc:  # a remote server can fail in many ways; say so, stay up
            yield render.message(f"The live teacher failed: {exc}", "error"), gr.skip()
            return
        yield (render.teacher_panel(None, text=end_text(text), model=self.service.teacher_spec,
                                    label=answer), render.agreement(student_label, answer))
