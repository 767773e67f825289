"""Votes outlive the Space: append-only JSONL shards (pushed to a Hugging Face dataset by
hubsync.HubSync) and restoring a store from them.

    from reasoningrec.ratings.sync import ShardWriter, restore_from_folder
    writer = ShardWriter(folder); store.on_commit(writer)   # each committed vote -> one line
    restore_from_folder(store, folder)                       # {"files", "rows", "restored", ...}

One shard file per process (votes-<host>-<pid>-<time>.jsonl), only ever appended to, so two
replicas never write the same file and a push never sees a rewritten one. A line cut short by
a kill is skipped on restore (and named); at start-up, votes the store has but no shard has
(a kill between commit and append) are appended to the new shard ("backfill").
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from .schema import VOTE_COLUMNS
from .store import RatingsStore

log = logging.getLogger(__name__)
REQUIRED = [c for c in VOTE_COLUMNS if c != "channel"]   # schema v1 rows lack `channel`


class ShardWriter:
    """A store listener writing each vote as one JSON line, flushed and fsynced."""

    def __init__(self, folder: str | Path, lock=None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"votes-{socket.gethostname()}-{os.getpid()}-{int(time.time())}.jsonl"
        self.path = self.folder / name
        self._lock = lock if lock is not None else nullcontext()
        self._own = threading.Lock()

    def __call__(self, row: dict) -> None:
        line = json.dumps({c: row.get(c) for c in VOTE_COLUMNS}, ensure_ascii=False) + "\n"
        with self._own, self._lock:          # the scheduler's lock: no push sees half a line
            with self.path.open("a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())


def read_shards(folder: str | Path) -> tuple[list[dict], list[str]]:
    """All vote rows of the *.jsonl files in a folder (sorted by name) and the problems met,
    each as "file:line: problem". Bad lines are skipped, never fatal."""
    rows, problems = [], []
    for path in sorted(Path(folder).glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                cut = n == len(lines)           # the last line, without its newline
                problems.append(f"{path.name}:{n}: " + ("truncated last line (a write cut short)"
                                                         if cut else f"invalid JSON ({exc.msg})"))
                continue
            missing = [c for c in REQUIRED if not isinstance(row, dict) or c not in row]
            if missing:
                problems.append(f"{path.name}:{n}: not a vote row (lacks {', '.join(missing[:4])})")
                continue
            row.setdefault("channel", "ui")
            rows.append(row)
    return rows, problems


def restore_from_folder(store: RatingsStore, folder: str | Path) -> dict:
    """Insert every shard row the store lacks; safe to repeat (rows are keyed by vote_id)."""
    rows, problems = read_shards(folder)
    restored = store.insert_restored(rows)
    for problem in problems:
        log.warning("restoring ratings: %s", problem)
    return {"files": len(list(Path(folder).glob("*.jsonl"))), "rows": len(rows),
            "restored": restored, "skipped": problems}


def backfill(store: RatingsStore, writer: ShardWriter, *folders: Path) -> int:
    """Append to the writer's shard the votes no shard in `folders` holds yet."""
    have = set()
    for folder in folders:
        have |= {r["vote_id"] for r in read_shards(folder)[0]}
    missing = [r for r in store.votes() if r["vote_id"] not in have]
    for row in missing:
        writer(row)
    return len(missing)
