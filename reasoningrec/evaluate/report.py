"""The report folder of one evaluation run, and resuming it.

    reports/<dataset>-<split>-<model-slug>-n<N>/
        config.json        what was run (dataset, split, model, limit, n, seed, sample, prompt
                           options)
        predictions.jsonl  one row per sample, keyed by sample_id, in scoring order
        metrics.json       the numbers (written when every sample is scored)
        roc.png, calibration.png   (plots.py)
        explanations.jsonl per-rationale judgements, with --explanations (explanations.py)

Durability: every row is written and flushed at once, so killing the process (even kill -9)
loses at most the row in flight; rows are also fsync'ed every FSYNC_EVERY rows and on close,
which bounds what a power cut can take. A last line cut off mid-write is detected on the
next run, reported, and truncated away; a bad line anywhere else is an error naming the
file and line, because that is not what a crash leaves behind.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..data.schema import DataError

CONFIG = "config.json"
PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
PLOTS = ("roc.png", "calibration.png")
EXPLANATIONS = "explanations.jsonl"  # written by explanations.py
FSYNC_EVERY = 16
# Config keys that must match for a run to resume (the rest is informational).
RUN_KEYS = ("dataset", "split", "model", "limit", "n", "seed", "explanations", "prompt",
            "sample")


def model_slug(spec: str, max_len: int = 48) -> str:
    """A folder-safe name for a model spec; long specs (paths) keep their tail plus a hash."""
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", spec).strip("-.") or "model"
    if len(slug) > max_len:
        digest = hashlib.sha1(spec.encode()).hexdigest()[:8]
        slug = f"{slug[-(max_len - 9):].lstrip('-.')}-{digest}"
    return slug


def default_report_dir(config: dict, root: str | Path = "reports") -> Path:
    """reports/<dataset>-<split>-<model-slug>-n<N>[-paper], with suffixes for non-default
    options."""
    parts = [config["dataset"], config["split"], model_slug(config["model"]), f"n{config['n']}"]
    if config.get("sample", "seeded") != "seeded":
        parts.append(config["sample"])
    prompt = config.get("prompt") or {}
    if prompt.get("with_profile") is False:
        parts.append("noprofile")
    if prompt.get("with_description") is False:
        parts.append("nodesc")
    if prompt.get("history_k"):
        parts.append(f"k{prompt['history_k']}")
    if prompt.get("history_mode") not in (None, "recent"):
        parts.append(prompt["history_mode"])
    if prompt.get("reasoning") is False:
        parts.append("noreason")
    if prompt.get("evidence"):
        parts.append("evidence")
    if config.get("seed", 42) != 42:
        parts.append(f"seed{config['seed']}")
    if config.get("explanations"):
        parts.append("explain")
    return Path(root) / "-".join(parts)


def _comparable(key: str, value):
    """A config value as resuming compares it: prompt options at their default are left out,
    and a missing sample is the seeded one, so a report written before an option existed
    still resumes."""
    if key == "sample":
        return value or "seeded"
    if key != "prompt" or not isinstance(value, dict):
        return value
    from ..scoring.options import PromptOptions
    defaults = PromptOptions()
    return {k: v for k, v in value.items() if getattr(defaults, k, object()) != v}


def prepare(folder: Path, config: dict, overwrite: bool) -> None:
    """Create `folder`, or check that the run stored there is this run (else refuse)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG
    if path.exists() and not overwrite:
        try:
            stored = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise DataError(path, f"not valid JSON ({exc.msg}); use --overwrite to start over")
        diff = [f"{k}: stored {stored.get(k)!r}, now {config.get(k)!r}"
                for k in RUN_KEYS if _comparable(k, stored.get(k)) != _comparable(k, config.get(k))]
        if diff:
            raise ValueError(f"{folder} holds a different run ({'; '.join(diff)}); "
                             "pass --overwrite to replace it or --report-dir to keep both")
    if overwrite:
        for name in (PREDICTIONS, METRICS, EXPLANATIONS, *PLOTS):
            (folder / name).unlink(missing_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


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


def write_metrics(folder: Path, metrics: dict) -> None:
    tmp = folder / (METRICS + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, folder / METRICS)
