"""One schema for every dataset: items, users and CTR samples.

Ids are strings everywhere (Amazon ids are ints in CSVs but keys in JSON), history is oldest
first, and a sample id `<dataset>:<split>:<key>` joins caches, teacher JSONL, eval reports and
ratings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # outputs.py imports this module
    from .outputs import AuthorsOutput, TeacherRationale

SPLITS = ("train", "valid", "test")


class DataError(ValueError):
    """Bad input data: the message names the file, the line (when there is one) and the problem."""

    def __init__(self, path, problem: str, line: int | None = None):
        self.path, self.line, self.problem = str(path), line, problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class Item:
    """A catalogue entry. `attributes` keeps text fields in display order
    (year, genres, brand, price, description, plot, ...); empty values are left out."""

    id: str
    title: str
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def description(self) -> str | None:
        return self.attributes.get("description")

    def text(self, with_description: bool = True) -> str:
        """One line of item text, as prompts and embeddings see it."""
        parts = [self.title]
        for key, value in self.attributes.items():
            if key == "description" and not with_description:
                continue
            parts.append(f"{key}: {value}")
        return "; ".join(parts)


@dataclass(frozen=True)
class User:
    id: str
    demographics: str = ""
    profile: str | None = None  # an LLM-written profile, when the dataset has one


@dataclass(frozen=True)
class HistoryEntry:
    item_id: str
    liked: bool


@dataclass(frozen=True)
class Sample:
    """Will `user_id`, who rated `history` (oldest first), like `target`? `label` is 1 or 0."""

    dataset: str
    split: str
    user_id: str
    history: tuple[HistoryEntry, ...]
    target: str
    label: int
    key: str = ""  # unique within (dataset, split); defaults to the user id

    @property
    def sample_id(self) -> str:
        return f"{self.dataset}:{self.split}:{self.key or self.user_id}"


@dataclass(frozen=True)
class Interaction:
    """A raw rating, for collaborative baselines. `timestamp` is None where the source has none."""

    user_id: str
    item_id: str
    rating: float
    timestamp: int | None = None


def _run_table():
    from .outputs import RunTable
    return RunTable()


@dataclass
class Dataset:
    name: str
    domain: str  # "movie" or "product": picks the prompt variant
    items: dict[str, Item]
    users: dict[str, User]
    splits: dict[str, list[Sample]]
    interactions: list[Interaction] = field(default_factory=list)
    # What the loader skipped or repaired on purpose, e.g. {"titles_cleaned": 14}.
    report: dict[str, int] = field(default_factory=dict)
    # The paper's released outputs (data/outputs.py attach_outputs): variant -> split -> key ->
    # TeacherRationale, and "<model>/<run>" (bare run names resolve too) -> key -> AuthorsOutput
    teacher: dict[str, dict[str, dict[str, "TeacherRationale"]]] = field(default_factory=dict)
    authors: dict[str, dict[str, "AuthorsOutput"]] = field(default_factory=lambda: _run_table())

    @property
    def main_teacher(self) -> str | None:
        """"mixtral-8x7b" when present, else the first variant in sorted order, else None."""
        from .outputs import MAIN_TEACHER
        if MAIN_TEACHER in self.teacher:
            return MAIN_TEACHER
        return min(self.teacher) if self.teacher else None

    def teacher_rationale(self, sample: Sample, variant: str | None = None
                          ) -> "TeacherRationale | None":
        """The teacher's rationale for `sample` (variant None: the main teacher); None when there
        is none. An unknown variant is a KeyError listing the variants."""
        variant = variant or self.main_teacher
        if variant is None:
            return None
        if variant not in self.teacher:
            raise KeyError(f"no teacher variant {variant!r} in {self.name}; variants: "
                           f"{', '.join(sorted(self.teacher)) or 'none'}")
        return self.teacher[variant].get(sample.split, {}).get(sample.key or sample.user_id)

    def authors_output(self, run: str, sample: Sample) -> "AuthorsOutput | None":
        """The authors' student's row for `sample` in `run` ("<model>/<run>" or the bare run
        name); None when the sample is not in their draw. An unknown run is a KeyError."""
        rows = self.authors[run]  # a RunTable: its KeyError lists the runs
        return rows.get(sample.key or sample.user_id) if sample.split == "test" else None

    def sample(self, split: str, key: str) -> Sample:
        """The sample of `split` whose key (usually the user id) is `key`; KeyError names both."""
        if split not in self.splits:
            raise KeyError(f"unknown split {split!r}; {self.name} has {sorted(self.splits)}")
        for s in self.splits[split]:
            if (s.key or s.user_id) == str(key):
                return s
        raise KeyError(f"no sample for user/key {key!r} in {self.name}:{split}")

    def item(self, item_id: str) -> Item:
        try:
            return self.items[str(item_id)]
        except KeyError:
            raise KeyError(f"unknown item id {item_id!r} in {self.name}") from None

    def stats(self) -> dict:
        """What `reasoningrec data stats --json` prints."""
        return {
            "dataset": self.name,
            "items": len(self.items),
            "users": len(self.users),
            "splits": {s: len(v) for s, v in self.splits.items()},
            "like_rate": {
                s: round(sum(x.label for x in v) / len(v), 4) if v else None
                for s, v in self.splits.items()
            },
            "skipped": dict(self.report),
            "teacher": {variant: {split: len(rows) for split, rows in splits.items()}
                        for variant, splits in self.teacher.items()},
            "authors": {run: len(rows) for run, rows in self.authors.items()},
        }
