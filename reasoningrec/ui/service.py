"""What the app's events share: the demo pool, the student model of each dataset and the
optional live teacher. Built once per process (app.py) and handed to the tabs and the API.

    service = AppService.start()                   # each dataset's default student, assets/demo_pool
    AppService.start(student="student-evidence")   # one student for every dataset
    AppService(pool, student={"ml1m": "student"})  # per dataset (the rest: their defaults)
    student = service.student("fashion")           # .info (StudentInfo: title, teacher, note)
    for kind, value in student.explainer.stream(req.ds, req.sample, max_tokens=80): ...

Each dataset is served its default student (scoring.registry.default_student), unless one student is
asked for; datasets with the same student share one loaded model. Each student writes up to
its card's max_tokens (models/decoding.py; 160 unless set) unless `max_new_tokens` caps them
all. The backend is llama.cpp, or transformers inside @spaces.GPU on a ZeroGPU Space
(reasoningrec/zerogpu.py; `AppService.start(backend="transformers")` forces it). The Rate tab
uses no model at all: it shows the texts the pool builder stored.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from ..config import teacher_spec
from ..demo_pool import POOL_DIR, DemoPool
from ..models.decoding import MAX_TOKENS, max_tokens
from ..models.loader import load_backend
from ..scoring.live import LiveExplainer
from ..scoring.options import PromptOptions
from ..scoring.students import StudentInfo, student_backend, student_for, student_version
from ..zerogpu import GPUExplainer, serving_backend

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedStudent:
    info: StudentInfo
    explainer: LiveExplainer

    @property
    def title(self) -> str:
        return self.info.title


class AppService:
    def __init__(self, pool: DemoPool, student: str | dict[str, str] | None = None,
                 max_new_tokens: int | None = None,
                 teacher: str | None = None, backend: str = "llamacpp"):
        self.pool = pool
        self.max_new_tokens = max_new_tokens
        self.backend = backend
        self.students: dict[str, ServedStudent] = {}
        loaded: dict[tuple, ServedStudent] = {}
        for dataset in pool.users:
            name = student.get(dataset) if isinstance(student, dict) else student
            info = student_for(dataset, name, backend)
            cap = max_new_tokens or max_tokens(info.decode)
            key = (info.spec, repr(sorted(info.options.items())), repr(sorted(info.decode.items())))
            if key not in loaded:
                # a shipped student is served with the prompt options it learnt on; one that
                # reads evidence gets the pool's precomputed figures (no training ratings here)
                options = PromptOptions(**info.options) if info.options else None
                explainer = LiveExplainer(
                    student_backend(info)[0], options=options, max_new_tokens=cap,
                    evidence_source=pool.evidence_for, decode=info.decode)
                if backend == "transformers":     # each model call inside @spaces.GPU
                    explainer = GPUExplainer(explainer)
                loaded[key] = ServedStudent(info, explainer)
            self.students[dataset] = loaded[key]
            stored = pool.systems.get(dataset, {}).get("student")
            # the texts a llama.cpp student stored: the same student through transformers too
            served = student_version(student_for(dataset, name) if backend != "llamacpp"
                                     else info, cap)
            if stored and stored.version != served:
                log.warning("%s: the app serves %s but the pool's stored texts are from %s: "
                            "rebuild the pool (scripts/build_demo_pool.py)", dataset, served,
                            stored.version)
        self.teacher_spec = teacher
        self._teacher: LiveExplainer | None = None
        self._teacher_lock = threading.Lock()

    @classmethod
    def start(cls, pool_dir: str | Path = POOL_DIR, student: str | None = None,
              max_new_tokens: int | None = None, backend: str = "auto") -> "AppService":
        return cls(DemoPool.load(pool_dir), student, max_new_tokens, teacher_spec(),
                   serving_backend(backend))

    def student(self, dataset: str) -> ServedStudent:
        return self.students[dataset]

    # the first dataset's student, for callers that serve one dataset (benchmarks, tests)
    @property
    def explainer(self) -> LiveExplainer:
        return next(iter(self.students.values())).explainer

    @property
    def student_name(self) -> str:
        return next(iter(self.students.values())).title

    def teacher(self) -> LiveExplainer | None:
        """The live teacher (REASONINGREC_TEACHER), loaded on first use; None when unset.
        It answers with the student prompt: for an edited input nobody knows the answer."""
        if not self.teacher_spec:
            return None
        with self._teacher_lock:
            if self._teacher is None:
                self._teacher = LiveExplainer(load_backend(self.teacher_spec, check=False),
                                              max_new_tokens=self.max_new_tokens or MAX_TOKENS)
            return self._teacher

    def warm_default(self) -> None:
        """Cache the first pool user's prompt (a background thread at startup)."""
        name = next(iter(self.pool.users))
        user = self.pool.users[name][0]
        try:
            info = self.student(name).explainer.warm(self.pool.datasets[name], user.sample)
            log.info("warmed %s user %s: %s", name, user.user_id, info)
        except Exception:  # the app works without it, only the first run is slower
            log.exception("warming the default user failed")
