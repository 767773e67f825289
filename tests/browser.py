"""What the browser tests share: Debian's Chromium through Playwright, and an app launched
on a free local port.

    from browser import chromium, launch_local
    url = launch_local(build_app(service))            # Gradio finds a free port from 7860
    with sync_playwright() as p:
        context = chromium(p, tmp_path / "profile", width=390, height=844)
"""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def launch_local(demo) -> str:
    """Start `demo` in the background on 127.0.0.1 and return its URL."""
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1")
    return url


def chromium(playwright, profile_dir, width: int = 1400, height: int = 1000):
    """A headless persistent Chromium context (fails the test when chromium is missing)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: bash scripts/setup.sh --test")
    return playwright.chromium.launch_persistent_context(
        str(profile_dir), executable_path=str(CHROMIUM), headless=True,
        viewport={"width": width, "height": height}, args=ARGS)
