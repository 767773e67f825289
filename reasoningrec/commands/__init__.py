"""Subcommands of the `reasoningrec` CLI, one module each (see reasoningrec/cli.py), and the
argparse types they (and training/) share."""
import argparse


def positive_int(text: str) -> int:
    """argparse type for counts that must be at least 1 (--limit, --history-k, ...): a bad
    value is argparse's one-line error and exit status 2, never a silent 'all'."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
