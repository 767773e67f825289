"""kill -9 durability and concurrent load against a real `app.py` process, through its API:
a small run of benchmarks/ratings_load.py (the full run is 50 clients x 20 votes).

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_durability.py -q
"""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_script():
    spec = importlib.util.spec_from_file_location("ratings_load", ROOT / "benchmarks/ratings_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_app_killed_mid_run_keeps_every_acknowledged_vote(tmp_path):
    out = tmp_path / "result.md"
    rc = load_script().main(["--clients", "6", "--votes", "8", "--sections", "load,kill,abuse",
                             "--out", str(out)])
    text = out.read_text()
    assert rc == 0 and "FAILED" not in text, text
    load = re.search(r"load: 6 clients x 8 votes .*: (\d+) rows, (\d+) duplicates, (\d+) "
                     r"acknowledged, (\d+) missing", text)
    assert load and load.groups() == ("48", "0", "48", "0"), text
    killed = re.search(r"kill -9 after (\d+) acknowledged votes \((\d+) clients cut off\): (\d+) "
                       r"rows on disk, 0 acknowledged votes missing", text)
    assert killed and 15 <= int(killed[1]) < 48 and int(killed[2]) > 0, text   # 48 x 0.33
    assert int(killed[3]) >= int(killed[1])                 # committed >= acknowledged
    assert re.search(r"after restart: \d+ rows, 0 acknowledged votes missing", text), text
    assert re.search(r"resume: .*; 48 rows, 0 duplicates, 0 acknowledged missing", text), text
    for case in ("duplicate", "not JSON", "oversized", "forged ticket", "non-ASCII ticket",
                 "over the rate limit"):                # refusals are 4xx, never a 500
        assert re.search(rf"^- {case}[^:]*: HTTP 4\d\d, refused with", text, re.M), case
    assert "rows after the refused votes: 96 (expected 96)" in text
