"""An evaluation run's predictions.jsonl, written and read back: one JSON row per scored
sample, keyed by sample_id, in scoring order (evaluate/report.py lays out the rest of the
report folder; scoring/blend.py and the benchmarks read finished runs).

    from reasoningrec.data.predictions import PredictionLog, read_predictions
    with PredictionLog(folder) as log:
        log.append({"sample_id": s.sample_id, "label": s.label, "p_yes": 0.7})
    rows = read_predictions(folder, {s.sample_id: s for s in samples})   # {sample_id: row}

Durability: every row is written and flushed at once, so killing the process (even kill -9)
loses at most the row in flight; rows are also fsync'ed every FSYNC_EVERY rows and on close,
which bounds what a power cut can take. A last line cut off mid-write is detected on the
next run, reported, and truncated away; a bad line anywhere else is an error naming the
file and line, because that is not what a crash leaves behind.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .schema import DataError

PREDICTIONS = "predictions.jsonl"
FSYNC_EVERY = 16


def read_predictions(folder: Path, samples_by_id: dict) -> dict[str, dict]:
    """Rows already scored, by sample_id. Drops (and truncates) a torn last line; refuses rows
    for samples outside this run or whose label disagrees with the data."""
    path = folder / PREDICTIONS
    if not path.exists():
        return {}
    rows: dict[str, dict] = {}
    good_bytes = 0
    with open(path, "rb") as f:
        lines = f.readlines()
    for number, raw in enumerate(lines, start=1):
        is_last = number == len(lines)
        try:
            row = json.loads(raw)
            if not isinstance(row, dict) or "sample_id" not in row or "p_yes" not in row:
                raise ValueError("not a prediction row")
        except ValueError as exc:
            if is_last:   # a crash mid-write: forget the partial row, keep the rest
                break
            raise DataError(path, f"unreadable row ({exc}); fix or delete the file, "
                                  "or pass --overwrite", line=number) from None
        if is_last and not raw.endswith(b"\n"):
            break         # complete JSON but no newline: also torn; it is re-scored
        sid = row["sample_id"]
        if sid not in samples_by_id:
            raise DataError(path, f"sample {sid!r} is not in this run's sample set (was it "
                                  "made with another --limit/--seed or data?); pass "
                                  "--overwrite to start over", line=number)
        if sid in rows:
            raise DataError(path, f"sample {sid!r} appears twice", line=number)
        if int(row["label"]) != samples_by_id[sid].label:
            raise DataError(path, f"sample {sid!r} has label {row['label']} but the data says "
                                  f"{samples_by_id[sid].label}; pass --overwrite", line=number)
        rows[sid] = row
        good_bytes += len(raw)
    if good_bytes < path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
    return rows


class PredictionLog:
    """Appends prediction rows to predictions.jsonl, flushed per row, fsync'ed in batches."""

    def __init__(self, folder: Path):
        self.path = folder / PREDICTIONS
        self._file = open(self.path, "a", encoding="utf-8")
        self._unsynced = 0

    def append(self, row: dict) -> None:
        # One write call per row, newline included, so a torn row is always the last line.
        self._file.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        self._file.flush()
        self._unsynced += 1
        if self._unsynced >= FSYNC_EVERY:
            self.sync()

    def sync(self) -> None:
        os.fsync(self._file.fileno())
        self._unsynced = 0

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
