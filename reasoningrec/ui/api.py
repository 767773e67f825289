"""Named API endpoints, for gradio_client and any HTTP client:

    from gradio_client import Client
    c = Client("http://localhost:7860")
    c.predict("ml1m", "1", api_name="/predict")                 # {"prediction": "Yes", "p_yes": ...}
    job = c.submit("ml1m", "1", "", None, "", 64, api_name="/explain")
    for update in job: ...                                      # growing "explanation"; last one "done"
    c.predict("ml1m", "1", "", api_name="/rank")                # the user's candidates, best first
    c.predict("fashion", "0", "7", "Likes sandals.", '[["3", true]]', api_name="/predict")

Arguments: dataset, user_id ("" = the first pool user), candidate ("" = the user's test
target), profile (None = the pool user's), history (JSON list of [item_id, liked]; "" = the pool
user's), and for /explain max_tokens (a whole number, 1 to 512, or None/"" for the student's own
cap, student.json "decode", else 160; its final explanation ends at
a full sentence, or with "…" where the cap cut it: pool_text.end_text). Bad input raises
gr.Error with a message saying what to fix. The three run in the model's queue (one at a time)
and are also the app's MCP tools (ui/mcp.py), described to an assistant by their docstrings.
The ratings endpoints
/rate_item and /vote are described at rating_endpoints below.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import gradio as gr

from ..citations import cited_items
from ..models.base import BackendError
from ..pool_text import end_text
from .guard import refusal
from .service import AppService
from .state import InputError, build_request, parse_history

MAX_API_TOKENS = 512
MAX_RANK = 20


def token_cap(value) -> int | None:
    """/explain's max_tokens as a whole number in 1..MAX_API_TOKENS (None for None or "": the
    student's own cap), else a gr.Error saying so."""
    if value is None or str(value).strip() == "":
        return None
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
                "backend": service.backend,
                "teacher": None if req.teacher is None else {
                    "model": req.teacher.system.title, "label": req.teacher.label,
                    "rationale": req.teacher.text},
                "paper_student": None if authors is None else {
                    "model": authors.system.title, "run": authors.system.version,
                    "p_yes": authors.p_yes, "explanation": authors.text},
                "evidence": req.evidence, "notes": req.notes}

    def predict(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "") -> dict:
        """Would this user like this item? The student's answer (Yes/No) and P(Yes), without
        the explanation (fast). For a demo-pool user as is, the result also carries the paper's
        teacher rationale (Mixtral-8x7B, told the true answer) and, on Fashion, the paper's 7B
        student's stored output.
        """
        req = request(dataset, user_id, candidate, profile or None, history)
        try:
            pred = service.student(req.sample.dataset).explainer.predict(
                req.ds, req.sample, evidence=req.evidence)
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None
        return {**describe(req, pred), "seconds": round(pred.seconds, 3),
                "prompt_tokens": pred.prompt_tokens}

    def explain(dataset: str = "ml1m", user_id: str = "", candidate: str = "",
                profile: str | None = None, history: str = "",
                max_tokens: int | None = None) -> Iterator[dict]:
        """Would this user like this item, and why? The student's answer, P(Yes) and its
        explanation in words, streamed; the last update has "done": true, the history items the
        explanation cites and timings ("stats"; its "stopped" is "repeating" when the student
        began repeating itself and the explanation was ended there).
        """
        req = request(dataset, user_id, candidate, profile or None, history)
        max_tokens = token_cap(max_tokens)
        out, text = None, ""
        try:
            explainer = service.student(req.sample.dataset).explainer
            for kind, value in explainer.stream(req.ds, req.sample, max_tokens=max_tokens,
                                                evidence=req.evidence):
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

    def rank(dataset: str = "ml1m", user_id: str = "", candidates: str = "",
             profile: str | None = None, history: str = "") -> dict:
        """Which of these items would this user like most? The candidates ordered by the
        student's P(Yes), best first (the user's prompt is read once for all of them).

        """
        req = request(dataset, user_id, "", profile or None, history)
        ids = parse_candidates(candidates) or [c.item_id for c in req.pool_user.candidates]
        if len(ids) > MAX_RANK:
            raise gr.Error(f"{len(ids)} candidates; at most {MAX_RANK}", print_exception=False)
        unknown = [i for i in ids if i not in req.ds.items]
        if unknown:
            raise gr.Error(f"Unknown candidate item {unknown[0][:40]!r}: it is not in the "
                           f"{req.sample.dataset} demo catalogue.", print_exception=False)
        try:
            ranked, stats = service.student(req.sample.dataset).explainer.rank(req.ds, req.sample, ids)
        except (BackendError, ValueError) as exc:
            raise gr.Error(f"The model could not answer: {exc}") from None
        return {"dataset": req.sample.dataset, "user_id": req.pool_user.user_id,
                "model": service.student(req.sample.dataset).title, "edited": req.edited,
                "ranked": [{"item_id": i, "title": req.ds.items[i].title, "p_yes": round(p, 6)}
                           for i, p in ranked], "seconds": round(stats["seconds"], 3)}

    tool_doc(predict, 'prediction ("Yes"/"No"), p_yes, candidate, model, teacher, '
                      "paper_student, evidence, notes.")
    tool_doc(explain, "prediction, p_yes, explanation, cited (history item ids named), done, "
                      "stats.", max_tokens="the explanation's length cap in tokens (1-512; "
                                           "empty: the student's own).")
    tool_doc(rank, "ranked: [{item_id, title, p_yes}, ...] best first; model; seconds.",
             candidates='item ids, comma-separated or a JSON list (at most 20); "" = the pool '
                        "user's own candidates (their real test item first).")
    gr.api(predict, api_name="predict", concurrency_id="model", concurrency_limit=1)
    gr.api(explain, api_name="explain", concurrency_id="model", concurrency_limit=1)
    gr.api(rank, api_name="rank", concurrency_id="model", concurrency_limit=1)


ARG_HELP = {
    "dataset": '"ml1m" (MovieLens-1M movies) or "fashion" (Amazon Fashion products).',
    "user_id": 'a demo-pool user id of that dataset; "" = the first pool user.',
    "candidate": 'the item id to ask about; "" = the user\'s real test item.',
    "profile": "a new user profile paragraph; empty = the pool user's own.",
    "history": 'the user\'s rated items as JSON [[item_id, liked], ...]; "" = the pool user\'s own.',
}


def tool_doc(fn, returns: str, **extra: str) -> None:
    """Append Args/Returns to an endpoint's docstring, one text per argument for all three:
    Gradio reads them into the API page and the MCP tools' descriptions."""
    import inspect
    lines = [f"            {name}: {extra.get(name) or ARG_HELP[name]}"
             for name in inspect.signature(fn).parameters]
    fn.__doc__ = (fn.__doc__.rstrip() + "\n\n        Args:\n" + "\n".join(lines)
                  + f"\n        Returns:\n            {returns}\n        ")


def parse_candidates(value: str) -> list[str]:
    """Item ids from "1, 48" or '["1", "48"]'; "" gives []."""
    value = (value or "").strip()
    if value.startswith("["):
        try:
            ids = json.loads(value)
        except json.JSONDecodeError as exc:
            raise gr.Error(f"candidates is not valid JSON ({exc.msg})", print_exception=False) from None
        if not isinstance(ids, list):
            raise gr.Error("candidates must be a list of item ids", print_exception=False)
    else:
        ids = value.split(",")
    return [str(i).strip() for i in ids if str(i).strip()]


def rating_endpoints(desk) -> None:
    """/rate_item and /vote (ratings/desk.py), outside the model queue (queue=False) so many
    raters can vote at once; both also answer a plain POST to /gradio_api/run/<name>:

        item = c.predict("my-rater-id-123", "", api_name="/rate_item")   # rater id, sample id
        c.predict(json.dumps({"ticket": item["ticket"], "rater": "my-rater-id-123",
                  "choice": "A", "scores": {"A": {...}, "B": {...}}}), api_name="/vote")

    Both only read the texts the pool builder stored: no model runs for a rating. The server
    decides when an item is an attention check, and neither the answer nor the sealed ticket
    says which it is. A bad, oversized, duplicate, too-quick or rate-limited vote is refused
    with a message saying why and a 4xx status (ui/guard.py).
    """
    from ..ratings.payload import PayloadError, parse_vote
    from ..ratings.raters import client_ip, rater_for
    from ..ratings.store import VoteRejected
    salt = desk.settings.resolved_salt()

    def who(rater_id, request):
        return rater_for(None, rater_id, client_ip(request, desk.settings.proxy_hops), salt)

    def rate_item(rater: str, sample_id: str = "", request: gr.Request = None) -> dict:
        """An item to rate: texts A and B with their predictions (authors hidden), min_read_s
        and the ticket to vote with. sample_id "" = the server's choice for this rater."""
        try:
            shown = desk.issue(who(rater, request), sample_id if isinstance(sample_id, str) else "")
        except (PayloadError, VoteRejected) as exc:
            raise refusal(exc) from None
        return {k: v for k, v in shown.items() if k != "mode"}

    def vote(payload: str, request: gr.Request = None) -> dict:
        """Cast one vote: a JSON object with ticket, rater, choice and scores (1-5 per side for
        plausibility, faithfulness, helpfulness). Returns the vote id and the revealed names."""
        try:
            ballot = parse_vote(payload)
            return desk.cast(ballot, who(ballot.rater, request), "api")
        except (PayloadError, VoteRejected) as exc:
            raise refusal(exc) from None

    gr.api(rate_item, api_name="rate_item", queue=False)
    gr.api(vote, api_name="vote", queue=False)
