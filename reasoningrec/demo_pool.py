"""The demo pool shipped in assets/demo_pool/: real test users per dataset, their candidates
and the stored explanations of three systems, loaded as small `Dataset`s prompts can use.

    from reasoningrec.demo_pool import DemoPool
    pool = DemoPool.load()                           # assets/demo_pool (no dataset needed)
    user = pool.user("ml1m", "1")                     # PoolUser: .sample, .candidates
    ds = pool.datasets["ml1m"]                        # only the items the pool references
    pool.systems["fashion"]["authors"].title          # who wrote a role's texts, for the page
    pool.text("ml1m", "1", user.sample.target, "teacher")   # PoolText or None
    pool.evidence("ml1m", "1", user.sample.target, history_edited=False)   # fields or None

Roles (SYSTEMS): "teacher" (Mixtral-8x7B-Instruct's released rationale, told the true
answer), "authors" (the paper's Llama-2-7B student's released output, where the authors
released one) and "student" (ours, generated ahead of time by the builder). Only each user's
test target has texts. Files (scripts/build_demo_pool.py): pool.json (users, candidates,
texts, systems), items.json (title + the short attributes prompts show), ATTRIBUTION.md. A
prompt built from the pool is the same text as one built from the full dataset (tested).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .config import ASSETS_DIR
from .data.schema import DataError, Dataset, HistoryEntry, Item, Sample, User

POOL_DIR = ASSETS_DIR / "demo_pool"
DOMAINS = {"ml1m": "movie"}  # anything else in the pool is an Amazon product dataset
LABELS = {"ml1m": "MovieLens-1M", "fashion": "Amazon Fashion"}
SYSTEMS = ("teacher", "authors", "student")
POOL_VERSION = 2


@dataclass(frozen=True)
class System:
    role: str         # one of SYSTEMS
    model: str        # e.g. "Mixtral-8x7B-Instruct"
    title: str        # how the page names it, e.g. "..., the paper's teacher, told the true answer"
    version: str      # teacher variant, authors' run, or our student's fingerprint
    about: str = ""   # one more line for the page (how the texts were made)


@dataclass(frozen=True)
class PoolText:
    system: System
    label: int | None         # the answer the text argues (the teacher's: the true one)
    text: str                 # as shown: pool_text.display_text of the model's output
    p_yes: float | None = None

    @property
    def model(self) -> str:
        return self.system.title


@dataclass(frozen=True)
class Candidate:
    item_id: str
    label: int | None                     # the user's real answer, None when never rated
    texts: dict[str, PoolText] = field(default_factory=dict)   # role -> text (targets only)
    evidence: dict | None = None          # reasoningrec.scoring.evidence fields for (user, this item)

    @property
    def teacher(self) -> PoolText | None:
        return self.texts.get("teacher")


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

    def candidate_sample(self, cand: Candidate) -> Sample:
        """The sample asking about one of the user's candidates: the real test sample for its
        target, else the same history with key "<key>@<item>" (one rule for the Explain tab and
        the Rate tab's sample ids); the label is the candidate's, -1 when never rated."""
        key = (self.sample.key if cand.item_id == self.sample.target
               else f"{self.sample.key or self.user_id}@{cand.item_id}")
        return replace(self.sample, target=cand.item_id, key=key,
                       label=cand.label if cand.label is not None else -1)


class DemoPool:
    def __init__(self, datasets: dict[str, Dataset], users: dict[str, list[PoolUser]], meta: dict,
                 item_evidence: dict[str, dict[str, dict]] | None = None,
                 systems: dict[str, dict[str, System]] | None = None, fingerprint: str = ""):
        self.datasets, self.users, self.meta = datasets, users, meta
        self.systems = systems or {}          # dataset -> role -> System
        self.fingerprint = fingerprint        # of pool.json: names this build in votes
        self._item_evidence = item_evidence or {}
        self._by_id = {(u.dataset, u.user_id): u for lst in users.values() for u in lst}

    @classmethod
    def load(cls, folder: str | Path = POOL_DIR) -> "DemoPool":
        folder = Path(folder)
        pool_file, items_file = folder / "pool.json", folder / "items.json"
        raw, raw_items = _read_json(pool_file), _read_json(items_file)
        if raw.get("version") != POOL_VERSION:
            raise DataError(pool_file, f"pool version {raw.get('version')!r}, this code reads "
                            f"version {POOL_VERSION}: rebuild it (scripts/build_demo_pool.py)")
        datasets, users, item_evidence, systems = {}, {}, {}, {}
        for name, block in raw.get("datasets", {}).items():
            item_evidence[name] = dict(block.get("item_evidence") or {})
            try:
                systems[name] = {role: System(role, **sys) for role, sys
                                 in block.get("systems", {}).items() if role in SYSTEMS}
            except TypeError as exc:
                raise DataError(pool_file, f"{name} systems: {exc}") from None
            if name not in raw_items:
                raise DataError(items_file, f"no items for dataset {name!r}")
            items = {i: Item(i, v["title"], dict(v.get("attributes", {})))
                     for i, v in raw_items[name].items()}
            ds_users, pool_users = {}, []
            for n, entry in enumerate(block.get("users", []), 1):
                try:
                    pool_users.append(_pool_user(name, entry, items, systems[name]))
                except (KeyError, TypeError, ValueError) as exc:
                    raise DataError(pool_file, f"{name} user #{n}: {exc}") from None
                ds_users[pool_users[-1].user_id] = pool_users[-1].user
            samples = [u.sample for u in pool_users]
            datasets[name] = Dataset(name, block.get("domain", DOMAINS.get(name, "product")),
                                     items, ds_users, {"test": samples})
            users[name] = pool_users
        if not users:
            raise DataError(pool_file, "the pool has no datasets")
        digest = hashlib.sha256(pool_file.read_bytes()).hexdigest()[:12]
        return cls(datasets, users, {k: v for k, v in raw.items() if k != "datasets"},
                   item_evidence, systems, digest)

    def user(self, dataset: str, user_id: str) -> PoolUser:
        if dataset not in self.datasets:
            raise KeyError(f"unknown dataset {dataset!r}: the demo pool has {sorted(self.datasets)}")
        try:
            return self._by_id[(dataset, str(user_id))]
        except KeyError:
            raise KeyError(f"user {user_id!r} is not in the {dataset} demo pool") from None

    def text(self, dataset: str, user_id: str, item_id: str, role: str) -> PoolText | None:
        """A system's stored explanation for a pool user's candidate (None: there is none)."""
        cand = self.user(dataset, user_id).candidate(item_id)
        return cand.texts.get(role) if cand else None

    def teacher(self, dataset: str, user_id: str, item_id: str) -> PoolText | None:
        return self.text(dataset, user_id, item_id, "teacher")

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


def _pool_user(name: str, entry: dict, items: dict[str, Item],
               systems: dict[str, System]) -> PoolUser:
    uid = str(entry["user_id"])
    history = tuple(HistoryEntry(str(i), bool(liked)) for i, liked in entry["history"])
    for item_id in [h.item_id for h in history] + [c["item_id"] for c in entry["candidates"]]:
        if str(item_id) not in items:
            raise ValueError(f"item {item_id!r} is not in items.json")
    sample = Sample(name, entry.get("split", "test"), uid, history, str(entry["target"]),
                    int(entry["label"]), str(entry.get("key", "")))
    cands = []
    for c in entry["candidates"]:
        texts = {}
        for role, t in (c.get("texts") or {}).items():
            if role not in systems:
                raise ValueError(f"candidate {c['item_id']}: a {role!r} text but no such system")
            label = None if t.get("label") is None else int(t["label"])
            p_yes = None if t.get("p_yes") is None else float(t["p_yes"])
            texts[role] = PoolText(systems[role], label, str(t["text"]), p_yes)
        label = None if c.get("label") is None else int(c["label"])
        cands.append(Candidate(str(c["item_id"]), label, texts, c.get("evidence")))
    if not cands or cands[0].item_id != sample.target:
        raise ValueError("the first candidate must be the sample's target")
    user = User(uid, entry.get("demographics", ""), entry.get("profile"))
    return PoolUser(name, user, sample, tuple(cands))
