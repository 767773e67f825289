"""The `reasoningrec` command: one subcommand a module under reasoningrec/commands/.

    reasoningrec data stats --dataset ml1m --data-dir ../shared/data --json
    reasoningrec models
    reasoningrec app --mcp
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys

# Each module defines register(subparsers); its parsers set `func(args) -> dict | None`.
COMMAND_MODULES = ["data", "models", "predict", "rank", "eval", "ratings", "app"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reasoningrec", description="ReasoningRec: explainable LLM recommendation.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"reasoningrec.commands.{name}").register(sub)
    return parser


def emit(result, as_json: bool) -> None:
    """One JSON object with --json, else `key: value` lines."""
    if result is None:
        return
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    for key, value in result.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{key}: {value}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (ValueError, KeyError, FileNotFoundError, RuntimeError) as exc:
        # Bad input is the user's to fix: one clear line, no traceback.
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"reasoningrec {args.command}: error: {msg}", file=sys.stderr)
        return 2
    emit(result, getattr(args, "json", False))
    return 0
