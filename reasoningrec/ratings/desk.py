"""The rating desk: picks an item for a rater, shows teacher and student blind (sides random),
and turns a ballot into a stored vote. Shared by the Rate tab and the /rate_item + /vote API.

    desk = RatingDesk.from_service(service)              # app: pool, student, store from env
    shown = desk.issue(rater)                            # {"ticket", "A": {...}, "B": {...}, ...}
    result = desk.cast(parse_vote(payload), rater)       # {"vote_id", "reveal": {...}, ...}

The student's explanation comes from the app's LiveExplainer and is cached in the store per
(sample, student model version), so each sample is generated once. Every few items a rater
gets an attention check (the teacher against a text that contradicts its own prediction).
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import asdict, dataclass

from .. import __version__
from ..demo_pool import DemoPool
from .config import RatingsSettings
from .items import (CHECK_SYSTEM, CHECK_VERSION, RatingItem, TicketSigner, attention_explanation,
                    model_version, rating_items, teacher_version)
from .payload import Ballot, PayloadError
from .raters import Rater
from .store import RatingsStore, VoteRejected

TICKET_TTL_S = 6 * 3600
RATERS_PER_ITEM = 3      # fill items up to this many votes before opening new ones


class NotReady(LookupError):
    """The student's explanation for this item is not generated yet."""


@dataclass(frozen=True)
class Side:
    role: str            # teacher | student | check
    system: str
    version: str
    prediction: str      # Yes | No
    p_yes: float | None
    text: str


class RatingDesk:
    def __init__(self, store: RatingsStore, pool: DemoPool, settings: RatingsSettings,
                 student_name: str, student_version: str, explainer=None, seed: int | None = None):
        self.store, self.pool, self.settings = store, pool, settings
        self.student_name, self.student_version = student_name, student_version
        self.explainer = explainer
        self.items = rating_items(pool)
        self.signer = TicketSigner(settings.resolved_salt())
        self._rng = random.Random(seed)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    @classmethod
    def from_service(cls, service, settings: RatingsSettings | None = None,
                     store: RatingsStore | None = None) -> "RatingDesk":
        settings = settings or RatingsSettings.from_env()
        store = store or RatingsStore.open(settings.data_dir)
        version = model_version(service.student_spec, service.max_new_tokens,
                                repr(getattr(service.explainer, "options", "")))
        return cls(store, service.pool, settings, service.student_name, version, service.explainer)

    # -- choosing and showing ------------------------------------------------------------------
    def choose(self, rater_id: str, sample_id: str = "", mode: str = "") -> tuple[RatingItem, str]:
        if mode not in ("", "blind", "attention"):
            raise PayloadError(f"mode must be blind or attention, got {mode[:30]!r}")
        if sample_id:
            if sample_id not in self.items:
                raise PayloadError(f"Unknown sample {sample_id[:80]!r}: not a rating item of the "
                                   "demo pool.")
            return self.items[sample_id], mode or "blind"
        if not mode:
            every, done = self.settings.attention_every, self.store.count("rater_id=?", (rater_id,))
            mode = "attention" if every and done % every == min(2, every - 1) else "blind"
        seen = self.store.voted_samples(rater_id, mode)
        left = [i for i in self.items if i not in seen]
        if not left and mode == "attention":
            return self.choose(rater_id, mode="blind")
        if not left:
            raise VoteRejected("You have rated every item: thank you!")
        counts = self.store.votes_per_sample(mode)
        cached = self.store.cached_samples(self.student_name, self.student_version)

        def order(item_id):
            # items short of RATERS_PER_ITEM votes first (agreement needs overlap), then new
            # ones, then the rest fewest first; ready texts before ones still to generate
            n = counts.get(item_id, 0)
            bucket = 0 if 0 < n < RATERS_PER_ITEM else 1 if n == 0 else 2
            return bucket, -n if bucket == 0 else n, item_id not in cached, self._rng.random()

        return self.items[min(left, key=order)], mode

    def student_side(self, item: RatingItem, generate: bool = True) -> Side:
        """The student's cached explanation; generated once (one generation per item even when
        two raters ask at the same moment)."""
        cached = self.store.explanation(item.item_id, self.student_name, self.student_version)
        if cached is None:
            if not generate or self.explainer is None:
                raise NotReady(item.item_id)
            with self._item_lock(item.item_id):
                cached = self.store.explanation(item.item_id, self.student_name, self.student_version)
                if cached is None:
                    cached = self._generate(item)
        return Side("student", self.student_name, self.student_version, cached["prediction"],
                    cached["p_yes"], cached["text"])

    def _item_lock(self, item_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(item_id, threading.Lock())

    def _generate(self, item: RatingItem) -> dict:
        start, text, pred = time.perf_counter(), "", None
        for kind, value in self.explainer.stream(self.pool.datasets[item.dataset], item.sample):
            if kind == "prediction":
                pred = value
            elif kind == "token":
                text += value
        return self.store.put_explanation(item.item_id, self.student_name, self.student_version,
                                          "Yes" if pred.label else "No", round(pred.p_yes, 6),
                                          text.strip(), round(time.perf_counter() - start, 3))

    def sides(self, item: RatingItem, mode: str, swapped: bool, generate: bool = True) -> dict:
        teacher = Side("teacher", item.teacher.model, teacher_version(item, self.pool),
                       "Yes" if item.teacher.label else "No", None, item.teacher.text)
        if mode == "attention":
            prediction, text = attention_explanation(item, self.pool.datasets[item.dataset])
            other = Side("check", CHECK_SYSTEM, CHECK_VERSION, prediction, None, text)
        else:
            other = self.student_side(item, generate)
        first, second = (other, teacher) if swapped else (teacher, other)
        return {"A": first, "B": second}

    def issue(self, rater: Rater, sample_id: str = "", mode: str = "", generate: bool = True,
              chosen: tuple[RatingItem, str] | None = None) -> dict:
        """An item for this rater with both texts and a signed ticket; names are not included."""
        item, mode = chosen or self.choose(rater.rater_id, sample_id, mode)
        swapped = self._rng.random() < 0.5
        sides = self.sides(item, mode, swapped, generate)
        chars = len(sides["A"].text) + len(sides["B"].text)
        ticket = self.signer.sign({"i": item.item_id, "m": mode, "s": int(swapped),
                                   "v": self.student_version, "r": rater.rater_id, "t": time.time()})
        return {"ticket": ticket, "sample_id": item.item_id, "mode": mode, "dataset": item.dataset,
                "user_id": item.user_id, "candidate": item.sample.target,
                "min_read_s": self.settings.min_read_seconds(chars),
                **{s: {"prediction": v.prediction, "text": v.text} for s, v in sides.items()}}

    # -- voting ------------------------------------------------------------------------------
    def cast(self, ballot: Ballot, rater: Rater, channel: str = "ui") -> dict:
        fields = self.signer.verify(ballot.ticket)
        if fields.get("r") != rater.rater_id:
            raise PayloadError("This ticket was issued to another rater: ask /rate_item for your own.")
        item = self.items.get(fields.get("i"))
        if item is None:
            raise PayloadError("The ticket names an item this app no longer has: fetch a new one.")
        age = time.time() - float(fields["t"])
        if age > TICKET_TTL_S:
            raise PayloadError("The ticket has expired (over 6 hours old): fetch a new item.")
        mode, swapped = fields["m"], bool(fields["s"])
        if mode == "blind" and fields["v"] != self.student_version:
            raise PayloadError("The student model changed since this item was shown: fetch a new one.")
        try:
            sides = self.sides(item, mode, swapped, generate=False)
        except NotReady:
            raise PayloadError("The explanation shown with this ticket is gone: fetch a new item.") from None
        need = self.settings.min_read_seconds(len(sides["A"].text) + len(sides["B"].text))
        if age < need:
            raise VoteRejected(f"Too quick: please read both explanations first (at least "
                               f"{need:.0f} s for these texts; {age:.1f} s so far).")
        row = {"rater_id": rater.rater_id, "rater_kind": rater.kind, "ip_hash": rater.ip_hash,
               "sample_id": item.item_id, "mode": mode, "choice": ballot.choice,
               "swapped": int(swapped), "reading_s": round(age, 3), "min_read_s": need,
               "attention_failed": failed_check(sides, ballot) if mode == "attention" else None,
               "app_version": __version__, "channel": channel}
        for side, key in (("A", "a"), ("B", "b")):
            for field, value in asdict(sides[side]).items():
                row[f"{field}_{key}"] = value
            for criterion, score in ballot.scores[side].items():
                row[f"{criterion}_{key}"] = score
        row = self.store.add_vote(row, self.settings.rate_limit)
        return {"ok": True, "vote_id": row["vote_id"], "sample_id": item.item_id, "mode": mode,
                "choice": ballot.choice, "attention_failed": row["attention_failed"],
                "reveal": {s: {"role": v.role, "system": v.system, "version": v.version}
                           for s, v in sides.items()}}


def failed_check(sides: dict, ballot: Ballot) -> int:
    """An attention check is failed when the rater prefers the self-contradicting text or
    calls it faithful (4 or 5)."""
    planted = next(s for s, v in sides.items() if v.role == "check")
    return int(ballot.choice == planted or ballot.scores[planted]["faithfulness"] >= 4)
