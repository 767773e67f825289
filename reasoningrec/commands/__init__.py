"""Subcommands of the `reasoningrec` CLI, one module each (see reasoningrec/cli.py)."""
