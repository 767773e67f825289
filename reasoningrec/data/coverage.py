"""A split cut short at a line end parses cleanly; what can still be seen is checked here.

    from reasoningrec.data.coverage import check_coverage
    check_coverage(ds, strict=False)      # warns loudly on stderr; strict: DataError

In the paper's layouts (ML-1M ctr/ and the Amazon folders) every split holds one sample for
each of the same users. A split with fewer users than the others, beyond the rows the loader
skipped on purpose (counted in ds.report as ctr_*_skipped), is most likely a file cut short:
ML-1M test cut to 3,000 of 6,040 users makes `eval` score a different 1,500. The paper's
sample size being out of reach is checked where samples are drawn (evaluate/sampling.py).
"""
from __future__ import annotations

import logging

from .schema import DataError, Dataset

log = logging.getLogger(__name__)
SAME_USERS = ("ml1m",)          # plus every Amazon folder (the loader says so: domain product)


def check_coverage(ds: Dataset, strict: bool = False) -> list[str]:
    """The problems found (also logged as warnings); DataError with strict."""
    if ds.name not in SAME_USERS and ds.domain != "product":
        return []
    users = {split: {s.user_id for s in samples} for split, samples in ds.splits.items()}
    everyone = set().union(*users.values())
    allowed = sum(n for k, n in ds.report.items() if k.startswith("ctr_") and k.endswith("_skipped"))
    problems = []
    for split, have in users.items():
        missing = len(everyone - have)
        if missing > allowed:
            problems.append(
                f"{ds.name}: the {split} split has {len(have):,} users but the splits together "
                f"have {len(everyone):,} ({missing:,} missing, {allowed} rows skipped on "
                "purpose): every split should cover the same users, so its file is probably "
                "cut short; results on it are not the paper's")
    for problem in problems:
        if strict:
            raise DataError(ds.name, problem)
        log.warning("WARNING %s", problem)
    return problems
