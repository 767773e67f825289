"""Export the votes to JSONL or CSV: one row a vote, every column of the store.

    from reasoningrec.ratings.export import export_votes
    export_votes(store, "votes.jsonl")                  # format from the suffix
    export_votes(store, "votes.csv", only_counted=True) # what the results use

    reasoningrec ratings export --out votes.csv [--dir DIR] [--counted]

A JSONL export is also a valid shard: `reasoningrec ratings restore` reads it back. CSV cells
are plain text (no spreadsheet formulas: cells starting with = + - @ get a leading quote).
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from .schema import VOTE_COLUMNS
from .store import RatingsStore

FORMATS = ("jsonl", "csv")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def format_of(path: str | Path, fmt: str | None = None) -> str:
    fmt = (fmt or Path(path).suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"{path}: unknown export format {fmt!r}; use .jsonl or .csv (or --format)")
    return fmt


def _csv_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return "" if value is None else value


def write_rows(rows: list[dict], path: str | Path, fmt: str | None = None) -> Path:
    """Write rows atomically (a temp file renamed over the target)."""
    path = Path(path)
    fmt = format_of(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        if fmt == "jsonl":
            for row in rows:
                f.write(json.dumps({c: row.get(c) for c in VOTE_COLUMNS}, ensure_ascii=False) + "\n")
        else:
            writer = csv.writer(f)
            writer.writerow(VOTE_COLUMNS)
            for row in rows:
                writer.writerow([_csv_cell(row.get(c)) for c in VOTE_COLUMNS])
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def export_votes(store: RatingsStore, path: str | Path, fmt: str | None = None,
                 only_counted: bool = False) -> dict:
    """All votes (default), or only those the results count (blind votes of raters who passed
    their attention checks)."""
    rows = store.votes()
    if only_counted:
        from .stats import counted_votes
        rows = counted_votes(rows)
    out = write_rows(rows, path, fmt)
    return {"path": str(out), "format": format_of(out, fmt), "rows": len(rows)}


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a CSV export, typed back (numbers, None for empty cells)."""
    ints = {"swapped", "attention_failed"} | {c for c in VOTE_COLUMNS if c.rsplit("_", 1)[0] in
                                              ("plausibility", "faithfulness", "helpfulness")}
    floats = {"p_yes_a", "p_yes_b", "reading_s", "min_read_s"}
    nullable = {"ip_hash", "p_yes_a", "p_yes_b", "attention_failed"}
    out = []
    with Path(path).open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            if set(row) != set(VOTE_COLUMNS):
                raise ValueError(f"{path}:{n}: columns differ from a ratings export")
            typed = {}
            for key, value in row.items():
                if value == "" and key in nullable:
                    typed[key] = None
                elif key in ints:
                    typed[key] = int(value)
                elif key in floats:
                    typed[key] = float(value)
                else:
                    typed[key] = value[1:] if value.startswith("'") and value[1:2] in _FORMULA else value
            out.append(typed)
    return out
