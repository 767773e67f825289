"""The README's Layout section names every folder of the repository (those git tracks: the
library's subpackages and the top-level folders) and nothing that does not exist.

    .venv/bin/python -m pytest tests/test_readme_layout.py -q
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def layout_folders() -> dict[str, str]:
    """{folder: its line} from the code block under '## Layout' (lines starting 'name/')."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Layout\n", 1)[1]
    block = section.split("```", 2)[1]
    return {m.group(1).rstrip("/"): line for line in block.splitlines()
            if (m := re.match(r"([\w.][\w./-]*/)\s", line))}


def tracked_folders() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    folders = {str(Path(f).parent) for f in files if f.startswith("reasoningrec/")}
    return folders | {f.split("/", 1)[0] for f in files if "/" in f}


def test_every_folder_is_named_in_the_layout():
    named = layout_folders()
    missing = sorted(tracked_folders() - set(named))
    assert not missing, f"README Layout lacks: {missing}"


def test_every_folder_the_layout_names_exists():
    named = layout_folders()
    assert "reasoningrec/scoring" in named and "tests" in named     # the parser reads the block
    gone = [f for f, line in named.items()
            if not (ROOT / f).is_dir() and "(not in git)" not in line]
    assert not gone, f"README Layout names folders that do not exist: {gone}"
    assert (ROOT / "app.py").is_file()
