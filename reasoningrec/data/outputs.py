"""The paper's released experiment outputs, attached to any dataset folder by one helper.

    from reasoningrec.data import load_dataset
    ds = load_dataset("fashion", "../shared/data")
    ds.teacher_rationale(ds.splits["test"][0]).text        # Mixtral's rationale, or None
    ds.authors_output("sample64_valsample800_lr1e-4_valauc", sample).p_yes

Folder layout (both parts optional; read by `attach_outputs(ds, folder)`, which every loader
with such a folder calls):
    teacher/<variant>/<split>.jsonl                 {"user", "label", "rationale"} per line
    authors_student/<model>/<run>/test_outputs.jsonl
        {"user", "label", "p_yes", "student_output", "teacher_output"} per line (test split)

`user` is the ctr CSV `user` column (= Sample.key or Sample.user_id). A row whose key is not in
the split, whose label disagrees with the CSV, a repeated key, a malformed line or a missing
field is a DataError naming the file and line.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .readers import read_text
from .schema import SPLITS, DataError, Dataset

TEACHER_DIR = "teacher"
AUTHORS_DIR = "authors_student"
AUTHORS_FILE = "test_outputs.jsonl"
MAIN_TEACHER = "mixtral-8x7b"
# "Prediction: Yes", "# Prediction: No.", "**Prediction:** Yes" (the teachers' answer line)
_PREDICTION = re.compile(r"[#*\s]*\bPrediction\s*:\s*\**\s*(Yes|No)\b\.?", re.IGNORECASE)
# what may precede the authors' student's leading prediction: up to 8 characters ("1. ",
# "nap 1. "), a few words without a sentence end ("Answer:"), or one line closed by a colon or
# a blank line ("Sure, I can help you with that!\n\n")
_LEADING_PREDICTION = re.compile(r"^(?:.{0,8}|[^\n.!?]{0,20}|[^\n]{0,40}(?:\n[ \t]*\n|:[ \t]*\n)"
                                 r"\s*)Prediction\s*:\s*\**\s*(Yes|No)\b", re.IGNORECASE)
_LEADING_ANSWER = re.compile(r"^[#*\s]{0,4}(Yes|No)\b[ \t]*(?=\n)", re.IGNORECASE)


@dataclass(frozen=True)
class TeacherRationale:
    """One row of <folder>/teacher/<variant>/<split>.jsonl."""

    variant: str   # e.g. "mixtral-8x7b", "mixtral-8x7b-wo_profile"
    split: str
    key: str       # the CSV `user` column = Sample.key or Sample.user_id
    label: int
    text: str      # the rationale as released (contains "Prediction: Yes/No")


@dataclass(frozen=True)
class AuthorsOutput:
    """One row of <folder>/authors_student/<model>/<run>/test_outputs.jsonl."""

    model: str          # e.g. "llama2-7b-chat"
    run: str            # e.g. "sample64_valsample800_lr1e-4_valauc"
    key: str
    label: int
    p_yes: float
    explanation: str    # `student_output`: the authors' student's generated text
    teacher_output: str


class RunTable(dict):
    """{"<model>/<run>": {key: AuthorsOutput}} where the bare run name also resolves (when one
    model has it); iterating lists each run once, by its full name."""

    def resolve(self, run: str) -> str:
        """The full "<model>/<run>" name for `run`; KeyError lists what there is."""
        if dict.__contains__(self, run):
            return run
        full = [name for name in self if name.split("/", 1)[-1] == run]
        if len(full) == 1:
            return full[0]
        if full:
            raise KeyError(f"run {run!r} is ambiguous: {', '.join(full)}")
        raise KeyError(f"no authors' run {run!r}; runs: {', '.join(self) or 'none'}")

    def __missing__(self, run):
        return dict.__getitem__(self, self.resolve(run))

    def __contains__(self, run) -> bool:
        try:
            self.resolve(run)
            return True
        except KeyError:
            return False

    def get(self, run, default=None):
        return self[run] if run in self else default


def teacher_text_without_prediction(text: str) -> str:
    """The rationale with its "Prediction: Yes/No" line or phrase removed (the label the teacher
    was told), blank lines collapsed: what a reader or a similarity metric should see."""
    cleaned = _PREDICTION.sub("\n", text)
    cleaned = re.sub(r"[ \t]+\n", "\n", cleaned)
    return re.sub(r"\n{3,}", "\n\n", cleaned).strip()


def authors_explanation(student_output: str) -> str:
    """The authors' student text without its leading answer: "Prediction: Yes/No" (with what
    their model put before it: a few characters such as "1 ", or a chat preamble line such as
    "Sure, I can help you with that!") or a bare leading "Yes"/"No" line; also the stray "n" of
    their "\\nn1." line breaks. An answer later in the text is kept."""
    text = _LEADING_PREDICTION.sub("", student_output, count=1)
    if text == student_output:
        text = _LEADING_ANSWER.sub("", student_output, count=1)
    text = text.lstrip(" \t\n,.:;#*-")
    return re.sub(r"^n(?=\d+\.)", "", text).strip()


def _rows(path: Path, fields: dict[str, tuple[type, ...]]):
    """(line_no, row) for each non-blank JSON line of `path`, with `fields` present and typed."""
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(path, f"invalid JSON: {err.msg} (column {err.colno})",
                            line_no) from None
        if not isinstance(row, dict):
            raise DataError(path, f"expected a JSON object, got {type(row).__name__}", line_no)
        missing = [f for f in fields if f not in row]
        if missing:
            raise DataError(path, f"missing field(s) {missing}", line_no)
        for name, kinds in fields.items():
            value = row[name]
            if isinstance(value, bool) or not isinstance(value, kinds):
                raise DataError(path, f"field {name!r} must be "
                                      f"{' or '.join(k.__name__ for k in kinds)}, got "
                                      f"{type(value).__name__}", line_no)
        yield line_no, row


def _keyed(path: Path, line_no: int, row: dict, labels: dict[str, int], split: str,
           seen: dict[str, int]) -> tuple[str, int]:
    """The row's key and label, checked against the split's CSV labels."""
    key = str(row["user"]).strip()
    if key not in labels:
        raise DataError(path, f"user {key!r} has no sample in the {split} split's CSV", line_no)
    if key in seen:
        raise DataError(path, f"user {key!r} appears twice (first on line {seen[key]})", line_no)
    seen[key] = line_no
    label = row["label"]
    if label not in (0, 1):
        raise DataError(path, f"label must be 0 or 1, got {label!r}", line_no)
    if label != labels[key]:
        raise DataError(path, f"user {key!r} has label {label} but the {split} CSV says "
                              f"{labels[key]}", line_no)
    return key, int(label)


def _labels(ds: Dataset, split: str) -> dict[str, int]:
    return {(s.key or s.user_id): s.label for s in ds.splits.get(split, [])}


def read_teacher(ds: Dataset, folder: Path) -> dict[str, dict[str, dict[str, TeacherRationale]]]:
    """variant -> split -> key -> TeacherRationale from <folder>/teacher/."""
    root = folder / TEACHER_DIR
    teacher: dict[str, dict[str, dict[str, TeacherRationale]]] = {}
    if not root.is_dir():
        return teacher
    fields = {"user": (str, int), "label": (int,), "rationale": (str,)}
    for variant_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        variant = variant_dir.name
        order = {split: i for i, split in enumerate(SPLITS)}  # train, valid, test
        for path in sorted(variant_dir.glob("*.jsonl"), key=lambda p: (order.get(p.stem, 9),
                                                                         p.name)):
            split = path.stem
            if split not in SPLITS:
                raise DataError(path, f"unknown split {split!r}: name the file "
                                      f"{'/'.join(SPLITS)}.jsonl")
            labels, seen, rows = _labels(ds, split), {}, {}
            for line_no, row in _rows(path, fields):
                key, label = _keyed(path, line_no, row, labels, split, seen)
                rows[key] = TeacherRationale(variant, split, key, label, row["rationale"])
            teacher.setdefault(variant, {})[split] = rows
    return teacher


def read_authors(ds: Dataset, folder: Path) -> RunTable:
    """"<model>/<run>" -> key -> AuthorsOutput from <folder>/authors_student/ (test split)."""
    root = folder / AUTHORS_DIR
    runs = RunTable()
    if not root.is_dir():
        return runs
    fields = {"user": (str, int), "label": (int,), "p_yes": (int, float),
              "student_output": (str,), "teacher_output": (str,)}
    labels = _labels(ds, "test")
    for path in sorted(root.glob(f"*/*/{AUTHORS_FILE}")):
        model, run = path.parent.parent.name, path.parent.name
        seen, rows = {}, {}
        for line_no, row in _rows(path, fields):
            key, label = _keyed(path, line_no, row, labels, "test", seen)
            p_yes = float(row["p_yes"])
            if not (math.isfinite(p_yes) and 0.0 <= p_yes <= 1.0):
                raise DataError(path, f"p_yes must be a number in [0, 1], got {row['p_yes']!r}",
                                line_no)
            rows[key] = AuthorsOutput(model, run, key, label, p_yes, row["student_output"],
                                      row["teacher_output"])
        runs[f"{model}/{run}"] = rows
    return runs


def attach_outputs(ds: Dataset, folder: str | Path) -> Dataset:
    """Fill ds.teacher and ds.authors from `folder` (the dataset's own folder); returns ds."""
    folder = Path(folder)
    ds.teacher = read_teacher(ds, folder)
    ds.authors = read_authors(ds, folder)
    bare = sum(not teacher_text_without_prediction(r.text) for splits in ds.teacher.values()
               for rows in splits.values() for r in rows.values())
    if bare:  # kept as released (Fashion wo_profile test has 2), but said
        ds.report["teacher_rationales_only_prediction"] = bare
    return ds
