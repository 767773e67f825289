"""What the Explain tab shows for the pool and a request, as choices and HTML (no events here):

    v = ExplainViews(service)
    v.user_choices("ml1m"); v.candidate_choices("ml1m", "1"); v.history_choices("ml1m", history)
    v.teacher(req); v.authors(req); v.student_header("fashion")
    v.request(draft, profile, candidate)   # state.Request for what is on the page (built once)
    v.stale(dataset, user_id, draft)    # True when an event was sent for another page state

Choice values are plain ids; the dropdowns accept any value (allow_custom_value) so that a
value sent before a dataset switch never meets Gradio's own "not in the list of choices"
check: `stale` and state.build_request decide instead, with messages a visitor can read.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from . import render
from .service import AppService
from .state import build_request

KEEP_REQUESTS = 64  # page states whose requests are kept (a few per visitor)


def label(name: str) -> str:
    from ..demo_pool import LABELS
    return LABELS.get(name, name)


class ExplainViews:
    def __init__(self, service: AppService):
        self.service, self.pool = service, service.pool
        self._requests: OrderedDict[tuple, object] = OrderedDict()  # page state -> Request
        self._lock = threading.Lock()

    def user_choices(self, dataset):
        out = []
        for u in self.pool.users[dataset]:
            about = u.user.demographics or (u.user.profile or "")[:70]
            out.append((f"user {u.user_id} · {about}"[:90], u.user_id))
        return out

    def catalogue(self, dataset):
        ds = self.pool.datasets[dataset]
        return [(f"{render.item_title(ds, i.id)} [{i.id}]", i.id) for i in self.pool.catalogue(dataset)]

    def candidate_choices(self, dataset, user_id):
        ds, pu = self.pool.datasets[dataset], self.pool.user(dataset, user_id)
        starred = [(f"★ {render.item_title(ds, c.item_id)} [{c.item_id}]"
                    + (" · test target, stored rationales" if c.texts else ""), c.item_id)
                   for c in pu.candidates]
        ids = {c.item_id for c in pu.candidates}
        return starred + [c for c in self.catalogue(dataset) if c[1] not in ids]

    def history_choices(self, dataset, history):
        ds = self.pool.datasets[dataset]
        return [(f"{n}. {render.item_title(ds, i)} [{i}]", str(n - 1))
                for n, (i, _) in enumerate(history, 1)]

    def request(self, draft, profile, candidate):
        """The checked request for what is on the page (state.build_request), built once per
        page state: the events of one pick or edit (panels, evidence, warm, Run) share it."""
        history = draft["history"]
        key = (draft["dataset"], draft["user_id"], profile, candidate,
               None if history is None else tuple((str(i), bool(liked)) for i, liked in history))
        with self._lock:
            if key in self._requests:
                self._requests.move_to_end(key)
                return self._requests[key]
        req = build_request(self.pool, draft["dataset"], draft["user_id"], profile, history,
                            candidate)
        with self._lock:
            self._requests[key] = req
            while len(self._requests) > KEEP_REQUESTS:
                self._requests.popitem(last=False)
        return req

    @staticmethod
    def stale(dataset, user_id, draft) -> bool:
        """Whether an event's page values (dataset, user, sent with the click) no longer match
        the page's state (the draft, read when the event runs): a dataset or user switch
        happened while it waited for the model."""
        return (not draft or dataset != draft.get("dataset")
                or (user_id or None) != (draft.get("user_id") or None))

    def missing_note(self, req, who: str) -> str:
        """Why a stored text is not shown, in plain words for visitors."""
        if req.edited:
            return (f"You edited the profile or history: {who} was written for the user's real "
                    "data, so it is not shown for this input."
                    + (" A live teacher answers after our student." if who == "Mixtral's "
                       "rationale" and self.service.teacher_spec else ""))
        return (f"{who[0].upper() + who[1:]} exists only for each user's test target (the first "
                "★ candidate), not for this candidate.")

    def teacher(self, req):
        if req.teacher is not None:
            return render.teacher_panel(req.teacher)
        return render.teacher_panel(None, self.missing_note(req, "Mixtral's rationale"))

    def authors(self, req):
        if "authors" not in self.pool.systems.get(req.sample.dataset, {}):
            return render.authors_panel(None, "The paper's authors did not release their "
                                        "student's outputs for this dataset: nothing to show.")
        stored = None if req.edited else self.pool.text(req.sample.dataset, req.pool_user.user_id,
                                                         req.sample.target, "authors")
        return render.authors_panel(stored, self.missing_note(req, "the paper's student's output"))

    def student_header(self, dataset):
        info = self.service.student(dataset).info
        line = f"Runs live here: {info.title}"
        if info.teacher:
            line += f"  \nTaught by: {info.teacher}"
        return line + (f"  \n⚠️ {info.note}" if info.note else "")
