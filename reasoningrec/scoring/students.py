"""Which student the app serves and the demo pool stores, per dataset, and how the page names it.

    from reasoningrec.scoring.students import resolve_student, student_for
    info = student_for("fashion")          # the dataset's default (scoring.registry.default_student),
                                           # with the card's Fashion decode settings
    info = resolve_student("student-evidence")
    info.spec, info.title, info.teacher, info.note, info.options, info.decode
    backend, decode = student_backend(info)  # its model; LLMScorer(backend, decode=decode)
    decoding.max_tokens(info.decode)       # its explanation length cap (160 unless its card says)
    student_version(info, max_tokens=160)  # "student 72feb8737fa1; max_tokens=160"

A shipped student (a short name of reasoningrec.scoring.registry.STUDENTS) is served with the prompt
options it learnt on; one whose adapter is missing falls back to the base SmolLM2 and the
note says so (`fallback=False`, as `load_scorer` asks: a FileNotFoundError instead). Any other
spec is served as given, with default prompt options and plain greedy decoding. A card's
"decode" (models/decoding.py: repetition penalties, max_tokens, the loop stop), with the served
dataset's entry of "decode_by_dataset" over it, is read here only; the scorer generates with
it (the model is shared). This is the one resolution of a student name: the app
(ui/service.py), the pool builder and `load_scorer` all call it, so they generate alike.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ..models.decoding import decode_settings, for_dataset, penalties
from .registry import STUDENTS, _read_meta, default_student, student_options, student_spec


@dataclass(frozen=True)
class StudentInfo:
    name: str                   # what was asked for: a short name or a model spec
    spec: str                   # the model spec that is loaded
    title: str                  # how the page names it
    teacher: str = ""           # whose rationales it learnt from ("" = not a distilled student)
    note: str = ""              # a warning for the page ("" = none)
    options: dict = field(default_factory=dict)   # PromptOptions fields it is served with
    decode: dict = field(default_factory=dict)    # decoding.decode_settings: penalties, max_tokens


def _card(name: str) -> dict:
    return _read_meta(STUDENTS[name]) if (STUDENTS[name] / "student.json").is_file() else {}


def _base_spec(spec: str, backend: str) -> str:
    """The base SmolLM2 for transformers is its GGUF dequantised (the one the students learnt on)."""
    if backend == "transformers" and spec == "smollm2":
        from ..models.registry import smollm2_gguf
        return f"hf:{smollm2_gguf()}"
    return spec


def resolve_student(name: str | None, backend: str = "llamacpp", fallback: bool = True,
                    dataset: str | None = None) -> StudentInfo:
    """`backend` "transformers" serves a shipped student through its PEFT adapter (ZeroGPU);
    `fallback`: a missing adapter gives the base SmolLM2 with a note (else FileNotFoundError);
    `dataset`: the one it serves, for its card's "decode_by_dataset" (None: "decode" alone)."""
    name = name or "student"
    if name not in STUDENTS:
        return StudentInfo(name, _base_spec(name, backend), name)
    card = _card(name)
    # how the page names it and who taught it: the card's "title" and "teacher" (training.ship)
    title = card.get("title") or f"ReasoningRec student {name!r}"
    teacher = card.get("teacher") or ""
    if isinstance(teacher, dict):   # a card may describe its teacher in detail
        teacher = str(teacher.get("model") or teacher.get("name") or "")
    try:
        decode = for_dataset(card.get("decode"), card.get("decode_by_dataset"), dataset,
                             str(STUDENTS[name] / "student.json"))
        return StudentInfo(name, student_spec(name, backend), title, teacher,
                           options=student_options(name), decode=decode)
    except FileNotFoundError:
        if not fallback:
            raise
        return StudentInfo(name, _base_spec("smollm2", backend), "SmolLM2-135M-Instruct (base)", "",
                           f"No distilled student adapter is shipped yet ({STUDENTS[name].name}/"
                           "adapter.gguf is missing), so the student here is the untuned base "
                           "SmolLM2-135M-Instruct: expect weak predictions and rambling "
                           "explanations.")


def student_backend(info: StudentInfo, overrides: dict | None = None,
                    concurrency: int | None = None):
    """The loaded model of `info` (one per spec and process, whatever the decode settings:
    LLMScorer(decode=...) passes them with each generation call) and the settings in effect,
    its own with `overrides` (e.g. eval's --repeat-penalty) over them; `concurrency`: requests
    in flight to an openai: server (load_scorer checks the spec is one).
    Returns (backend, decode settings)."""
    from ..models.loader import load_backend
    from ..models.registry import parse_spec
    decode = decode_settings({**info.decode, **(overrides or {})})
    sampler = penalties(decode)
    if sampler and parse_spec(info.spec).kind not in ("llamacpp", "hf"):
        raise ValueError(f"decode settings ({', '.join(sampler)}) apply to llama.cpp and "
                         f"transformers models, not {info.spec}")
    extra = {"max_concurrency": concurrency} if concurrency is not None else {}
    return load_backend(info.spec, **extra), decode


def student_for(dataset: str, name: str | None = None, backend: str = "llamacpp") -> StudentInfo:
    """`name` when given (the same student for every dataset), else the dataset's default."""
    return resolve_student(name or default_student(dataset), backend, dataset=dataset)


def model_version(spec: str, max_tokens: int, settings: str = "") -> str:
    """A short fingerprint of the model files a spec names (size + first MiB of each) and of
    the prompt settings, plus the generation length: a new adapter or setting gives a new
    version and new explanations."""
    from ..models.registry import expand_short_name
    resolved = expand_short_name(spec)
    digest = hashlib.sha256(f"{resolved.split(':', 1)[0]}|{settings}".encode())
    for part in resolved.split(":", 1)[-1].split("+"):
        path = Path(part)
        if path.is_file():
            digest.update(str(path.stat().st_size).encode())
            with path.open("rb") as f:
                digest.update(f.read(1 << 20))
        else:
            digest.update(part.encode())
    return f"{digest.hexdigest()[:12]}; max_tokens={max_tokens}"


def student_version(info: StudentInfo, max_tokens: int) -> str:
    """The name and fingerprint the pool stores with our student's texts, as served."""
    from ..models.decoding import describe
    from .options import PromptOptions
    # the length cap is model_version's own part; penalties and the loop stop change the text
    shaping = {k: v for k, v in info.decode.items() if k != "max_tokens"}
    settings = repr(PromptOptions(**info.options)) + (f"; {describe(shaping)}" if shaping else "")
    return f"{info.name} {model_version(info.spec, max_tokens, settings)}"
