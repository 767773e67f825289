"""benchmarks/distillation_table.py: every shipped student, its recipe and its committed AUC on
the paper's sample, from committed files only.

    .venv/bin/python -m pytest tests/test_distillation_table.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reasoningrec.scoring.registry import STUDENTS, _read_meta

ROOT = Path(__file__).resolve().parent.parent


def test_every_student_is_listed_with_its_recipe_and_committed_auc(tmp_path):
    run = subprocess.run([sys.executable, "benchmarks/distillation_table.py", "--out",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "distillation_fashion.md").read_text(encoding="utf-8")
    assert text.strip() == run.stdout.strip()
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()
            if line.startswith("| ") and "| trained on |" not in line}
    scored = {r["model"]: r for r in json.loads(
        (ROOT / "benchmarks/results/paper_table_fashion.json").read_text())["rows"]}
    assert set(STUDENTS) <= set(rows)
    for name, folder in STUDENTS.items():
        card, cells = _read_meta(folder), rows[name].split(" | ")
        assert cells[3] == str(card["recipe"]["train_samples"] or "all")   # K (0: all rows)
        assert cells[5] == ("yes" if card["prompt_options"].get("evidence") else "no")
        want = f"{scored[name]['auc']:.4f}" if name in scored else "-"
        assert cells[9].startswith(want)
    assert "`assets/student_evidence/peft`" in rows["student-fashion-evidence-warm"]
    authors = [r for r in rows if r.startswith("authors:")]
    assert len(authors) == 6 and "| 256 |" in rows[authors[4]]
    aucs = [float(line.split(" | ")[9].split()[0]) for n, line in rows.items()
            if n in STUDENTS and n in scored]                         # in table order
    assert aucs == sorted(aucs, reverse=True)                         # sorted by test AUC
