"""The demo pool shipped in assets/demo_pool/: a few real users per dataset, their candidates
and precomputed teacher rationales, loaded as small `Dataset`s the prompts can use directly.

    from reasoningrec.demo_pool import DemoPool
    pool = DemoPool.load()                           # assets/demo_pool (no dataset needed)
    user = pool.user("ml1m", "1")                     # PoolUser: .sample, .candidates
    ds = pool.datasets["ml1m"]                        # only the items the pool references
    pool.teacher("ml1m", "1", user.sample.target)     # TeacherRationale or None
    pool.evidence("ml1m", "1", user.sample.target, history_edited=False)   # fields or None

Files (written by scripts/build_demo_pool.py): pool.json (users, candidates, rationales),
items.json (title + the short attributes prompts show), ATTRIBUTION.md. A prompt built from
the pool is the same text as one built from the full dataset (tested).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .config import ASSETS_DIR
from .data.schema import DataError, Dataset, HistoryEntry, Item, Sample, User

POOL_DIR = ASSETS_DIR / "demo_pool"
DOMAINS = {"ml1m": "movie"}  # anything else in the pool is an Amazon product dataset
LABELS = {"ml1m": "MovieLens-1M", "fashion": "Amazon Fashion"}


@dataclass(frozen=True)
class TeacherRationale:
    model: str        # who wrote it, e.g. "SmolLM2-135M-Instruct (Q4_1 GGUF)"
    template: str     # the prompt, e.g. "teacher_cot/v1" (told the true label)
    label: int        # the answer the rationale explains
    text: str


@dataclass(frozen=True)
class Candidate:
    item_id: str
    label: int | None                     # the user's real answer, None when never rated
    teacher: TeacherRationale | None = None
    evidence: dict | None = None          # reasoningrec.evidence fields for (user, this item)


@dataclass(frozen=True)
class PoolUser:
    dataset: str
    user: User
    sample: Sample                         # the real test sample (history + target)
    candidates: tuple[Candidate, ...]      # the target first

    @property
    def user_id(self) -> str:
        return self.user.id

    def candidate(self, item_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.item_id == item_id), None)


class DemoPool:
    def __init__(self, datasets: dict[str, Dataset], users: dict[str, list[PoolUser]], meta: dict,
                 item_evidence: dict[str, dict[str, dict]] | None = None):
        self.datasets, self.users, self.meta = datasets, users, meta
        self._item_evidence = item_evidence or {}
        self._by_id = {(u.dataset, u.user_id): u for lst in users.values() for u in lst}

    @classmethod
    def load(cls, folder: str | Path = POOL_DIR) -> "DemoPool":
        folder = Path(folder)
        pool_file, items_file = folder / "pool.json", folder / "items.json"
        raw, raw_items = _read_json(pool_file), _read_json(items_file)
        datasets, users, item_evidence = {}, {}, {}
        for name, block in raw.get("datasets", {}).items():
            item_evidence[name] = dict(block.get("item_evidence") or {})
            if name not in raw_items:
                raise DataError(items_file, f"no items for dataset {name!r}")
            items = {i: Item(i, v["title"], dict(v.get("attributes", {})))
                     for i, v in raw_items[name].items()}
            ds_users, pool_users = {}, []
            for n, entry in enumerate(block.get("users", []), 1):
                try:
                    pool_users.append(_pool_user(name, entry, items))
                except (KeyError, TypeError, ValueError) as exc:
                    raise DataError(pool_file, f"{name} user #{n}: {exc}") from None
                ds_users[pool_users[-1].user_id] = pool_users[-1].user
            samples = [u.sample for u in pool_users]
            datasets[name] = Dataset(name, block.get("domain", DOMAINS.get(name, "product")),
                                     items, ds_users, {"test": samples})
            users[name] = pool_users
        if not users:
            raise DataError(pool_file, "the pool has no datasets")
        return cls(datasets, users, {k: v for k, v in raw.items() if k != "datasets"},
                   item_evidence)

    def user(self, dataset: str, user_id: str) -> PoolUser:
        if dataset not in self.datasets:
            raise KeyError(f"unknown dataset {dataset!r}: the demo pool has {sorted(self.datasets)}")
        try:
            return self._by_id[(dataset, str(user_id))]
        except KeyError:
            raise KeyError(f"user {user_id!r} is not in the {dataset} demo pool") from None

    def teacher(self, dataset: str, user_id: str, item_id: str) -> TeacherRationale | None:
        cand = self.user(dataset, user_id).candidate(item_id)
        return cand.teacher if cand else None

    def evidence(self, dataset: str, user_id: str, item_id: str,
                 history_edited: bool) -> dict | None:
        """Collaborative evidence for a pool user and item: every figure for a pool candidate
        of the user's recorded history; for an edited history (or another item) only the
        item's raters and like share, which do not depend on the user (None if not stored).
        A profile edit changes no figure: they come from ratings."""
        cand = self.user(dataset, user_id).candidate(item_id)
        if cand is not None and cand.evidence:
            if not history_edited:
                return dict(cand.evidence)
            return {k: cand.evidence[k] for k in ("item_raters", "item_liked_share")}
        stored = self._item_evidence.get(dataset, {}).get(item_id)
        return dict(stored) if stored else None

    def evidence_for(self, ds: Dataset, sample: Sample) -> dict | None:
        """`evidence` for a prompt's sample (the LLMScorer evidence_source of the app)."""
        user = self.user(ds.name, sample.user_id)
        return self.evidence(ds.name, sample.user_id, sample.target,
                             tuple(sample.history) != tuple(user.sample.history))

    def catalogue(self, dataset: str) -> list[Item]:
        """The pool's items of one dataset, sorted by title (the app's searchable catalogue)."""
        return sorted(self.datasets[dataset].items.values(), key=lambda i: (i.title.casefold(), i.id))


def _read_json(path: Path):
    if not path.is_file():
        raise DataError(path, "demo pool file is missing (run scripts/build_demo_pool.py)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None


def _pool_user(name: str, entry: dict, items: dict[str, Item]) -> PoolUser:
    uid = str(entry["user_id"])
    history = tuple(HistoryEntry(str(i), bool(liked)) for i, liked in entry["history"])
    for item_id in [h.item_id for h in history] + [c["item_id"] for c in entry["candidates"]]:
        if str(item_id) not in items:
            raise ValueError(f"item {item_id!r} is not in items.json")
    sample = Sample(name, entry.get("split", "test"), uid, history, str(entry["target"]),
                    int(entry["label"]), str(entry.get("key", "")))
    cands = []
    for c in entry["candidates"]:
        t = c.get("teacher")
        teacher = TeacherRationale(t["model"], t["template"], int(t["label"]), t["text"]) if t else None
        label = None if c.get("label") is None else int(c["label"])
        cands.append(Candidate(str(c["item_id"]), label, teacher, c.get("evidence")))
    if not cands or cands[0].item_id != sample.target:
        raise ValueError("the first candidate must be the sample's target")
    user = User(uid, entry.get("demographics", ""), entry.get("profile"))
    return PoolUser(name, user, sample, tuple(cands))
