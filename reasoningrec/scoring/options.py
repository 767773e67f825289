"""Prompt options: the paper's ablations and the history choices, in one dataclass, the one
source of their CLI flags, training-recipe keys, help texts and validation.

    from reasoningrec.scoring.options import PromptOptions, add_prompt_args, prompt_options
    opts = PromptOptions(with_profile=False, history_k=10, history_mode="relevant")
    add_prompt_args(parser)               # --no-profile ... --evidence on any argparse parser
    opts = prompt_options(parser.parse_args())

Each field is declared with `option(...)`: its help text, its flag (a bool that defaults to True
gets a `--no-...` flag, one that defaults to False a plain switch), its choices or minimum. eval,
predict, rank and training.teach add the flags with `add_prompt_args`; training/config.py's
TrainConfig inherits the fields, so a recipe key (`history_k: 10`, `--history_k 10`) is the field
name. tests/test_options.py fails when a field lacks a flag on any of them.
"""
from __future__ import annotations

import argparse
import dataclasses
import typing
from dataclasses import dataclass


def option(default, help: str, *, flag: str, flag_help: str | None = None,
           choices: tuple | None = None, minimum: int | None = None, metavar: str | None = None):
    """A prompt-option field: `help` describes the field (recipes, `training.sft --help`);
    `flag_help` the flag where it reads otherwise (a `--no-...` flag turns the field off)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "flag": flag, "flag_help": flag_help or help, "choices": choices,
        "minimum": minimum, "metavar": metavar})


@dataclass
class PromptOptions:
    """The paper's ablations and history choices, shared by eval, teach, training and the app."""

    with_profile: bool = option(
        True, "show the user profile in the prompt", flag="--no-profile",
        flag_help="leave the user profile out of the prompt (the paper's 'w/o profile' ablation)")
    with_description: bool = option(
        True, "show item descriptions in the prompt", flag="--no-description",
        flag_help="leave item descriptions out of the prompt (the paper's 'w/o description' "
                  "ablation)")
    history_k: int | None = option(
        None, "show at most K history items (none: all, oldest dropped to fit the token "
              "budget)", flag="--history-k", minimum=1, metavar="K")
    history_mode: str = option(
        "recent", "which K items: the most recent, or the most relevant to the candidate by "
                  "MiniLM similarity", flag="--history", choices=("recent", "relevant"))
    reasoning: bool = option(
        True, "ask for reasoning before the Yes/No (template student/v1); false: the paper's "
              "'w/o reasoning' ablation, template student_direct (training: completion ' Yes'/"
              "' No' only; teacher_jsonl then only picks the samples)", flag="--no-reasoning",
        flag_help="direct Yes/No (TALLRec-style): the student prompt without the request for "
                  "reasoning (template student_direct), no rationale")
    evidence: bool = option(
        False, "add collaborative evidence to the prompt (item like-rate, similar users, MF "
               "estimate; training ratings only; reasoningrec/scoring/evidence.py; ours, not "
               "the paper's)", flag="--evidence")
    candidate_last: bool = option(
        False, "name the candidate (and its evidence) last, in the answer's first line "
               "(\"Prediction for the target movie - Heat (1995; Action, Crime, Thriller): Yes\"), "
               "after the request, instead of between the history and the request (ours, not "
               "the paper's: a user's candidates then share all but ~15 tokens, so ranking "
               "many evaluates ~6x fewer; a student must be trained with it; llama.cpp and "
               "transformers only)",
        flag="--candidate-last")

    def __post_init__(self):
        for f in dataclasses.fields(PromptOptions):
            problem = check(f, getattr(self, f.name))
            if problem:
                raise ValueError(f"{f.name}: {problem}")


FIELDS = {f.name: f for f in dataclasses.fields(PromptOptions)}
_TYPES = typing.get_type_hints(PromptOptions)


def _kind(f) -> type:
    """A field's value type, Optional stripped."""
    args = [a for a in typing.get_args(_TYPES[f.name]) if a is not type(None)]
    return args[0] if args else _TYPES[f.name]


def check(f, value) -> str | None:
    """What is wrong with `value` for field `f` (None: nothing): the one validation that the
    dataclass, the training config and the CLI flags all run."""
    if value is None and f.default is None:
        return None
    kind = _kind(f)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        return f"expected {kind.__name__}, got {value!r}"
    meta = f.metadata
    if meta["choices"] and value not in meta["choices"]:
        return f"must be {' or '.join(meta['choices'])}, got {value!r}"
    if meta["minimum"] is not None and value < meta["minimum"]:
        return f"must be at least {meta['minimum']}, got {value}"
    return None


def _arg_type(f):
    """argparse type for a valued field: a bad value is argparse's one-line error (exit 2)."""
    kind = _kind(f)

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind.__name__}, got {text!r}") from None
        problem = check(f, value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value
    convert.__name__ = kind.__name__
    return convert


def add_prompt_args(parser, skip: typing.Iterable[str] = ()) -> None:
    """One flag per PromptOptions field (except `skip`), each storing into `args.<field>`."""
    for name, f in FIELDS.items():
        if name in skip:
            continue
        meta = f.metadata
        if _kind(f) is bool:
            action = "store_false" if f.default else "store_true"
            parser.add_argument(meta["flag"], dest=name, action=action, help=meta["flag_help"])
        else:
            default = f" (default: {f.default})" if f.default is not None else ""
            parser.add_argument(meta["flag"], dest=name, default=f.default, type=_arg_type(f),
                                choices=meta["choices"], metavar=meta["metavar"],
                                help=meta["flag_help"] + default)


def recorded_options(config: dict) -> dict:
    """The PromptOptions fields a training record sets (train_meta.json's "config"), None
    values left out: what training.ship writes into a card and run_options serves a run with."""
    return {name: config[name] for name in FIELDS if config.get(name) is not None}


def prompt_options(source) -> PromptOptions:
    """PromptOptions from anything that has the fields as attributes: parsed flags (a flag the
    parser skipped keeps its default), a TrainConfig."""
    return PromptOptions(**{name: getattr(source, name, f.default) for name, f in FIELDS.items()})
