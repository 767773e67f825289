"""`reasoningrec app`: the app's one set of flags, and the app started through the CLI as a
real process, answering its page and its /predict API.

    .venv/bin/python -m pytest tests/test_cli_app.py -q
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from reasoningrec.cli import build_parser
from tests.app_process import start_app
from tests.test_app import free_port

ROOT = Path(__file__).resolve().parent.parent


def app_subparser():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices["app"]


def flags_in_help(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text.split("options:", 1)[1]))


def test_help_lists_every_flag_with_help_and_app_py_has_the_same_flags():
    actions = [a for a in app_subparser()._actions if a.option_strings and a.dest != "help"]
    assert {a.dest for a in actions} >= {"model", "pool", "max_tokens", "backend", "mcp", "no_warm"}
    for action in actions:
        assert action.help and len(action.help) > 10, action.option_strings
    cli = subprocess.run([sys.executable, "-m", "reasoningrec", "app", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    script = subprocess.run([sys.executable, "app.py", "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and script.returncode == 0, cli.stderr + script.stderr
    expected = {s for a in actions for s in a.option_strings} | {"--help"}
    assert flags_in_help(cli.stdout) == expected
    assert flags_in_help(script.stdout) == expected     # one home for the flags
    bad = subprocess.run([sys.executable, "-m", "reasoningrec", "app", "--backend", "gpu"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "invalid choice: 'gpu'" in bad.stderr


@pytest.mark.slow
def test_reasoningrec_app_serves_the_page_and_the_predict_api():
    from gradio_client import Client
    port = free_port()
    env = {**os.environ, "CPU_CORES": "1", "HF_HUB_OFFLINE": "1"}
    proc = start_app(["--no-warm", "--model", "smollm2"], env, port,
                     command=["-m", "reasoningrec", "app"])
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as page:
            assert page.status == 200 and "Will this user like this item?" in page.read().decode()
        result = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "ml1m", "", api_name="/predict")
        assert result["prediction"] in ("Yes", "No") and 0 <= result["p_yes"] <= 1
        assert result["backend"] == "llamacpp"
        assert result["model"] == "smollm2"     # --model reached the app (default: the student)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert "ReasoningRec ready in" in out, out[-2000:]
