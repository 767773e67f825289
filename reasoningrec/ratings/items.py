"""What raters rate: every demo-pool target with stored texts (Mixtral's rationale, the
paper's 7B student's output where released, our student's), the pairs of systems an item can
show and the contradicting explanations used as attention checks (tickets: tickets.py).

    from reasoningrec.ratings.items import rating_items, attention_explanation
    items = rating_items(pool)                    # {sample_id: RatingItem}, one per pool user
    items[sid].pairs()                            # [("teacher", "student"), ...]
    prediction, text = attention_explanation(items[sid], pool.datasets["ml1m"])

A vote is rebuilt from its sealed ticket (tickets.py: what the server showed), so the store
keeps what was really on the screen.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import combinations

from ..data.schema import Dataset, Sample
from ..demo_pool import SYSTEMS, DemoPool, PoolText

CHECK_SYSTEM, CHECK_VERSION = "attention check (contradicts its own prediction)", "v1"


@dataclass(frozen=True)
class RatingItem:
    item_id: str            # the sample id, e.g. "ml1m:test:5239" or "ml1m:test:5239@2058"
    dataset: str
    user_id: str
    sample: Sample
    texts: dict[str, PoolText] = field(default_factory=dict)   # role -> stored text

    @property
    def teacher(self) -> PoolText:
        return self.texts["teacher"]

    def pairs(self) -> list[tuple[str, str]]:
        """The pairs of systems this item can show blind, in SYSTEMS order."""
        return list(combinations([r for r in SYSTEMS if r in self.texts], 2))


def rating_items(pool: DemoPool) -> dict[str, RatingItem]:
    """Each pool candidate with a stored teacher rationale, keyed by its sample id
    (PoolUser.candidate_sample, as the Explain tab's for the same user and candidate)."""
    out = {}
    for dataset, users in pool.users.items():
        for pu in users:
            for cand in pu.candidates:
                if cand.teacher is None or cand.label is None:
                    continue
                sample = pu.candidate_sample(cand)
                out[sample.sample_id] = RatingItem(sample.sample_id, dataset, pu.user_id, sample,
                                                   dict(cand.texts))
    return out


def text_version(text: PoolText, pool: DemoPool) -> str:
    """What the store records as a text's version: the system's own, and the pool build."""
    return f"{text.system.version}; pool {pool.fingerprint}"


def _variant(item_id: str) -> int:
    return hashlib.sha256(item_id.encode()).digest()[0]


def attention_explanation(item: RatingItem, ds: Dataset) -> tuple[str, str]:
    """(shown prediction, text): the text argues the opposite of the prediction it is shown
    with, so a careful rater scores its faithfulness low and does not prefer it."""
    title = ds.items[item.sample.target].title
    noun = ds.domain if ds.domain != "product" else "product"
    liked = [ds.items[h.item_id].title for h in item.sample.history if h.liked][:2]
    since = f"they enjoyed {' and '.join(liked)}" if liked else "their history"
    if _variant(item.item_id) % 2 == 0:
        return "Yes", (f"The user will not like {title}. Although {since}, this {noun} is "
                       f"nothing like what they choose, and their profile shows no interest in "
                       f"anything similar. I am confident they would dislike {title}.")
    return "No", (f"The user will love {title}. Since {since}, this {noun} matches their taste "
                  f"exactly, and their profile says they seek out this kind of {noun}. "
                  f"I am confident they would like {title}.")
