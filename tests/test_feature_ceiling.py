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


def test_late_fusion_with_a_report_and_a_report_that_misses_samples(data_dir, tmp_path):
    """A report of the paper's whole test sample (here the like-share baseline's, made by
    `reasoningrec eval`) is fused with the features; one of its first 10 only is refused."""
    from reasoningrec.cli import main
    whole, part = tmp_path / "whole", tmp_path / "part"
    base = ["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--model", "like-share",
            "--sample", "paper", "--no-progress"]
    assert main(base + ["--report-dir", str(whole)]) == 0
    assert main(base + ["--report-dir", str(part), "--limit", "10"]) == 0
    script = [sys.executable, "benchmarks/feature_ceiling.py", "--data-dir", str(data_dir),
              "--out", str(tmp_path)]
    run = subprocess.run(script + ["--student-report", str(whole)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "feature_ceiling_fashion.md").read_text()
    fused = {line.split(" | ")[0].strip("| "): float(line.split(" | ")[-1].split()[0])
             for line in text.split("## Late fusion")[1].splitlines()
             if line.startswith("| student")}
    assert len(fused) == 5
    assert abs(fused["student"] - 0.7159) < 0.005  # the like-share's AUC, over five fifths
    run = subprocess.run(script + ["--student-report", str(part)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode != 0 and "no P(Yes) for 790 of the 800 test samples" in run.stderr
