"""benchmarks/paper_table.py on the real data (cheap rows only: popularity, like-share and the
authors' replayed runs), and the bootstrap AUC interval it prints.

    .venv/bin/python -m pytest tests/test_paper_table.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from reasoningrec.evaluate.metrics import UndefinedMetric, auc_interval, roc_auc

ROOT = Path(__file__).resolve().parent.parent


def test_auc_interval_brackets_the_auc_and_shrinks_with_n():
    rng = np.random.default_rng(1)
    widths = []
    for n in (200, 3200):
        y = rng.integers(0, 2, n)
        p = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.3, n), 0, 1)
        low, high = auc_interval(y, p, resamples=500)
        assert low < roc_auc(y, p) < high
        widths.append(high - low)
    assert widths[1] < widths[0] / 2
    assert auc_interval(y, p, resamples=300) == auc_interval(y, p, resamples=300)  # seeded
    with pytest.raises(UndefinedMetric):
        auc_interval([1, 1, 1], [0.2, 0.4, 0.9], resamples=50)


def table(data_dir, tmp_path, *extra):
    run = subprocess.run([sys.executable, "benchmarks/paper_table.py", "--data-dir",
                          str(data_dir), "--datasets", "fashion", "--out", str(tmp_path / "out"),
                          "--reports-root", str(tmp_path / "reports"), *extra],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = json.loads((tmp_path / "out" / "paper_table_fashion.json").read_text())["rows"]
    return {r["model"]: r for r in rows}, (tmp_path / "out" / "paper_table_fashion.md").read_text()


def test_fashion_table_on_the_authors_800(data_dir, tmp_path):
    rows, md = table(data_dir, tmp_path, "--baselines", "popularity", "like-share")
    authors = [m for m in rows if m.startswith("authors:")]
    assert len(authors) == 6 and list(rows)[:3] == [
        "popularity", "like-share", "authors:llama2-7b-chat/sample64_valsample800_lr1e-4_valauc"]
    assert all(r["n"] == 800 and r["sample"] == "paper" for r in rows.values())
    k64 = rows["authors:llama2-7b-chat/sample64_valsample800_lr1e-4_valauc"]
    assert round(k64["auc"], 4) == 0.6554 and k64["auc_ci95"][0] < 0.6554 < k64["auc_ci95"][1]
    assert round(rows["authors:llama2-7b-chat/sample256_valsample800_lr1e-4_valauc"]["auc"],
                 4) == 0.7356
    assert "| like-share | 0.7159 |" in md and "the authors' 800 test users" in md
    assert md.count("\n| ") == 1 + 8  # header + 8 rows
    # A second run with other rows keeps the rows already there, figures unchanged.
    again, md2 = table(data_dir, tmp_path, "--baselines", "like-share")
    assert again["popularity"] == rows["popularity"] and set(again) == set(rows)
