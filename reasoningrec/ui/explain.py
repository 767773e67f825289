"""The Explain tab: pick a pool user (or edit one), run our student live, read its streamed
explanation next to the stored texts of the paper's teacher (Mixtral-8x7B-Instruct, told the
true answer) and of the paper's Llama-2-7B student (where the authors released its output).
Built inside a gr.Blocks by `explain_tab(demo, service)`.

Events: picking a user fills the inputs and, in the model queue, warms that user's prompt
(LiveExplainer.warm), so Run streams at once. History edits are instant (no queue). Run and
warm share one concurrency group ("model", one at a time: one shared llama.cpp model); the
live teacher has its own ("teacher"). Errors become messages; nothing here raises to Gradio.
"""
from __future__ import annotations

import gradio as gr

from ..explain import cited_spans
from ..models.base import BackendError
from . import render
from .service import AppService
from .state import InputError, build_request, original_profile

MODEL_QUEUE = {"concurrency_id": "model", "concurrency_limit": 1}


def _label(name: str) -> str:
    from ..demo_pool import LABELS
    return LABELS.get(name, name)


def explain_tab(demo: gr.Blocks, service: AppService) -> None:
    pool = service.pool
    first = next(iter(pool.users))

    def user_choices(dataset):
        out = []
        for u in pool.users[dataset]:
            about = u.user.demographics or (u.user.profile or "")[:70]
            out.append((f"user {u.user_id} · {about}"[:90], u.user_id))
        return out

    def catalogue(dataset):
        return [(f"{render.item_title(pool.datasets[dataset], i.id)} [{i.id}]", i.id)
                for i in pool.catalogue(dataset)]

    def candidate_choices(dataset, user_id):
        ds, pu = pool.datasets[dataset], pool.user(dataset, user_id)
        starred = [(f"★ {render.item_title(ds, c.item_id)} [{c.item_id}]"
                    + (" · test target, stored rationales" if c.texts else ""), c.item_id)
                   for c in pu.candidates]
        ids = {c.item_id for c in pu.candidates}
        return starred + [c for c in catalogue(dataset) if c[1] not in ids]

    def history_choices(dataset, history):
        ds = pool.datasets[dataset]
        return [(f"{n}. {render.item_title(ds, i)}", str(n - 1)) for n, (i, _) in enumerate(history, 1)]

    def missing_note(req, who: str) -> str:
        """Why a stored text is not shown, in plain words for visitors."""
        if req.edited:
            return (f"You edited the profile or history: {who} was written for the user's real "
                    "data, so it is not shown for this input."
                    + (" A live teacher answers after our student." if who == "Mixtral's "
                       "rationale" and service.teacher_spec else ""))
        return (f"{who[0].upper() + who[1:]} exists only for each user's test target (the first "
                "★ candidate), not for this candidate.")

    def teacher_view(req):
        if req.teacher is not None:
            return render.teacher_panel(req.teacher)
        return render.teacher_panel(None, missing_note(req, "Mixtral's rationale"))

    def authors_view(req):
        if "authors" not in pool.systems.get(req.sample.dataset, {}):
            return render.authors_panel(None, "The paper's authors did not release their "
                                        "student's outputs for this dataset: nothing to show.")
        stored = None if req.edited else pool.text(req.sample.dataset, req.pool_user.user_id,
                                                    req.sample.target, "authors")
        return render.authors_panel(stored, missing_note(req, "the paper's student's output"))

    def student_header(dataset):
        info = service.student(dataset).info
        line = f"Runs live here: {info.title}"
        if info.teacher:
            line += f"  \nTaught by: {info.teacher}"
        return line + (f"  \n⚠️ {info.note}" if info.note else "")

    # -- handlers ---------------------------------------------------------------------------
    def load_user(dataset, user_id):
        dataset = dataset if dataset in pool.users else first
        ids = [u.user_id for u in pool.users[dataset]]
        user_id = user_id if user_id in ids else ids[0]
        pu = pool.user(dataset, user_id)
        history = [[h.item_id, h.liked] for h in pu.sample.history]
        draft = {"dataset": dataset, "user_id": user_id, "history": history}
        req = build_request(pool, dataset, user_id, None, None, pu.sample.target)
        return (gr.update(choices=user_choices(dataset), value=user_id), draft, original_profile(pu),
                render.history_table(pool.datasets[dataset], history),
                gr.update(choices=history_choices(dataset, history), value=None),
                gr.update(choices=catalogue(dataset), value=None),
                gr.update(choices=candidate_choices(dataset, user_id), value=pu.sample.target),
                "", "", teacher_view(req), render.agreement(None, None), None, "",
                authors_view(req), student_header(dataset))

    def switch_dataset(dataset):
        return load_user(dataset, None)

    def edit_history(draft, action, index=None, item_id=None, liked=True):
        history = [list(h) for h in draft["history"]]
        dataset, note = draft["dataset"], ""
        if action in ("toggle", "remove"):
            if index in (None, "") or not 0 <= int(index) < len(history):
                note = render.message("Pick a history item first.", "error")
            elif action == "toggle":
                history[int(index)][1] = not history[int(index)][1]
            else:
                history.pop(int(index))
        elif action == "add":
            if not item_id:
                note = render.message("Pick an item from the catalogue first.", "error")
            elif item_id not in pool.datasets[dataset].items:
                note = render.message(f"Unknown item {str(item_id)[:40]!r}.", "error")
            elif any(h[0] == item_id for h in history):
                note = render.message("That item is already in the history.", "error")
            else:
                history.append([item_id, liked == "Liked"])
        draft = {**draft, "history": history}
        return (draft, render.history_table(pool.datasets[dataset], history),
                gr.update(choices=history_choices(dataset, history), value=None), note)

    def candidate_changed(draft, profile, candidate):
        try:
            req = build_request(pool, draft["dataset"], draft["user_id"], profile,
                                draft["history"], candidate)
        except InputError:
            return gr.skip(), gr.skip(), gr.skip()
        return teacher_view(req), authors_view(req), render.agreement(None, None)

    def warm(draft, profile, candidate):
        try:
            req = build_request(pool, draft["dataset"], draft["user_id"], profile,
                                draft["history"], candidate)
            info = service.student(req.sample.dataset).explainer.warm(req.ds, req.sample)
        except (InputError, BackendError, ValueError):
            return gr.skip()  # Run reports the problem
        if info["prompt_tokens"] is None:
            return ""
        return render.message(f"Prompt ready ({info['prompt_tokens']} tokens, evaluated in "
                              f"{info['seconds']:.1f} s): Run streams at once.", "ok")

    def run(draft, profile, candidate):
        skip = gr.skip()
        try:
            req = build_request(pool, draft["dataset"], draft["user_id"], profile,
                                draft["history"], candidate)
        except InputError as exc:
            yield render.message(str(exc), "error"), skip, skip, skip, skip, skip, None, skip
            return
        student = service.student(req.sample.dataset)
        notes = [("info", n) for n in req.notes]
        history_items = [req.ds.items[h.item_id] for h in req.sample.history]
        history_view = lambda cited=frozenset(): render.history_table(req.ds, req.sample.history, cited)  # noqa: E731
        teacher_label = req.teacher.label if req.teacher else None
        status = render.messages(notes + [("wait", "Running our student…")])
        yield status, "", render.explanation("", done=False), history_view(), teacher_view(req), \
            render.agreement(None, None), None, authors_view(req)
        text, pred, bar = "", None, ""
        try:
            for kind, value in student.explainer.stream(req.ds, req.sample):
                if kind == "prediction":
                    pred = value
                    bar = render.probability_bar(pred.p_yes, f"P(Yes) in {pred.seconds:.2f} s")
                    yield skip, bar, skip, skip, skip, render.agreement(pred.label, teacher_label), \
                        pred.label, skip
                elif kind == "token":
                    text += value
                    spans = cited_spans(text, history_items)
                    yield skip, skip, render.explanation(text, spans, done=False), \
                        history_view({s[2] for s in spans}), skip, skip, skip, skip
                elif kind == "done":
                    rate = f", {value['tokens_per_s']:.0f} tokens/s" if value.get("tokens_per_s") else ""
                    timing = (f"P(Yes) in {value.get('prediction_s', 0):.2f} s · first token "
                              f"{value.get('ttft_s', value['seconds']):.2f} s · {value['tokens']} "
                              f"tokens in {value['seconds']:.2f} s{rate} · "
                              f"{value.get('reused', 0)}/{value.get('prompt_tokens', '?')} prompt "
                              "tokens reused from the cache")
                    bar = render.probability_bar(pred.p_yes, timing)
        except (BackendError, ValueError) as exc:
            yield render.messages(notes + [("error", f"The model could not answer: {exc}")]), \
                skip, skip, skip, skip, skip, skip, skip
            return
        spans = cited_spans(text, history_items)
        done = render.messages(notes + [("ok", f"Done · {student.title}")])
        yield done, bar, render.explanation(text.strip(), cited_spans(text.strip(), history_items)), \
            history_view({s[2] for s in spans}), skip, skip, skip, skip

    def evidence_view(draft, profile, candidate):
        """The evidence panel for what is on the page (follows every edit, like the teacher)."""
        if not draft:
            return gr.skip()
        try:
            req = build_request(pool, draft["dataset"], draft["user_id"], profile,
                                draft["history"], candidate)
        except InputError:
            return ""
        return render.evidence_table(req.ds, req.evidence, req.history_edited)

    def live_teacher(draft, profile, candidate, student_label):
        teacher = service.teacher()
        try:
            req = build_request(pool, draft["dataset"], draft["user_id"], profile,
                                draft["history"], candidate)
        except InputError:
            req = None
        if teacher is None or req is None or not req.edited:
            yield gr.skip(), gr.skip()
            return
        text, label = "", None
        try:
            for kind, value in teacher.stream(req.ds, req.sample):
                if kind == "prediction":
                    label = value.label
                elif kind == "token":
                    text += value
                    yield render.teacher_panel(None, text=text, model=service.teacher_spec,
                                               label=label, done=False), gr.skip()
        except Exception as exc:  # a remote server can fail in many ways; say so, stay up
            yield render.message(f"The live teacher failed: {exc}", "error"), gr.skip()
            return
        yield (render.teacher_panel(None, text=text.strip(), model=service.teacher_spec, label=label),
               render.agreement(student_label, label))

    # -- layout -----------------------------------------------------------------------------
    with gr.Tab("Explain", id="explain"):
        with gr.Row():
            dataset = gr.Radio([(_label(n), n) for n in pool.users], value=first, label="Dataset")
            user = gr.Dropdown(user_choices(first), label="Pool user", elem_id="rr-user")
            reset = gr.Button("Reset to pool user", size="sm")
        draft = gr.State()
        student_label = gr.State()
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                profile = gr.Textbox(label="User profile (editable)", lines=3, max_lines=8,
                                     elem_id="rr-profile")
                candidate = gr.Dropdown(label="Candidate item (★ = pool candidates; type to search)",
                                        filterable=True, elem_id="rr-candidate")
                run_btn = gr.Button("Run", variant="primary", elem_id="rr-run")
                status = gr.HTML(elem_id="rr-status")
                gr.Markdown("**History** (highlighted: cited by the explanation)")
                history_box = gr.HTML(label="History", elem_id="rr-history")
                with gr.Row(equal_height=True):
                    pick = gr.Dropdown(label="History item", scale=3, elem_id="rr-pick")
                    with gr.Column(scale=2, min_width=120):
                        toggle = gr.Button("Liked ⇄ Disliked", size="sm", elem_id="rr-toggle")
                        remove = gr.Button("Remove", size="sm", elem_id="rr-remove")
                with gr.Row(equal_height=True):
                    add_item = gr.Dropdown(label="Add from the catalogue (type to search)",
                                           filterable=True, scale=3, elem_id="rr-add-item")
                    with gr.Column(scale=2, min_width=120):
                        add_liked = gr.Radio(["Liked", "Disliked"], value="Liked", show_label=False)
                        add = gr.Button("Add to history", size="sm", elem_id="rr-add")
            with gr.Column(scale=4):
                gr.Markdown("### Our student")
                student_head = gr.Markdown(student_header(first), elem_id="rr-student-head")
                gr.Markdown(f"<small>{render.P_YES_LINE}</small>", elem_id="rr-pyes-help")
                student_box = gr.HTML(elem_id="rr-student")
                explanation_box = gr.HTML(elem_id="rr-explanation")
                evidence_box = gr.HTML(elem_id="rr-evidence")
            with gr.Column(scale=4):
                gr.Markdown("### The paper's teacher")
                agree_box = gr.HTML(elem_id="rr-agree")
                teacher_box = gr.HTML(elem_id="rr-teacher")
                gr.Markdown("### The paper's student")
                authors_box = gr.HTML(elem_id="rr-authors")

    loaded = [user, draft, profile, history_box, pick, add_item, candidate, student_box,
              explanation_box, teacher_box, agree_box, student_label, status, authors_box,
              student_head]
    hidden = {"api_visibility": "undocumented"}
    warm_args = dict(fn=warm, inputs=[draft, profile, candidate], outputs=[status],
                     show_progress="minimal", **MODEL_QUEUE, **hidden)
    evidence_args = dict(fn=evidence_view, inputs=[draft, profile, candidate],
                         outputs=[evidence_box], queue=False, **hidden)
    dataset.input(switch_dataset, [dataset], loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
    user.input(load_user, [dataset, user], loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
    reset.click(load_user, [dataset, user], loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
    history_out = [draft, history_box, pick, status]
    toggle.click(lambda d, i: edit_history(d, "toggle", i), [draft, pick], history_out,
                 queue=False, **hidden).then(**evidence_args)
    remove.click(lambda d, i: edit_history(d, "remove", i), [draft, pick], history_out,
                 queue=False, **hidden).then(**evidence_args)
    add.click(lambda d, i, lk: edit_history(d, "add", item_id=i, liked=lk),
              [draft, add_item, add_liked], history_out, queue=False, **hidden) \
        .then(**evidence_args)
    candidate.input(candidate_changed, [draft, profile, candidate],
                    [teacher_box, authors_box, agree_box], queue=False,
                    **hidden).then(**warm_args)
    run_btn.click(run, [draft, profile, candidate],
                  [status, student_box, explanation_box, history_box, teacher_box, agree_box,
                   student_label, authors_box], **MODEL_QUEUE, **hidden) \
        .then(live_teacher, [draft, profile, candidate, student_label], [teacher_box, agree_box],
              concurrency_id="teacher", concurrency_limit=1, **hidden)
    candidate.input(**evidence_args)
    # the page's first load shows the first pool user and warms its prompt
    demo.load(lambda: load_user(first, None), None, loaded, queue=False, **hidden) \
        .then(**evidence_args).then(**warm_args)
