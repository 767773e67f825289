"""PromptOptions is the one source of the prompt flags (predict, eval, rank, training.teach) and
the training-recipe keys: every field has a flag on each and a TrainConfig field, with the same
help and default; the recipes load as before; bad values fail with the field's name.

    .venv/bin/python -m pytest tests/test_options.py -q
"""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from reasoningrec.cli import build_parser
from reasoningrec.scoring.options import PromptOptions, add_prompt_args, option, prompt_options
from training import config, sft, teach

ROOT = Path(__file__).resolve().parent.parent


def subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def parsers() -> dict:
    return {**{name: subparser(name) for name in ("predict", "eval", "rank")},
            "training.teach": teach.build_parser()}


def missing(options_cls, parsers: dict, skips: dict) -> list[str]:
    """Every field of `options_cls` that lacks its flag on a parser (bar the declared skips), a
    TrainConfig field, or a `training.sft --<field>` flag."""
    problems = []
    sft_flags = {a.dest: a for a in sft.build_parser()._actions}
    for f in dataclasses.fields(options_cls):
        flag = f.metadata.get("flag")
        if not flag or not f.metadata.get("help"):
            problems.append(f"{f.name}: not declared with option(help=..., flag=...)")
            continue
        for name, parser in parsers.items():
            if f.name in skips.get(name, ()):
                continue
            actions = [a for a in parser._actions if a.dest == f.name]
            if [a.option_strings for a in actions] != [[flag]] or not actions[0].help:
                problems.append(f"{f.name}: no {flag} on {name}")
        if f.name not in config.FIELDS:
            problems.append(f"{f.name}: no TrainConfig field")
        elif config.FIELDS[f.name].metadata["help"] != f.metadata["help"]:
            problems.append(f"{f.name}: TrainConfig's help differs")
        if f.name not in sft_flags or f.metadata["help"] not in sft_flags[f.name].help:
            problems.append(f"{f.name}: no --{f.name} on training.sft")
    return problems


def test_every_field_has_a_flag_on_every_command_and_a_recipe_key():
    assert teach.TEACH_SKIPS == ("reasoning",)   # the teacher always reasons: no --no-reasoning
    skips = {"training.teach": teach.TEACH_SKIPS}
    assert missing(PromptOptions, parsers(), skips) == []
    for f in dataclasses.fields(PromptOptions):  # the recipe's defaults are the options' own
        assert config.FIELDS[f.name].default == f.default
    # A field added without a flag is caught: a plain field, and a declared one no parser has.
    grown = dataclasses.make_dataclass("Grown", [
        ("plain", bool, dataclasses.field(default=False)),
        ("declared", bool, option(False, "a new option", flag="--declared"))],
        bases=(PromptOptions,))
    problems = missing(grown, parsers(), skips)
    assert "plain: not declared with option(help=..., flag=...)" in problems
    assert {p for p in problems if p.startswith("declared:")} == {
        *(f"declared: no --declared on {name}" for name in [*parsers(), "training.sft"]),
        "declared: no TrainConfig field"}


def test_flags_give_the_options_and_defaults_match():
    for name, parser in parsers().items():
        required = {"predict": ["--user", "1"], "rank": ["--user", "1"],
                    "training.teach": ["--teacher", "t", "--out", "o"]}.get(name, [])
        required += ["--dataset", "ml1m"] if name != "training.teach" else []
        assert prompt_options(parser.parse_args(required)) == PromptOptions(), name
    p = argparse.ArgumentParser()
    add_prompt_args(p)
    args = p.parse_args(["--no-profile", "--no-description", "--history-k", "7", "--history",
                         "relevant", "--no-reasoning", "--evidence"])
    assert prompt_options(args) == PromptOptions(False, False, 7, "relevant", False, True)


def test_recipes_load_with_their_prompt_keys():
    import yaml
    recipes = sorted((ROOT / "training/recipes").glob("*.yaml"))
    assert recipes
    for recipe in recipes:
        cfg = config.load_config(recipe)
        given = {k: v for k, v in yaml.safe_load(recipe.read_text()).items()
                 if k in config.PROMPT_FIELDS}
        opts = prompt_options(cfg)
        assert type(opts) is PromptOptions
        assert {k: getattr(opts, k) for k in given} == given, recipe.name
    cfg = config.load_config(recipes[0], {"history_k": "3", "history_mode": "relevant",
                                          "evidence": "true"})
    assert prompt_options(cfg) == dataclasses.replace(prompt_options(config.load_config(
        recipes[0])), history_k=3, history_mode="relevant", evidence=True)
    assert config.to_dict(cfg)["history_k"] == 3     # meta.json's config stays flat (ship.py)


def test_bad_values_name_the_field(tmp_path):
    with pytest.raises(ValueError, match=r"^with_profile: expected bool, got 'false'$"):
        PromptOptions(with_profile="false")
    with pytest.raises(ValueError, match=r"^history_k: expected int, got True$"):
        PromptOptions(history_k=True)
    recipe = tmp_path / "r.yaml"
    recipe.write_text("history_mode: oldest\n")
    with pytest.raises(config.ConfigError,
                       match=r"r\.yaml: history_mode: must be recent or relevant, got 'oldest'$"):
        config.load_config(recipe)
    with pytest.raises(config.ConfigError, match=r"^--history_k: must be at least 1, got 0$"):
        config.load_config(None, {"history_k": "0"})
    recipe.write_text("history_k: [\n")
    with pytest.raises(config.ConfigError, match=r"r\.yaml: not valid YAML"):
        config.load_config(recipe)
