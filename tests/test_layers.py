"""Imports run one way: importing every module of a lower package loads nothing above it
(checked in a fresh interpreter, where sys.modules shows all that came in)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def loaded_after_importing(package: str, above: tuple[str, ...]) -> list[str]:
    code = ("import importlib, pkgutil, sys\n"
            f"pkg = importlib.import_module({package!r})\n"
            "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "    importlib.import_module(m.name)\n"
            f"print(sorted(k for k in sys.modules if k.startswith({above!r})))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    return ast.literal_eval(out)  # the printed list of module names


@pytest.mark.parametrize("package,above", [
    # the ratings store knows no model
    ("reasoningrec.ratings", ("reasoningrec.models", "reasoningrec.scoring")),
    # scoring sits below evaluation (AUC: reasoningrec.auc; predictions.jsonl: data.predictions)
    ("reasoningrec.scoring", ("reasoningrec.evaluate",)),
])
def test_lower_packages_import_nothing_above(package, above):
    assert loaded_after_importing(package, above) == []
