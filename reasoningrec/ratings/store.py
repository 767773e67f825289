"""The ratings store: one SQLite file in WAL mode, every vote with what the rater was shown.

    from reasoningrec.ratings.store import RatingsStore, DuplicateVote, RateLimited
    store = RatingsStore.open("/data/ratings")           # <dir>/ratings.sqlite, migrated
    row = store.add_vote({...VOTE_COLUMNS...}, rate_limit=(40, 600))   # committed on return
    store.votes(); store.count(); store.explanation(sample_id, system, version)

Durability: WAL with synchronous=FULL, so a vote is on disk when add_vote returns (the API
acknowledges it only then) and a kill -9 loses nothing acknowledged. One vote per
(rater, sample, mode) is the table's UNIQUE constraint, not only a check in the UI; the
per-rater rate limit is counted inside the same write transaction. One connection per store,
shared by the app's threads behind a lock; other processes (the CLI) may read at any time.
"""
from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .schema import VOTE_COLUMNS, migrate

DB_NAME = "ratings.sqlite"


class VoteRejected(ValueError):
    """A vote the store refuses; the message is shown to the rater as is. `status` is the HTTP
    status the API answers with (ui/guard.py)."""
    status = 422


class DuplicateVote(VoteRejected):
    status = 409


class RateLimited(VoteRejected):
    status = 429


class TooManyRaters(RateLimited):
    """One address hash voting under more anonymous ids than allowed (a Sybil guard)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class RatingsStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                     check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._listeners: list[Callable[[dict], None]] = []
        mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{self.path}: SQLite refused WAL mode (got {mode})")
        self._conn.execute("PRAGMA synchronous=FULL")
        self.version = migrate(self._conn, str(self.path))

    @classmethod
    def open(cls, data_dir: str | Path) -> "RatingsStore":
        return cls(Path(data_dir) / DB_NAME)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def on_commit(self, listener: Callable[[dict], None]) -> None:
        """Call `listener(row)` after each committed vote (the shard writer)."""
        self._listeners.append(listener)

    # -- votes -----------------------------------------------------------------------------
    def add_vote(self, row: dict, rate_limit: tuple[int, float] | None = None,
                 ids_per_address: int = 0) -> dict:
        """Insert one vote; fills vote_id and created_at when missing. Raises DuplicateVote,
        RateLimited or TooManyRaters (nothing written) and returns the stored row once it is
        committed. ids_per_address > 0: at most that many anonymous ids per IP hash."""
        row = {**row}
        row.setdefault("vote_id", uuid.uuid4().hex)
        now = utc_now()
        row.setdefault("created_at", iso(now))
        row.setdefault("channel", "ui")
        missing = [c for c in VOTE_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"vote row lacks {', '.join(missing)}")
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._check(row, rate_limit, now)
                self._check_address(row["rater_id"], row["rater_kind"], row["ip_hash"],
                                    ids_per_address)
                names = ", ".join(VOTE_COLUMNS)
                marks = ", ".join("?" for _ in VOTE_COLUMNS)
                self._conn.execute(f"INSERT INTO votes ({names}) VALUES ({marks})",
                                   [row[c] for c in VOTE_COLUMNS])
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self._conn.execute("ROLLBACK")
                if "UNIQUE" in str(exc) and "vote_id" not in str(exc):
                    raise DuplicateVote(_duplicate_message(row)) from None
                raise
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        for listener in self._listeners:
            listener(row)
        return row

    def _check(self, row: dict, rate_limit, now: datetime) -> None:
        seen = self._conn.execute("SELECT 1 FROM votes WHERE rater_id=? AND sample_id=? AND mode=?",
                                  (row["rater_id"], row["sample_id"], row["mode"])).fetchone()
        if seen:
            raise DuplicateVote(_duplicate_message(row))
        if rate_limit:
            limit, window = rate_limit
            since = iso(now - timedelta(seconds=window))
            recent = self._conn.execute(
                "SELECT COUNT(*), MIN(created_at) FROM votes WHERE rater_id=? AND created_at > ?",
                (row["rater_id"], since)).fetchone()
            if recent[0] >= limit:
                oldest = datetime.strptime(recent[1], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                wait = max(1, int((oldest + timedelta(seconds=window) - now).total_seconds()) + 1)
                raise RateLimited(f"Too many votes: at most {limit} every {window:g} s per rater. "
                                  f"Try again in {wait} s.")

    def check_address(self, rater, ids_per_address: int) -> None:
        """TooManyRaters when `rater` (ratings.raters.Rater) would be one anonymous id too many
        for its address hash; the desk asks before issuing an item, add_vote checks again."""
        with self._lock:
            self._check_address(rater.rater_id, rater.kind, rater.ip_hash, ids_per_address)

    def _check_address(self, rater_id: str, kind: str, ip_hash: str | None, limit: int) -> None:
        if not limit or not ip_hash or kind != "anon":
            return
        ids = {r[0] for r in self._conn.execute(
            "SELECT DISTINCT rater_id FROM votes WHERE ip_hash=? AND rater_kind='anon'",
            (ip_hash,)).fetchall()}
        if rater_id not in ids and len(ids) >= limit:
            raise TooManyRaters(f"Too many rater ids from one address: at most {limit} anonymous "
                                "raters per network address may vote. Sign in with Hugging Face "
                                "where the Space offers it, or keep rating under your first id.")

    def insert_restored(self, rows: Iterable[dict]) -> int:
        """Insert votes from an export or shards, skipping ones already here (by vote_id or by
        rater/sample/mode); returns how many were new. No rate limit, no listeners."""
        names = ", ".join(VOTE_COLUMNS)
        marks = ", ".join("?" for _ in VOTE_COLUMNS)
        with self._lock:
            before = self.count()
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(f"INSERT OR IGNORE INTO votes ({names}) VALUES ({marks})",
                                       ([r.get(c) for c in VOTE_COLUMNS] for r in rows))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return self.count() - before

    def votes(self, where: str = "", params: tuple = ()) -> list[dict]:
        """Votes as dicts in VOTE_COLUMNS order (oldest first); `where` is a trusted SQL clause."""
        sql = f"SELECT {', '.join(VOTE_COLUMNS)} FROM votes {('WHERE ' + where) if where else ''} ORDER BY id"
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, params).fetchall()]

    def count(self, where: str = "", params: tuple = ()) -> int:
        sql = f"SELECT COUNT(*) FROM votes {('WHERE ' + where) if where else ''}"
        with self._lock:
            return self._conn.execute(sql, params).fetchone()[0]

    def voted_samples(self, rater_id: str, mode: str) -> set[str]:
        with self._lock:
            rows = self._conn.execute("SELECT sample_id FROM votes WHERE rater_id=? AND mode=?",
                                      (rater_id, mode)).fetchall()
        return {r[0] for r in rows}

    def votes_per_sample(self, mode: str) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT sample_id, COUNT(*) FROM votes WHERE mode=? "
                                      "GROUP BY sample_id", (mode,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def pair_counts(self, mode: str) -> dict[tuple[str, str], int]:
        """Votes per pair of roles shown (sorted), e.g. {("student", "teacher"): 12}."""
        with self._lock:
            rows = self._conn.execute("SELECT role_a, role_b, COUNT(*) FROM votes WHERE mode=? "
                                      "GROUP BY role_a, role_b", (mode,)).fetchall()
        out: dict[tuple[str, str], int] = {}
        for a, b, n in rows:
            key = tuple(sorted((a, b)))
            out[key] = out.get(key, 0) + n
        return out

    # -- the student's explanations, kept by v1 of the app (read-only now) -------------
    def explanation(self, sample_id: str, system: str, version: str) -> dict | None:
        with self._lock:
            row = self._conn.execute("SELECT * FROM explanations WHERE sample_id=? AND system=? AND "
                                     "version=?", (sample_id, system, version)).fetchone()
        return dict(row) if row else None

    def cached_samples(self, system: str, version: str) -> set[str]:
        with self._lock:
            rows = self._conn.execute("SELECT sample_id FROM explanations WHERE system=? AND "
                                      "version=?", (system, version)).fetchall()
        return {r[0] for r in rows}

    def put_explanation(self, sample_id: str, system: str, version: str, prediction: str,
                        p_yes: float | None, text: str, seconds: float | None) -> dict:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO explanations VALUES (?,?,?,?,?,?,?,?)",
                               (sample_id, system, version, prediction, p_yes, text, seconds,
                                iso(utc_now())))
        return self.explanation(sample_id, system, version)


def _duplicate_message(row: dict) -> str:
    return (f"Already voted: this rater has rated {row['sample_id']} ({row['mode']}) before; "
            "one vote per rater, sample and mode.")
