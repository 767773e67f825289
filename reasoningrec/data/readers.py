"""Small parsing helpers shared by the loaders. Every problem raises DataError(path, problem, line).

    from reasoningrec.data.readers import read_csv_rows, read_dat, parse_id_list, read_json
    for line_no, row in read_csv_rows(path, ["user", "item_id"]): ...
    for line_no, fields in read_dat(path, 3, encoding="latin-1"): ...

Line numbers are 1-based physical lines of the file (a CSV header is line 1), so an error
message can be pasted into an editor's "go to line".
"""
from __future__ import annotations

import csv
import functools
import gc
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from .schema import DataError

# Typical marks of UTF-8 text decoded as latin-1 ("MisÃ©rables"): a lead byte Ã/Â/Ä/Å/Ð followed
# by a continuation byte 0x80-0xBF. Real latin-1 titles almost never contain these pairs.
_MOJIBAKE = re.compile("[\u00c2-\u00c5\u00d0-\u00d3][\u0080-\u00bf]")


def gc_paused(load):
    """Decorator: no garbage collection while a loader builds millions of small objects (they
    hold no reference cycles; CPython's collector otherwise rescans them, 3-5x slower)."""
    @functools.wraps(load)
    def wrapper(*args, **kwargs):
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return load(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()
    return wrapper


def require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found" if not path.exists() else "not a regular file")
    return path


def read_text(path: str | Path, encoding: str = "utf-8", hint: str = "") -> str:
    """The whole file decoded; a decoding error names the line and the byte that failed."""
    path = require_file(path)
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        bad = data[err.start:err.start + 1].hex()
        raise DataError(path, f"not valid {encoding} (byte 0x{bad}){'; ' + hint if hint else ''}",
                        line) from None
    if encoding.lower().replace("-", "").replace("_", "") in ("latin1", "iso88591"):
        match = _MOJIBAKE.search(text)
        if match:  # latin-1 decodes anything, so catch a file that was re-saved as UTF-8
            line = text.count("\n", 0, match.start()) + 1
            raise DataError(path, f"looks UTF-8 encoded ({match.group()!r} is UTF-8 read as "
                                  f"latin-1) but this file must be {encoding}"
                                  f"{'; ' + hint if hint else ''}", line)
    return text


def read_dat(path: str | Path, n_fields: int | None, encoding: str = "utf-8", sep: str = "::",
             hint: str = "", last_field_absorbs: bool = False) -> Iterator[tuple[int, list[str]]]:
    """(line_no, fields) for each non-blank line of a `sep`-separated file (GroupLens .dat,
    u.data with sep="\\t", u.item with sep="|"). A line with another field count is an error,
    unless `last_field_absorbs`: then extra separators belong to the last field (free text).
    n_fields=None takes the count from the first line (a header)."""
    text = read_text(path, encoding, hint)
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if n_fields is None:
            n_fields = len(line.split(sep))
        fields = line.split(sep, n_fields - 1) if last_field_absorbs else line.split(sep)
        if len(fields) != n_fields:
            raise DataError(path, f"expected {n_fields} {sep!r}-separated fields, found "
                                  f"{len(fields)}: {line[:80]!r}", line_no)
        yield line_no, fields


def read_csv_rows(path: str | Path, required_columns: Sequence[str], encoding: str = "utf-8",
                  delimiter: str = ",") -> Iterator[tuple[int, dict[str, str]]]:
    """(line_no, row) for each CSV record; the header must hold every required column and each
    record must have as many cells as the header. line_no is where the record starts."""
    text = read_text(path, encoding)
    lines = text.splitlines(keepends=True)
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DataError(path, "empty file: no header row", 1) from None
    except csv.Error as err:
        raise DataError(path, f"malformed CSV header: {err}", 1) from None
    missing = [c for c in required_columns if c not in header]
    if missing:
        raise DataError(path, f"missing column(s) {missing}; header is {header}", 1)
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise DataError(path, f"malformed CSV: {err}", start) from None
        if cells:
            if len(cells) != len(header):
                raise DataError(path, f"expected {len(header)} cells (as the header), found "
                                      f"{len(cells)}", start)
            yield start, dict(zip(header, cells))
        start = reader.line_num + 1


def parse_id_list(cell: str, path: str | Path, line: int | None, column: str = "") -> list[str]:
    """'[1, 2, 3]' -> ['1', '2', '3']; ids stay strings. '[]' is an empty list."""
    text = cell.strip()
    where = f"column {column!r}: " if column else ""
    if not (text.startswith("[") and text.endswith("]")):
        raise DataError(path, f"{where}expected a list like '[1, 2, 3]', got {cell[:60]!r}", line)
    inner = text[1:-1].strip()
    if not inner:
        return []
    ids = [part.strip().strip("'\"") for part in inner.split(",")]
    if any(not i for i in ids):
        raise DataError(path, f"{where}empty element in list {cell[:60]!r}", line)
    return ids


def parse_int(value: str, path: str | Path, line: int | None, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise DataError(path, f"{what} must be an integer, got {value[:40]!r}", line) from None


def parse_float(value: str, path: str | Path, line: int | None, what: str) -> float:
    try:
        return float(value.strip())
    except ValueError:
        raise DataError(path, f"{what} must be a number, got {value[:40]!r}", line) from None


def read_json(path: str | Path, encoding: str = "utf-8"):
    """The parsed JSON document; a syntax error names its line."""
    text = read_text(path, encoding)
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(path, f"invalid JSON: {err.msg} (column {err.colno})", err.lineno) from None
