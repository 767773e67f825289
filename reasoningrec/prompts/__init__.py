"""Versioned prompts (teacher CoT, student, zero-shot, TALLRec, user profile, item description)
built from the schema objects, plus a token-budget fitter.

    from reasoningrec.data import load_dataset
    from reasoningrec.prompts import build, fit_history, get_template, student_completion
    ds = load_dataset("ml1m", data_dir)
    sample = ds.sample("test", "1")
    p = build("student", ds, sample, with_description=False)
    p.template            # "student/v1": record it next to whatever you produce
    p.chat()              # chat messages, backend-free
    p.text(tokenizer)     # final string through the tokenizer's chat template, ends "Prediction:"
    student_completion(1, "The user likes ...")   # " Yes\\nReasoning: The user likes ..."

Modules: text.py (caps, item lines, Prompt), templates.py (the templates and their sources),
budget.py (fit_history).
"""
from .budget import Fitted, fit_history
from .templates import (PROFILE_HISTORY, STUDENT_ANSWERS, STUDENT_PREFIX, TEMPLATES,
                        TURN_START_ANSWERS, build, get_template, item_description_v1,
                        parse_student_output, student_completion)
from .text import FIELD_LIMITS, TRUNCATION_MARK, Prompt, cap_text, item_line

__all__ = ["FIELD_LIMITS", "Fitted", "PROFILE_HISTORY", "Prompt", "STUDENT_ANSWERS",
           "STUDENT_PREFIX", "TEMPLATES", "TRUNCATION_MARK", "TURN_START_ANSWERS", "build",
           "cap_text", "fit_history", "get_template", "item_description_v1", "item_line",
           "parse_student_output", "student_completion"]
