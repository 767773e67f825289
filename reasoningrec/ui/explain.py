"""The Explain tab: pick a pool user (or edit one), run our student live, read its streamed
explanation next to the stored texts of the paper's teacher (Mixtral-8x7B-Instruct, told the
true answer) and of the paper's Llama-2-7B student (where the authors released its output).
Built inside a gr.Blocks by `explain_tab(demo, service)`; the pieces it shows are views.py's,
Run and the live teacher are run.py's, "Top 10 for this user" top10.py's.

Events: picking a user fills the inputs and, in the model queue, warms that user's prompt
(LiveExplainer.warm), so Run streams at once; a profile or history edit warms the edited
prompt again. Run first notes the click time (no queue), then waits in the model queue: the
status line alone shows the queue position, and the timing line counts from the click. Run
and warm share one concurrency group ("model", one at a time: one shared llama.cpp model);
the live teacher, when one is set, has its own. An event that waited through a dataset or
user switch does nothing (views.stale). "Rank top 10" ranks pool candidates in the model queue
(with progress); picking one of the ten sets the candidate and goes on as Run does. Errors
become messages; nothing raises to Gradio.
"""
from __future__ import annotations

import gradio as gr

from ..models.base import BackendError
from . import render
from .layout import LEGEND
from .run import RunEvents
from .service import AppService
from .state import InputError, original_profile
from .top10 import HIDDEN_LIST, Top10Events, top10_block
from .views import ExplainViews, label

MODEL_QUEUE = {"concurrency_id": "model", "concurrency_limit": 1}


def explain_tab(demo: gr.Blocks, service: AppService) -> None:
    pool, views = service.pool, ExplainViews(service)
    first = next(iter(pool.users))
    any_value = {"allow_custom_value": True, "filterable": True}   # see views.py
    request, runs = views.request, RunEvents(service, views)   # one Request per page state
    tops = Top10Events(service, views)

    # -- handlers ---------------------------------------------------------------------------
    def load_user(dataset, user_id):
        dataset = dataset if dataset in pool.users else first
        ids = [u.user_id for u in pool.users[dataset]]
        user_id = user_id if user_id in ids else ids[0]
        pu = pool.user(dataset, user_id)
        history = [[h.item_id, h.liked] for h in pu.sample.history]
        draft = {"dataset": dataset, "user_id": user_id, "history": history}
        req = request(draft, original_profile(pu), pu.sample.target)  # what the page will send
        return (gr.update(choices=views.user_choices(dataset), value=user_id), draft,
                original_profile(pu), render.history_table(pool.datasets[dataset], history),
                gr.update(choices=views.history_choices(dataset, history), value=None),
                gr.update(choices=views.catalogue(dataset), value=None),
                gr.update(choices=views.candidate_choices(dataset, user_id), value=pu.sample.target),
                "", "", views.teacher(req), render.agreement(None, None), None, "",
                views.authors(req), views.student_header(dataset),
                "", gr.update(**HIDDEN_LIST))   # the Top 10 of another user is gone

    def edit_history(draft, action, index=None, item_id=None, liked=True):
        history = [list(h) for h in draft["history"]]
        dataset, note = draft["dataset"], ""
        if action in ("toggle", "remove"):
            if not str(index or "").isdigit() or not 0 <= int(index) < len(history):
                note = render.message("Pick a history item from the list first.", "error")
            elif action == "toggle":
                history[int(index)][1] = not history[int(index)][1]
            else:
                history.pop(int(index))
        elif action == "add":
            if not item_id:
                note = render.message("Pick an item from the catalogue first.", "error")
            elif item_id not in pool.datasets[dataset].items:
                note = render.message(f"Unknown item {str(item_id)[:40]!r}: pick one from the "
                                      "catalogue list.", "error")
            elif any(h[0] == item_id for h in history):
                note = render.message("That item is already in the history.", "error")
            else:
                history.append([item_id, liked == "Liked"])
        draft = {**draft, "history": history}
        return (draft, render.history_table(pool.datasets[dataset], history),
                gr.update(choices=views.history_choices(dataset, history), value=None), note)


    def candidate_changed(dataset, user_id, draft, profile, candidate):
        try:
            if views.stale(dataset, user_id, draft):
                raise InputError("stale")
            req = request(draft, profile, candidate)
        except InputError:
            return gr.skip(), gr.skip(), gr.skip()
        return views.teacher(req), views.authors(req), render.agreement(None, None)

    def warm(dataset, user_id, draft, profile, candidate):
        if views.stale(dataset, user_id, draft):
            return gr.skip()   # sent for a page that is gone
        try:
            req = request(draft, profile, candidate)
            info = service.student(req.sample.dataset).explainer.warm(req.ds, req.sample,
                                                                      evidence=req.evidence)
        except (InputError, BackendError, ValueError):
            return gr.skip()   # Run reports the problem
        if info["prompt_tokens"] is None:
            return ""
        return render.message(f"Prompt ready ({info['prompt_tokens']} tokens, evaluated in "
                              f"{info['seconds']:.1f} s): Run streams at once.", "ok")

    def evidence_view(draft, profile, candidate):
        """The evidence panel for what is on the page (follows every edit, like the teacher)."""
        if not draft:
            return gr.skip()
        try:
            req = request(draft, profile, candidate)
        except InputError:
            return ""
        return render.evidence_table(req.ds, req.evidence, req.history_edited)

    # -- layout -----------------------------------------------------------------------------
    with gr.Tab("Explain", id="explain"):
        with gr.Row():
            dataset = gr.Radio([(label(n), n) for n in pool.users], value=first, label="Dataset",
                               elem_id="rr-dataset")
            user = gr.Dropdown(views.user_choices(first), label="Pool user", elem_id="rr-user",
                               **any_value)
            reset = gr.Button("Reset to pool user", size="sm")
        draft, student_label, click_at = gr.State(), gr.State(), gr.State()
        with gr.Row(equal_height=False, elem_id="rr-main"):
            with gr.Column(scale=5, elem_id="rr-left"):
                with gr.Column(elem_id="rr-inputs"):
                    profile = gr.Textbox(label="User profile (editable)", lines=3, max_lines=8,
                                         elem_id="rr-profile")
                    candidate = gr.Dropdown(label="Candidate item (★ = pool candidates; type to "
                                            "search)", elem_id="rr-candidate", **any_value)
                    run_btn = gr.Button("Run", variant="primary", elem_id="rr-run")
                    status = gr.HTML(elem_id="rr-status")
                top_btn, top_status, top_list = top10_block()
                with gr.Column(elem_id="rr-editor"):
                    gr.Markdown("**History** (highlighted: cited by the explanation)")
                    history_box = gr.HTML(label="History", elem_id="rr-history")
                    with gr.Row(equal_height=True):
                        pick = gr.Dropdown(label="History item", scale=3, elem_id="rr-pick",
                                           **any_value)
                        with gr.Column(scale=2, min_width=120):
                            toggle = gr.Button("Liked ⇄ Disliked", size="sm", elem_id="rr-toggle")
                            remove = gr.Button("Remove", size="sm", elem_id="rr-remove")
                    with gr.Row(equal_height=True):
                        add_item = gr.Dropdown(label="Add from the catalogue (type to search)",
                                               scale=3, elem_id="rr-add-item", **any_value)
                        with gr.Column(scale=2, min_width=120):
                            add_liked = gr.Radio(["Liked", "Disliked"], value="Liked",
                                                 show_label=False)
                            add = gr.Button("Add to history", size="sm", elem_id="rr-add")
            with gr.Column(scale=4, elem_id="rr-student-col"):
                gr.Markdown("### Our student")
                student_head = gr.Markdown(views.student_header(first), elem_id="rr-student-head")
                student_box = gr.HTML(elem_id="rr-student")
                explanation_box = gr.HTML(elem_id="rr-explanation")
                evidence_box = gr.HTML(elem_id="rr-evidence")
                gr.Markdown(LEGEND, elem_id="rr-legend")
            with gr.Column(scale=4, elem_id="rr-papers-col"):
                gr.Markdown("### The paper's teacher")
                agree_box = gr.HTML(elem_id="rr-agree")
                teacher_box = gr.HTML(elem_id="rr-teacher")
                gr.Markdown("### The paper's student")
                authors_box = gr.HTML(elem_id="rr-authors")

    loaded = [user, draft, profile, history_box, pick, add_item, candidate, student_box,
              explanation_box, teacher_box, agree_box, student_label, status, authors_box,
              student_head, top_status, top_list]
    hidden = {"api_visibility": "undocumented"}
    page = [dataset, user, draft, profile, candidate]
    warm_args = dict(fn=warm, inputs=page, outputs=[status], show_progress="minimal",
                     **MODEL_QUEUE, **hidden)
    evidence_args = dict(fn=evidence_view, inputs=[draft, profile, candidate],
                         outputs=[evidence_box], queue=False, **hidden)
    dataset.input(lambda d: load_user(d, None), [dataset], loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
    for trigger in (user.input, reset.click):
        trigger(load_user, [dataset, user], loaded, queue=False, **hidden) \
            .then(**evidence_args).then(**warm_args)
    history_out = [draft, history_box, pick, status]
    for trigger, edit in ((toggle.click, lambda d, i, _, __: edit_history(d, "toggle", i)),
                          (remove.click, lambda d, i, _, __: edit_history(d, "remove", i)),
                          (add.click, lambda d, _, i, lk: edit_history(d, "add", item_id=i, liked=lk))):
        trigger(edit, [draft, pick, add_item, add_liked], history_out, queue=False, **hidden) \
            .then(**evidence_args).then(**warm_args)   # the edited prompt is read ahead of Run
    profile.blur(**warm_args)
    candidate.input(candidate_changed, page, [teacher_box, authors_box, agree_box], queue=False,
                    **hidden).then(**evidence_args).then(**warm_args)

    def then_run(trigger):
        """Run's steps on `trigger` (a listener): note the click, then stream in the model queue."""
        return trigger(runs.clicked, None, [click_at, status], queue=False, **hidden).then(
            runs.run, [click_at, *page], [status, student_box, explanation_box, history_box,
                                          teacher_box, agree_box, student_label, authors_box],
            show_progress="full", show_progress_on=[status], **MODEL_QUEUE, **hidden)

    ran = then_run(run_btn.click)
    # api_name: the public /rank stays api.py's
    top_btn.click(tops.rank, page, [top_status, top_list], show_progress="full",
                  show_progress_on=[top_status], api_name="top10", **MODEL_QUEUE, **hidden)
    # a pick of the ten becomes the candidate (its stored texts and evidence follow), then Run
    picked = top_list.input(tops.pick, [top_list], [candidate], queue=False, **hidden).then(
        candidate_changed, page, [teacher_box, authors_box, agree_box], queue=False, **hidden) \
        .then(**evidence_args)
    ran_top = then_run(picked.then)
    if service.teacher_spec:   # no live teacher, no event: the panel never greys out
        for after in (ran, ran_top):
            after.then(runs.live_teacher, [draft, profile, candidate, student_label],
                       [teacher_box, agree_box], show_progress="minimal",
                       show_progress_on=[teacher_box], concurrency_id="teacher",
                       concurrency_limit=1, **hidden)
    # the page's first load shows the first pool user and warms its prompt
    demo.load(lambda: load_user(first, None), None, loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
