"""What the app's events share: the demo pool, the one student model and the optional live
teacher. Built once per process (app.py) and handed to the tabs and the API.

    service = AppService.start()                   # default student, assets/demo_pool
    AppService.start(student="student-evidence")   # the hybrid student (pool evidence in prompts)
    service.student_name, service.student_note     # what the UI says about the model
    for kind, value in service.explainer.stream(req.ds, req.sample, max_tokens=80): ...
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path

from ..config import teacher_spec
from ..demo_pool import POOL_DIR, DemoPool
from ..live import LiveExplainer
from ..models.loader import load_backend
from ..predict import PromptOptions
from ..scorers import STUDENTS, student_options, student_spec

log = logging.getLogger(__name__)


NAMES = {"student": "ReasoningRec student (SmolLM2-135M + LoRA)",
         "student-evidence": "ReasoningRec hybrid student (SmolLM2-135M + LoRA, reads "
                             "collaborative evidence)"}


def resolve_student(spec: str | None) -> tuple[str, str, str]:
    """(model spec, short name, note for the UI). A shipped student (the default one when
    `spec` is empty), else the base SmolLM2 (and the note says so)."""
    name = spec or "student"
    if name in STUDENTS:
        try:
            return student_spec(name), NAMES[name], ""
        except FileNotFoundError:
            return ("smollm2", "SmolLM2-135M-Instruct (base)",
                    f"No distilled student adapter is shipped yet ({STUDENTS[name].name}/"
                    "adapter.gguf is missing), so the student here is the untuned base "
                    "SmolLM2-135M-Instruct: expect weak predictions and rambling explanations.")
    return spec, spec, ""


class AppService:
    def __init__(self, pool: DemoPool, student: str | None = None, max_new_tokens: int = 160,
                 teacher: str | None = None):
        self.pool = pool
        self.student_spec, self.student_name, self.student_note = resolve_student(student)
        name = student or "student"
        # a shipped student is served with the prompt options it learnt on; one that reads
        # evidence gets the pool's precomputed figures (the app has no training ratings)
        options = PromptOptions(**student_options(name)) if name in STUDENTS else None
        self.explainer = LiveExplainer(load_backend(self.student_spec), options=options,
                                       max_new_tokens=max_new_tokens,
                                       evidence_source=pool.evidence_for)
        self.max_new_tokens = max_new_tokens
        self.teacher_spec = teacher
        self._teacher: LiveExplainer | None = None
        self._teacher_lock = threading.Lock()

    @classmethod
    def start(cls, pool_dir: str | Path = POOL_DIR, student: str | None = None,
              max_new_tokens: int = 160) -> "AppService":
        return cls(DemoPool.load(pool_dir), student, max_new_tokens, teacher_spec())

    def teacher(self) -> LiveExplainer | None:
        """The live teacher (REASONINGREC_TEACHER), loaded on first use; None when unset.
        It answers with the student prompt: for an edited input nobody knows the answer."""
        if not self.teacher_spec:
            return None
        with self._teacher_lock:
            if self._teacher is None:
                self._teacher = LiveExplainer(load_backend(self.teacher_spec, check=False),
                                              max_new_tokens=self.max_new_tokens)
            return self._teacher

    def warm_default(self) -> None:
        """Cache the first pool user's prompt (a background thread at startup)."""
        name = next(iter(self.pool.users))
        user = self.pool.users[name][0]
        try:
            info = self.explainer.warm(self.pool.datasets[name], user.sample)
            log.info("warmed %s user %s: %s", name, user.user_id, info)
        except Exception:  # the app works without it, only the first run is slower
            log.exception("warming the default user failed")
