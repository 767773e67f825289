"""What the user asked for, checked: a pool user as is, or edited (profile, history, candidate).

    req = build_request(pool, "ml1m", "1", profile=None, history=None, candidate="")   # as is
    req = build_request(pool, "ml1m", "1", profile="Loves noir.", history=[["1", True]])
    req.ds, req.sample, req.edited, req.teacher, req.notes, req.evidence

Every problem is an InputError whose message says what to change; the UI shows it and the
API raises it as gr.Error. An edited input is a new Sample built from the pool user's data
(split "demo"); the catalogue is the pool's items for that dataset.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from ..data.schema import Dataset, HistoryEntry, Sample, User
from ..demo_pool import DemoPool, PoolText, PoolUser
from ..prompts.text import FIELD_LIMITS, profile_text

MAX_PROFILE_CHARS = 4000   # above this the input is refused (the prompt keeps 1,500)
MAX_HISTORY = 50
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][^>]*>")


class InputError(ValueError):
    """Bad input from the page or the API; the message is shown to the user as is."""


@dataclass(frozen=True)
class Request:
    pool_user: PoolUser
    ds: Dataset               # the pool dataset, with the edited profile when there is one
    sample: Sample
    profile_edited: bool
    history_edited: bool
    teacher: PoolText | None           # stored (Mixtral's), for unedited inputs only
    notes: list[str] = field(default_factory=list)
    evidence: dict | None = None       # collaborative evidence (DemoPool.evidence)

    @property
    def edited(self) -> bool:
        return self.profile_edited or self.history_edited


def original_profile(pool_user: PoolUser) -> str:
    """The profile paragraph the prompt shows for an unedited user (demographics + profile)."""
    return profile_text(pool_user.user)


def parse_history(value) -> list[tuple[str, bool]] | None:
    """History from the API: None/"" (the pool user's), a JSON string, or a list of
    [item_id, liked] pairs or {"item_id", "liked"} objects."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InputError(f"history is not valid JSON ({exc.msg}); expected a list like "
                             '[["1", true], ["48", false]]') from None
    if not isinstance(value, list):
        raise InputError("history must be a list of [item_id, liked] pairs")
    out = []
    for n, entry in enumerate(value, 1):
        if isinstance(entry, dict) and "item_id" in entry:
            entry = [entry["item_id"], entry.get("liked", True)]
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise InputError(f"history entry #{n} must be [item_id, liked], got {entry!r}"[:200])
        liked = entry[1]
        if isinstance(liked, str):
            liked = liked.strip().lower() in ("1", "true", "yes", "liked", "like")
        out.append((str(entry[0]).strip(), bool(liked)))
    return out


def build_request(pool: DemoPool, dataset: str, user_id: str, profile: str | None = None,
                  history: list | None = None, candidate: str | None = None) -> Request:
    if dataset not in pool.datasets:
        raise InputError(f"Unknown dataset {str(dataset)[:40]!r}: choose one of "
                         f"{', '.join(sorted(pool.datasets))}.")
    ds = pool.datasets[dataset]
    if not user_id:
        user_id = pool.users[dataset][0].user_id
    try:
        pu = pool.user(dataset, str(user_id))
    except KeyError:
        raise InputError(f"User {str(user_id)[:40]!r} is not in the {dataset} demo pool; pick "
                         "one from the list.") from None
    notes: list[str] = []
    # profile
    profile_edited = False
    if profile is not None:
        if len(profile) > MAX_PROFILE_CHARS:
            raise InputError(f"The profile is {len(profile):,} characters long; the limit is "
                             f"{MAX_PROFILE_CHARS:,}. Shorten it (the prompt keeps at most "
                             f"{FIELD_LIMITS['profile']:,}).")
        if _TAG.search(profile):
            notes.append("The profile contains HTML tags: they are treated as plain text.")
        if len(profile.strip()) > FIELD_LIMITS["profile"]:
            notes.append(f"The profile is cut to {FIELD_LIMITS['profile']:,} characters in the prompt.")
        profile_edited = " ".join(profile.split()) != " ".join(original_profile(pu).split())
    if profile_edited:
        ds = replace(ds, users={**ds.users, pu.user_id: User(pu.user_id, "", profile.strip())})
    # history
    entries = tuple(pu.sample.history)
    history_edited = False
    if history is not None:
        if not history:
            raise InputError("The history is empty: add at least one item the user liked or "
                             "disliked.")
        if len(history) > MAX_HISTORY:
            raise InputError(f"The history has {len(history)} items; at most {MAX_HISTORY}.")
        for item_id, _ in history:
            if item_id not in ds.items:
                raise InputError(f"Unknown item {item_id[:40]!r} in the history: it is not in the "
                                 f"{dataset} demo catalogue ({len(ds.items)} items).")
        entries = tuple(HistoryEntry(i, bool(liked)) for i, liked in history)
        history_edited = entries != tuple(pu.sample.history)
    # candidate
    target = (candidate or "").strip() or pu.sample.target
    if target not in ds.items:
        raise InputError(f"Unknown candidate item {target[:40]!r}: it is not in the {dataset} "
                         f"demo catalogue ({len(ds.items)} items).")
    if target in {e.item_id for e in entries}:
        notes.append("The candidate is also in the history.")
    cand = pu.candidate(target)
    edited = profile_edited or history_edited
    if not edited and cand is not None:
        sample = pu.candidate_sample(cand)
    else:
        sample = Sample(dataset, "demo", pu.user_id, entries, target, -1,
                        key=f"{pu.user_id}-edited" if edited else f"{pu.user_id}@{target}")
    teacher = None if edited else pool.teacher(dataset, pu.user_id, target)
    evidence = pool.evidence(dataset, pu.user_id, target, history_edited)
    return Request(pu, ds, sample, profile_edited, history_edited, teacher, notes, evidence)
