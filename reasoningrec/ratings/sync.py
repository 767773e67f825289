"""Votes outlive the Space: append-only JSONL shards pushed to a Hugging Face dataset, and an
empty store restored from them on start-up.

    from reasoningrec.ratings.sync import ShardWriter, restore_from_folder, start_sync
    writer = ShardWriter(folder); store.on_commit(writer)   # each committed vote -> one line
    restore_from_folder(store, folder)                       # {"files", "rows", "restored", ...}
    start_sync(store, settings)      # with HF_TOKEN + REASONINGREC_RATINGS_REPO: all of the above
                                     # plus huggingface_hub.CommitScheduler pushing the folder

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


def start_sync(store: RatingsStore, settings, every_minutes: float = 2.0) -> dict | None:
    """Restore-if-empty from the dataset repo, then push new shards every few minutes.
    Does nothing (returns None) unless HF_TOKEN and REASONINGREC_RATINGS_REPO are both set."""
    if not settings.sync_enabled:
        return None
    from huggingface_hub import CommitScheduler, snapshot_download
    shards = settings.data_dir / "shards"
    hub_copy = settings.data_dir / "hub"
    report = {"repo": settings.repo_id, "restored": 0}
    if store.count() == 0:
        snapshot_download(settings.repo_id, repo_type="dataset", token=settings.hf_token,
                          allow_patterns=["shards/*.jsonl"], local_dir=hub_copy)
        report.update(restore_from_folder(store, hub_copy / "shards"))
    scheduler = CommitScheduler(repo_id=settings.repo_id, repo_type="dataset", private=True,
                                folder_path=shards, path_in_repo="shards", every=every_minutes,
                                token=settings.hf_token, allow_patterns=["*.jsonl"])
    writer = ShardWriter(shards, lock=scheduler.lock)
    report["backfilled"] = backfill(store, writer, shards, hub_copy / "shards")
    store.on_commit(writer)
    report["shard"] = str(writer.path)
    log.info("ratings sync: %s", report)
    return report
