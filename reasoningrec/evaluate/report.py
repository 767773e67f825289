"""The report folder of one evaluation run, and resuming it.

    reports/<dataset>-<split>-<model-slug>-n<N>/
        config.json        what was run (dataset, split, model, limit, n, seed, sample, prompt
                           options)
        predictions.jsonl  one row per sample, keyed by sample_id, in scoring order
                           (written and read back by data/predictions.py)
        metrics.json       the numbers (written when every sample is scored)
        roc.png, calibration.png   (plots.py)
        explanations.jsonl per-rationale judgements, with --explanations (explanations.py)

Resuming reads the rows already in predictions.jsonl back (data/predictions.py says how a
crash mid-write is survived) and scores only the rest.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..data.predictions import PREDICTIONS
from ..data.schema import DataError

CONFIG = "config.json"
METRICS = "metrics.json"
PLOTS = ("roc.png", "calibration.png")
EXPLANATIONS = "explanations.jsonl"  # written by explanations.py
# Config keys that must match for a run to resume (the rest is informational).
RUN_KEYS = ("dataset", "split", "model", "limit", "n", "seed", "explanations", "prompt",
            "sample", "decode")


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
    from ..models.decoding import slug
    if config.get("decode"):
        parts.append(slug(config["decode"]))
    return Path(root) / "-".join(parts)


def _comparable(key: str, value):
    """A config value as resuming compares it: prompt options at their default are left out,
    and a missing sample is the seeded one, so a report written before an option existed
    still resumes."""
    if key == "sample":
        return value or "seeded"
    if key == "decode":   # reports from before decode settings were plain greedy
        from ..models.decoding import decode_settings
        return decode_settings(value or {})
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


def write_metrics(folder: Path, metrics: dict) -> None:
    tmp = folder / (METRICS + ".tmp")
    tmp.write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, folder / METRICS)
