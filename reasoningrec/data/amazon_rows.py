"""The two row faults real Amazon ctr files have, repaired or skipped (and counted), or, with
strict, refused: the rule for each in one place.

    from reasoningrec.data.amazon_rows import RowFaults
    faults = RowFaults(path, rated={(user, item): rating}, items=items, strict=False)
    history, liked = faults.check(line, user, history, liked, target)   # None: skip the row
    faults.count_into(report); faults.warn()                  # data stats 'skipped'; stderr

1. `history_rating` one shorter than `history_item_id` (an item with no rating): when exactly
   one history item has no rating by this user in ratings.csv and every other item's label
   agrees with its rating (liked = rating > 3, the paper's Amazon rule), that item is dropped
   (`ctr_history_repaired`); otherwise the row is skipped (`ctr_history_mismatch_skipped`).
2. A target item in neither the item file nor ratings.csv: the row is skipped
   (`ctr_unknown_target_skipped`).
Any other fault stays an error naming file and line. strict=True: these are errors too.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path

from .schema import DataError

LIKE_ABOVE = 3.0          # Amazon labels in the paper's ctr files: liked = rating > 3
KINDS = {"ctr_history_repaired": "history_rating one shorter: the unrated history item dropped",
         "ctr_history_mismatch_skipped": "history_rating and history_item_id differ in length "
                                         "and no single unrated item explains it: row skipped",
         "ctr_unknown_target_skipped": "target item in neither the item file nor the ratings: "
                                       "row skipped"}
log = logging.getLogger(__name__)


class RowFaults:
    def __init__(self, path: Path, rated: dict[tuple[str, str], float], items, strict: bool):
        self.path, self.rated, self.items, self.strict = path, rated, items, strict
        self.rated_items = {i for (_, i) in rated}
        self.lines: dict[str, list[int]] = defaultdict(list)

    def _fault(self, kind: str, line: int, detail: str) -> None:
        if self.strict:
            raise DataError(self.path, f"{detail} ({KINDS[kind]} without --strict)", line)
        self.lines[kind].append(line)

    def check(self, line: int, user: str, history: list[str], liked: list[str], target: str):
        """(history, liked) to load, repaired if need be; None when the row is skipped."""
        if target not in self.items and target not in self.rated_items:
            self._fault("ctr_unknown_target_skipped", line,
                        f"unknown item id {target!r} (the target; in neither file)")
            return None
        if len(history) == len(liked):
            return history, liked
        detail = f"{len(history)} history items but {len(liked)} history ratings"
        if len(history) == len(liked) + 1:
            unrated = [j for j, item in enumerate(history) if (user, item) not in self.rated]
            if len(unrated) == 1:
                kept = history[:unrated[0]] + history[unrated[0] + 1:]
                agree = all((self.rated[(user, item)] > LIKE_ABOVE) == (label.strip() in ("1", "1.0"))
                            for item, label in zip(kept, liked))
                if agree:
                    if self.strict:
                        raise DataError(self.path, f"{detail} ({KINDS['ctr_history_repaired']} "
                                                   "without --strict)", line)
                    self.lines["ctr_history_repaired"].append(line)
                    return kept, liked
        self._fault("ctr_history_mismatch_skipped", line, detail)
        return None

    def count_into(self, report) -> None:
        for kind, lines in self.lines.items():
            report[kind] += len(lines)

    def warn(self) -> None:
        for kind, lines in self.lines.items():
            first = ", ".join(map(str, lines[:5]))
            log.warning("%s: %d row(s): %s; first on line(s) %s (--strict refuses them)",
                        self.path, len(lines), KINDS[kind], first)
