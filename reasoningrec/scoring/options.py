"""Prompt options: the paper's ablations and the history choices, in one dataclass.

    from reasoningrec.scoring.options import PromptOptions
    opts = PromptOptions(with_profile=False, history_k=10, history_mode="relevant")

eval, predict, rank, teach, the training recipes and the app all read these fields.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PromptOptions:
    """The paper's ablations and history choices, shared by eval, teach and the app."""

    with_profile: bool = True
    with_description: bool = True
    history_k: int | None = None      # None: the whole history (then fitted to the budget)
    history_mode: str = "recent"      # recent | relevant (MiniLM retrieval)
    reasoning: bool = True            # False: student_direct, a bare Yes/No (the paper's ablation)
    evidence: bool = False            # True: + collaborative evidence (evidence.py; ours)

    def __post_init__(self):
        if self.history_mode not in ("recent", "relevant"):
            raise ValueError(f"history mode must be 'recent' or 'relevant', got {self.history_mode!r}")
        if self.history_k is not None and self.history_k < 1:
            raise ValueError(f"history k must be >= 1, got {self.history_k}")
