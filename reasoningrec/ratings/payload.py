"""A rating as sent by the page or the API, checked before anything is stored.

    from reasoningrec.ratings.payload import parse_vote, PayloadError
    ballot = parse_vote('{"ticket": "...", "rater": "r-123", "choice": "A", "scores": '
                        '{"A": {"plausibility": 4, "faithfulness": 3, "helpfulness": 4}, '
                        '"B": {"plausibility": 2, "faithfulness": 2, "helpfulness": 1}}}')

A payload is one JSON object (a string of at most MAX_PAYLOAD_BYTES, or a dict): `ticket` (what
the server issued with the item), `rater` (the anonymous rater id; ignored when signed in),
`choice` (A, B, tie, both_bad) and `scores` (1-5 per side and criterion). Anything else is
refused with a message that names the field and what was expected.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .schema import CHOICES, CRITERIA

MAX_PAYLOAD_BYTES = 8192
RATER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
FIELDS = {"ticket", "rater", "choice", "scores"}


class PayloadError(ValueError):
    """A malformed, oversized or incomplete rating; the message says what to fix. `status`:
    the HTTP status the API answers with (ui/guard.py)."""
    status = 400


@dataclass(frozen=True)
class Ballot:
    ticket: str
    rater: str
    choice: str
    scores: dict[str, dict[str, int]]   # {"A": {criterion: 1..5}, "B": {...}}


def check_rater_id(value) -> str:
    if not isinstance(value, str) or not RATER_ID.match(value):
        raise PayloadError("rater must be 8-64 characters of letters, digits, '-' or '_' "
                           f"(an anonymous id the client keeps), got {str(value)[:80]!r}")
    return value


def parse_scores(value) -> dict[str, dict[str, int]]:
    if not isinstance(value, dict) or set(value) != {"A", "B"}:
        raise PayloadError('scores must be {"A": {...}, "B": {...}}: one entry per side')
    out = {}
    for side in ("A", "B"):
        block = value[side]
        if not isinstance(block, dict) or set(block) != set(CRITERIA):
            got = sorted(block) if isinstance(block, dict) else type(block).__name__
            raise PayloadError(f"scores.{side} must give exactly {', '.join(CRITERIA)}; got {got}"[:300])
        out[side] = {}
        for criterion in CRITERIA:
            score = block[criterion]
            if isinstance(score, str) and score.strip().isdigit():
                score = int(score.strip())
            if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
                raise PayloadError(f"scores.{side}.{criterion} must be an integer from 1 to 5, "
                                   f"got {json.dumps(score, default=str)[:40]}")
            out[side][criterion] = score
    return out


def parse_vote(payload) -> Ballot:
    """A Ballot from a JSON string or dict; PayloadError with a clear message otherwise."""
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8", errors="replace")
    if isinstance(payload, str):
        size = len(payload.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise PayloadError(f"The rating payload is {size:,} bytes; the limit is "
                               f"{MAX_PAYLOAD_BYTES:,}. Send only ticket, rater, choice and scores.")
        try:
            payload = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise PayloadError(f"The rating payload is not valid JSON ({exc.msg} at line "
                               f"{exc.lineno}, column {exc.colno}).") from None
    elif isinstance(payload, dict):
        size = len(json.dumps(payload, default=str).encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            raise PayloadError(f"The rating payload is {size:,} bytes; the limit is "
                               f"{MAX_PAYLOAD_BYTES:,}.")
    if not isinstance(payload, dict):
        raise PayloadError("The rating payload must be a JSON object with ticket, rater, choice "
                           f"and scores; got {type(payload).__name__}.")
    unknown, missing = set(payload) - FIELDS, {"ticket", "choice", "scores"} - set(payload)
    if unknown:
        raise PayloadError(f"Unknown field(s) in the rating payload: {', '.join(sorted(unknown))[:200]}"
                           f" (allowed: {', '.join(sorted(FIELDS))}).")
    if missing:
        raise PayloadError(f"The rating payload lacks {', '.join(sorted(missing))}.")
    if not isinstance(payload["ticket"], str) or not payload["ticket"]:
        raise PayloadError("ticket must be the string /rate_item returned with the item.")
    if payload["choice"] not in CHOICES:
        raise PayloadError(f"choice must be one of {', '.join(CHOICES)}; "
                           f"got {str(payload['choice'])[:40]!r}.")
    rater = payload.get("rater", "")
    return Ballot(payload["ticket"], rater if rater == "" else check_rater_id(rater),
                  payload["choice"], parse_scores(payload["scores"]))
