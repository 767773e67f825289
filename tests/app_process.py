"""Start app.py as its own process and wait until it answers (the Space, MCP and ZeroGPU tests).

    proc = start_app(["--mcp", "--no-warm"], env, port)            # from the repository root
    proc = start_app(["--backend", "transformers"], env, port, cwd=space_folder)
    proc = start_app(["--no-warm"], env, port, command=["-m", "reasoningrec", "app"])
"""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_app(args: list[str], env: dict, port: int, cwd: Path = ROOT,
              limit_s: float = 300, command: list[str] = ("app.py",)) -> subprocess.Popen:
    """app.py (or `command` after the Python executable) with `args`; fails the test (with
    the app's output) if it exits or does not answer /gradio_api/info within limit_s (a hang
    guard, not a speed claim)."""
    env = {**env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, *command, *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + limit_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{' '.join([*command, *args])} did not start: {proc.stdout.read()[-3000:]}")
            time.sleep(0.25)
