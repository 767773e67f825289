"""The rating desk: picks an item and a pair of systems for a rater, shows their two stored
explanations blind (sides random), and turns a ballot into a stored vote. Shared by the Rate
tab and the /rate_item + /vote API.

    desk = RatingDesk.from_service(service)              # app: pool, store from env
    shown = desk.issue(rater)                            # {"ticket", "A": {...}, "B": {...}, ...}
    result = desk.cast(parse_vote(payload), rater)       # {"vote_id", "reveal": {...}, ...}

Systems (demo_pool.SYSTEMS): Mixtral's rationale ("teacher"), the paper's 7B student
("authors", Fashion only) and our student ("student"), all texts the pool builder stored:
no model runs for a rating. Pairs are balanced: each new blind item shows the pair of systems
with the fewest blind votes so far among the pairs the rater still has items for. Every few
items (the server decides which, never the client) a rater gets an attention check (the
teacher against a text that contradicts its own prediction). Tickets are sealed (tickets.py);
an address hash may vote under at most `ids_per_address` anonymous ids (store.py).
"""
from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass

from .. import __version__
from ..demo_pool import DemoPool, PoolText
from .config import RatingsSettings
from .items import (CHECK_SYSTEM, CHECK_VERSION, RatingItem, attention_explanation, rating_items,
                    text_version)
from .payload import Ballot, PayloadError
from .raters import Rater
from .store import RatingsStore, VoteRejected
from .tickets import TicketSealer

TICKET_TTL_S = 6 * 3600
RATERS_PER_ITEM = 3      # fill items up to this many votes before opening new ones
CHECK_PAIR = ("teacher", "check")


@dataclass(frozen=True)
class Side:
    role: str            # teacher | authors | student | check
    system: str          # the model, e.g. "Mixtral-8x7B-Instruct"
    version: str
    prediction: str      # Yes | No
    p_yes: float | None
    text: str


class RatingDesk:
    def __init__(self, store: RatingsStore, pool: DemoPool, settings: RatingsSettings,
                 seed: int | None = None):
        self.store, self.pool, self.settings = store, pool, settings
        self.items = rating_items(pool)
        self.sealer = TicketSealer(settings.resolved_salt())
        self._rng = random.Random(seed)

    @classmethod
    def from_service(cls, service, settings: RatingsSettings | None = None,
                     store: RatingsStore | None = None) -> "RatingDesk":
        settings = settings or RatingsSettings.from_env()
        store = store or RatingsStore.open(settings.data_dir)
        return cls(store, service.pool, settings)

    # -- choosing and showing ------------------------------------------------------------------
    def scheduled_mode(self, rater_id: str) -> str:
        """Blind or attention check: the server's choice, from how many votes this rater has
        cast (the 3rd, 9th, ... item with the default of one in six). The client cannot ask
        for a mode, and an unvoted check stays due until it is voted on."""
        every, done = self.settings.attention_every, self.store.count("rater_id=?", (rater_id,))
        return "attention" if every and done % every == min(2, every - 1) else "blind"

    def choose(self, rater_id: str, sample_id: str = "", mode: str = ""
               ) -> tuple[RatingItem, str, tuple[str, str]]:
        """(item, mode, pair of roles) for this rater. `sample_id` asks for one item; the mode
        is always scheduled_mode (`mode` is only the fallback to blind when no check is left)."""
        mode = mode or self.scheduled_mode(rater_id)
        if sample_id:
            if sample_id not in self.items:
                raise PayloadError(f"Unknown sample {sample_id[:80]!r}: not a rating item of the "
                                   "demo pool.")
            item = self.items[sample_id]
            if mode == "attention" and sample_id not in self.store.voted_samples(rater_id, mode):
                return item, mode, CHECK_PAIR
            if mode == "blind":
                if not item.pairs():
                    raise PayloadError(f"Sample {sample_id[:80]!r} has one stored text only: "
                                       "it cannot be compared blind; ask for another.")
                return item, mode, self._least_voted(item.pairs())
        seen = self.store.voted_samples(rater_id, mode)
        left = [i for i in self.items if i not in seen
                and (mode == "attention" or self.items[i].pairs())]
        if not left and mode == "attention":
            return self.choose(rater_id, mode="blind")
        if not left:
            raise VoteRejected("You have rated every item: thank you!")
        counts = self.store.votes_per_sample(mode)
        if mode == "attention":
            pair = CHECK_PAIR
        else:   # the pair with the fewest votes among those the rater has items for
            pair = self._least_voted({p for i in left for p in self.items[i].pairs()})
            left = [i for i in left if pair in self.items[i].pairs()]

        def order(item_id):
            # items short of RATERS_PER_ITEM votes first (agreement needs overlap), then new
            # ones, then the rest fewest first
            n = counts.get(item_id, 0)
            bucket = 0 if 0 < n < RATERS_PER_ITEM else 1 if n == 0 else 2
            return bucket, -n if bucket == 0 else n, self._rng.random()

        return self.items[min(left, key=order)], mode, pair

    def _least_voted(self, pairs) -> tuple[str, str]:
        votes = self.store.pair_counts("blind")
        return min(sorted(pairs), key=lambda p: (votes.get(tuple(sorted(p)), 0), self._rng.random()))

    def _side(self, role: str, text: PoolText) -> Side:
        said = text.label if text.label is not None else int((text.p_yes or 0) >= 0.5)
        return Side(role, text.system.model, text_version(text, self.pool),
                    "Yes" if said else "No", text.p_yes, text.text)

    def sides(self, item: RatingItem, mode: str, swapped: bool, pair: tuple[str, str]) -> dict:
        shown = []
        for role in pair:
            if role == "check":
                prediction, text = attention_explanation(item, self.pool.datasets[item.dataset])
                shown.append(Side("check", CHECK_SYSTEM, CHECK_VERSION, prediction, None, text))
            elif role in item.texts:
                shown.append(self._side(role, item.texts[role]))
            else:
                raise PayloadError(f"{item.item_id} has no stored {role} text: fetch a new item.")
        first, second = shown[::-1] if swapped else shown
        return {"A": first, "B": second}

    def issue(self, rater: Rater, sample_id: str = "") -> dict:
        """An item for this rater with both texts and a sealed ticket; the systems' names and
        the side swap are not included. `mode` is for the server's own use: the API leaves it
        out (ui/api.py), so a client cannot tell an attention check from a blind item."""
        self.store.check_address(rater, self.settings.ids_per_address)
        item, mode, pair = self.choose(rater.rater_id, sample_id)
        swapped = self._rng.random() < 0.5
        sides = self.sides(item, mode, swapped, pair)
        chars = len(sides["A"].text) + len(sides["B"].text)
        ticket = self.sealer.seal({"i": item.item_id, "m": mode, "s": int(swapped),
                                   "p": "|".join(pair), "v": self.pool.fingerprint,
                                   "r": rater.rater_id, "t": time.time()})
        return {"ticket": ticket, "sample_id": item.item_id, "mode": mode, "dataset": item.dataset,
                "user_id": item.user_id, "candidate": item.sample.target,
                "min_read_s": self.settings.min_read_seconds(chars),
                **{s: {"prediction": v.prediction, "text": v.text} for s, v in sides.items()}}

    # -- voting ------------------------------------------------------------------------------
    def cast(self, ballot: Ballot, rater: Rater, channel: str = "ui") -> dict:
        fields = self.sealer.open(ballot.ticket)
        if fields.get("r") != rater.rater_id:
            raise PayloadError("This ticket was issued to another rater: ask /rate_item for your own.")
        item = self.items.get(fields.get("i"))
        if item is None:
            raise PayloadError("The ticket names an item this app no longer has: fetch a new one.")
        age = time.time() - float(fields["t"])
        if age > TICKET_TTL_S:
            raise PayloadError("The ticket has expired (over 6 hours old): fetch a new item.")
        mode, swapped, pair = fields["m"], bool(fields["s"]), tuple(str(fields["p"]).split("|"))
        if fields["v"] != self.pool.fingerprint:
            raise PayloadError("The demo pool changed since this item was shown: fetch a new one.")
        sides = self.sides(item, mode, swapped, pair)
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
        row = self.store.add_vote(row, self.settings.rate_limit, self.settings.ids_per_address)
        return {"ok": True, "vote_id": row["vote_id"], "sample_id": item.item_id, "mode": mode,
                "choice": ballot.choice, "attention_failed": row["attention_failed"],
                "reveal": {s: {"role": v.role, "system": v.system, "version": v.version,
                               "title": self._title(item, v.role)} for s, v in sides.items()}}

    def _title(self, item: RatingItem, role: str) -> str:
        """How the page names a side's author once the vote is in."""
        return item.texts[role].system.title if role in item.texts else CHECK_SYSTEM


def failed_check(sides: dict, ballot: Ballot) -> int:
    """An attention check is failed when the rater prefers the self-contradicting text or
    calls it faithful (4 or 5)."""
    planted = next(s for s, v in sides.items() if v.role == "check")
    return int(ballot.choice == planted or ballot.scores[planted]["faithfulness"] >= 4)
