"""benchmarks/feature_ceiling.py on the real Fashion data: each feature alone reproduces the
committed baseline rows it mirrors, and the fitted combinations are scored on the same 800.

    .venv/bin/python -m pytest tests/test_feature_ceiling.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_single_features_match_the_baselines_and_combinations_are_scored(data_dir, tmp_path):
    run = subprocess.run([sys.executable, "benchmarks/feature_ceiling.py", "--data-dir",
                          str(data_dir), "--out", str(tmp_path)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[-1].strip(" |")
            for line in (tmp_path / "feature_ceiling_fashion.md").read_text().splitlines()
            if line.startswith("| ") and "test AUC" not in line}
    paper = {r["model"]: r["auc"] for r in json.loads(
        (ROOT / "benchmarks/results/paper_table_fashion.json").read_text())["rows"]}
    assert abs(float(rows["history like-share alone"]) - paper["like-share"]) < 1e-4
    assert abs(float(rows["mf P(like) alone"]) - paper["mf"]) < 1e-4
    combined = [float(v) for k, v in rows.items() if k.startswith("LR:")]
    assert len(combined) == 3 and all(0.5 < auc < 1 for auc in combined)
