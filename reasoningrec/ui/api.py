"""Named API endpoints, for gradio_client and any HTTP client:

    from gradio_client import Client
    c = Client("http://localhost:7860")
    c.predict("ml1m", "1", api_name="/predict")                 # {"prediction": "Yes", "p_yes": ...}
    job = c.submit("ml1m", "1", "", None, "", 64, api_name="/explain")
    for update in job: ...                                      # growing "explanation"; last one "done"
    c.predict("fashion", "0", "7", "Likes sandals.", '[["3", true]]', api_name="/predict")

Arguments: dataset, user_id ("" = the first pool user), candidate ("" = the user's test
target), profile (None = the pool user's), history (JSON list of [item_id, liked]; "" = the pool
user's), and for /explain max_tokens (a whole number, 1 to 512; its final explanation ends at
a full sentence, or with "…" where the cap cut it: pool_text.end_text). Bad input raises
gr.Error with a message saying what to fix. Both endpoints run in the model's queue (one at a time). The ratings endpoints
/rate_item and /vote are described at rating_endpoints below.
"""
from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from ..explain import cited_items
from ..models.base import BackendError
from ..pool_text import end_text
from .service import AppService
from .state import InputError, build_request, parse_history

MAX_API_TOKENS = 512


def token_cap(value) -> int:
    """/explain's max_tokens as a whole number in 1..MAX_API_TOKENS, else a gr.Error saying so."""
    try:
        number = float(str(value).strip())
    except ValueError:
        number = None
    if number is None or not number.is_integer() or not 1 <= number <= MAX_API_TOKENS:
        raise gr.Error(f"max_tokens must be a whole number from 1 to {MAX_API_TOKENS}, got "
                       f"{str(value)[:40]!r}", print_exception=False)
    return int(number)


def api_endpoints(service: AppService) -> None:
    def request(dataset, user_id, candidate, profile, history):
        try:
            return build_request(service.pool, dataset, user_id, profile, parse_history(history),
                                 candidate)
        except InputError as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def describe(req, pred) -> dict:
        authors = None if req.edited else service.pool.text(
            req.sample.dataset, req.pool_user.user_id, req.sample.target, "authors")
        return {"sample_id": req.sample.sample_id, "candidate": req.sample.target,
                "prediction": "Yes" if pred.label else "No", "p_yes": round(pred.p_yes, 6),
                "edited": req.edited, "model": service.student(req.sample.dataset).title,
                "teacher": None if req.teacher is None else {
                    "model": req.teacher.system.title, "label": req.teacher.label,
                    "rationale": req.teacher.text},
                "paper_student": None if authors is None else {
                    "model": authors.system.title, "run": authors.system.version,
                    "p_yes": authors.p_yes, "explanation": authors.text},
                "evidence": req.evidence, "notes": req.notes}

    def predict(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "") -> dict:
        """P(Yes) and the predicted answer for a pool user or an edited input."""
        req = request(dataset, user_id, candidate, profile, history)
        try:
            pred = service.student(req.sample.dataset).explainer.predict(req.ds, req.sample)
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None
        return {**describe(req, pred), "seconds": round(pred.seconds, 3),
                "prompt_tokens": pred.prompt_tokens}

    def explain(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "", max_tokens: int = 160) -> Iterator[dict]:
        """Streams {"prediction", "p_yes", "explanation" so far, ...}; the last has "done": true,
        the cited history item ids and timings."""
        req = request(dataset, user_id, candidate, profile, history)
        max_tokens = token_cap(max_tokens)
        out, text = None, ""
        try:
            explainer = service.student(req.sample.dataset).explainer
            for kind, value in explainer.stream(req.ds, req.sample, max_tokens=int(max_tokens)):
                if kind == "prediction":
                    out = {**describe(req, value), "explanation": "", "done": False}
                    yield out
                elif kind == "token":
                    text += value
                    yield {**out, "explanation": text}
                elif kind == "done":
                    items = [req.ds.items[h.item_id] for h in req.sample.history]
                    text = end_text(text)
                    yield {**out, "explanation": text, "done": True,
                           "cited": cited_items(text, items), "stats": value}
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None

    gr.api(predict, api_name="predict", concurrency_id="model", concurrency_limit=1)
    gr.api(explain, api_name="explain", concurrency_id="model", concurrency_limit=1)


def rating_endpoints(desk) -> None:
    """/rate_item and /vote (ratings/desk.py), outside the model queue (queue=False) so many
    raters can vote at once; both also answer a plain POST to /gradio_api/run/<name>:

        item = c.predict("my-rater-id-123", "", "", api_name="/rate_item")   # rater, sample, mode
        c.predict(json.dumps({"ticket": item["ticket"], "rater": "my-rater-id-123",
                  "choice": "A", "scores": {"A": {...}, "B": {...}}}), api_name="/vote")

    Both only read the texts the pool builder stored: no model runs for a rating. A bad,
    oversized, duplicate or too-quick vote raises gr.Error saying why.
    """
    from ..ratings.payload import PayloadError, parse_vote
    from ..ratings.raters import client_ip, rater_for
    from ..ratings.store import VoteRejected
    salt = desk.settings.resolved_salt()

    def rate_item(rater: str, sample_id: str = "", mode: str = "",
                  request: gr.Request = None) -> dict:
        """An item to rate: texts A and B with their predictions (authors hidden), min_read_s
        and the ticket to vote with. sample_id/mode "" = the server's choice for this rater."""
        try:
            return desk.issue(rater_for(None, rater, client_ip(request), salt), sample_id or "",
                              mode or "")
        except (PayloadError, VoteRejected) as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    def vote(payload: str, request: gr.Request = None) -> dict:
        """Cast one vote: a JSON object with ticket, rater, choice and scores (1-5 per side for
        plausibility, faithfulness, helpfulness). Returns the vote id and the revealed names."""
        try:
            ballot = parse_vote(payload)
            return desk.cast(ballot, rater_for(None, ballot.rater, client_ip(request), salt), "api")
        except (PayloadError, VoteRejected) as exc:
            raise gr.Error(str(exc), print_exception=False) from None

    gr.api(rate_item, api_name="rate_item", queue=False)
    gr.api(vote, api_name="vote", queue=False)
