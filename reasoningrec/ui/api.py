"""Named API endpoints, for gradio_client and any HTTP client:

    from gradio_client import Client
    c = Client("http://localhost:7860")
    c.predict("ml1m", "1", api_name="/predict")                 # {"prediction": "Yes", "p_yes": ...}
    job = c.submit("ml1m", "1", "", None, "", 64, api_name="/explain")
    for update in job: ...                                      # growing "explanation"; last one "done"
    c.predict("fashion", "0", "7", "Likes sandals.", '[["3", true]]', api_name="/predict")

Arguments: dataset, user_id ("" = the first pool user), candidate ("" = the user's test
target), profile (None = the pool user's), history (JSON list of [item_id, liked]; "" = the pool
user's), and for /explain max_tokens. Bad input raises gr.Error with a message saying what to
fix. Both endpoints run in the model's queue (one at a time).
"""
from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from ..explain import cited_items
from ..models.base import BackendError
from .service import AppService
from .state import InputError, build_request, parse_history

MAX_API_TOKENS = 512


def api_endpoints(service: AppService) -> None:
    def request(dataset, user_id, candidate, profile, history):
        try:
            return build_request(service.pool, dataset, user_id, profile, parse_history(history),
                                 candidate)
        except InputError as exc:
            raise gr.Error(str(exc)) from None

    def describe(req, pred) -> dict:
        return {"sample_id": req.sample.sample_id, "candidate": req.sample.target,
                "prediction": "Yes" if pred.label else "No", "p_yes": round(pred.p_yes, 6),
                "edited": req.edited, "model": service.student_name,
                "teacher": None if req.teacher is None else {
                    "model": req.teacher.model, "label": req.teacher.label,
                    "rationale": req.teacher.text},
                "notes": req.notes}

    def predict(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "") -> dict:
        """P(Yes) and the predicted answer for a pool user or an edited input."""
        req = request(dataset, user_id, candidate, profile, history)
        try:
            pred = service.explainer.predict(req.ds, req.sample)
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None
        return {**describe(req, pred), "seconds": round(pred.seconds, 3),
                "prompt_tokens": pred.prompt_tokens}

    def explain(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "", max_tokens: int = 160) -> Iterator[dict]:
        """Streams {"prediction", "p_yes", "explanation" so far, ...}; the last has "done": true,
        the cited history item ids and timings."""
        req = request(dataset, user_id, candidate, profile, history)
        if not 1 <= int(max_tokens) <= MAX_API_TOKENS:
            raise gr.Error(f"max_tokens must be between 1 and {MAX_API_TOKENS}, got {max_tokens}")
        out, text = None, ""
        try:
            for kind, value in service.explainer.stream(req.ds, req.sample, max_tokens=int(max_tokens)):
                if kind == "prediction":
                    out = {**describe(req, value), "explanation": "", "done": False}
                    yield out
                elif kind == "token":
                    text += value
                    yield {**out, "explanation": text}
                elif kind == "done":
                    items = [req.ds.items[h.item_id] for h in req.sample.history]
                    yield {**out, "explanation": text.strip(), "done": True,
                           "cited": cited_items(text, items), "stats": value}
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None

    gr.api(predict, api_name="predict", concurrency_id="model", concurrency_limit=1)
    gr.api(explain, api_name="explain", concurrency_id="model", concurrency_limit=1)
