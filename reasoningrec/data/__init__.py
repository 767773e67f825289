"""Datasets in one schema. `load_dataset(name, data_dir)` is the single entry point.

    ml1m      the paper's ML-1M protocol  (<data-dir>/reasoningrec/ml_1m/)
    ml1m-raw  the paper's split rebuilt from GroupLens ratings.dat (<data-dir>/movielens-1m/)
    ml100k    TALLRec's ML-100K protocol (<data-dir>/movielens-100k/: RecBole or u.data files)
    <other>   any folder <data-dir>/reasoningrec/<name>/ in the paper's Amazon layout
              (fashion, beauty, ...)

ml1m and the Amazon folders may also hold the paper's released teacher rationales and the
authors' student outputs (teacher/, authors_student/): outputs.py attaches them as ds.teacher
and ds.authors. predictions.py writes and reads our own runs' predictions.jsonl.
"""
from __future__ import annotations

from pathlib import Path

from ..cache import Cache
from ..config import resolve_data_dir
from .outputs import AuthorsOutput, TeacherRationale, teacher_text_without_prediction
from .schema import SPLITS, DataError, Dataset, HistoryEntry, Interaction, Item, Sample, User

__all__ = ["SPLITS", "AuthorsOutput", "DataError", "Dataset", "HistoryEntry", "Interaction",
           "Item", "Sample", "TeacherRationale", "User", "available_datasets", "load_dataset",
           "teacher_text_without_prediction"]

_DATASETS = Cache("data: loaded datasets by (name, folder, strict)")


def available_datasets(data_dir: str | Path | None = None) -> list[str]:
    """Names that `load_dataset` accepts for this data directory."""
    root = resolve_data_dir(data_dir)
    names = ["ml1m", "ml1m-raw", "ml100k"]
    amazon_root = root / "reasoningrec"
    if amazon_root.is_dir():
        names += sorted(p.name for p in amazon_root.iterdir()
                        if p.is_dir() and (p / "ctr").is_dir() and p.name != "ml_1m")
    return names


def load_dataset(name: str, data_dir: str | Path | None = None, *, cache: bool = True,
                 strict: bool = False) -> Dataset:
    """Load a dataset by name from `data_dir` (default: $REASONINGREC_DATA_DIR, then ./data).
    strict: rows a loader would repair or skip (and count under `skipped`) are errors."""
    root = resolve_data_dir(data_dir)
    if not cache:
        return _load(name, root, strict)
    return _DATASETS.get(None, lambda: _load(name, root, strict),
                         key=(name, str(root.resolve()), strict))


def _load(name: str, root: Path, strict: bool) -> Dataset:
    if not root.is_dir():
        raise DataError(root, "data directory does not exist (pass --data-dir or set "
                              "REASONINGREC_DATA_DIR)")
    if name == "ml1m":
        from .movielens import load_ml1m
        ds = load_ml1m(root)
    elif name == "ml1m-raw":
        from .splits import load_ml1m_raw
        ds = load_ml1m_raw(root)
    elif name == "ml100k":
        from .movielens import load_ml100k
        ds = load_ml100k(root)
    else:
        folder = root / "reasoningrec" / name
        if not folder.is_dir():
            raise DataError(folder, f"unknown dataset {name!r}: expected one of "
                                    f"{available_datasets(root)}")
        from .amazon import load_amazon
        ds = load_amazon(folder, name, strict)
    from .coverage import check_coverage
    check_coverage(ds, strict)          # a split cut short: loud on stderr, an error if strict
    return ds
