"""benchmarks/first_n_table.py on real Fashion reports: the first n rows of a full report give
the AUC that `eval --limit n` gives, and bad inputs are one-line errors.

    .venv/bin/python -m pytest tests/test_first_n_table.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reasoningrec.evaluate import run_eval
from reasoningrec.scoring.registry import load_scorer

ROOT = Path(__file__).resolve().parent.parent


def first_n(data_dir, out, first, *reports, extra=()):
    return subprocess.run([sys.executable, "benchmarks/first_n_table.py", "--data-dir",
                           str(data_dir), "--dataset", "fashion", "--first", str(first),
                           "--reports", *map(str, reports), "--out", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_first_n_of_full_reports_equals_a_limited_eval(fashion, data_dir, tmp_path):
    full = {}
    for spec in ("like-share", "popularity"):
        full[spec] = tmp_path / f"{spec}-all"
        run_eval(fashion, load_scorer(spec, fashion), model=spec, sample="paper",
                 report_dir=full[spec], progress=False)
    limited = run_eval(fashion, load_scorer("like-share", fashion), model="like-share",
                       sample="paper", limit=100, report_dir=tmp_path / "like-share-100",
                       progress=False)
    run = first_n(data_dir, tmp_path / "out", 100, full["like-share"], full["popularity"],
                  extra=["--paired", "like-share", "popularity"])
    assert run.returncode == 0, run.stderr[-2000:]
    table = json.loads((tmp_path / "out.json").read_text())
    rows = {r["model"]: r for r in table["rows"]}
    assert table["first"] == 100 and all(r["n"] == 100 and r["source_n"] == 800
                                         for r in rows.values())
    assert rows["like-share"]["auc"] == round(limited["auc"], 4)
    low, high = rows["like-share"]["auc_ci95"]
    assert low < rows["like-share"]["auc"] < high
    paired = table["paired"][0]
    assert abs(paired["difference"] - (rows["like-share"]["auc"] - rows["popularity"]["auc"])) < 1e-3
    md = (tmp_path / "out.md").read_text()
    assert f"| like-share | {rows['like-share']['auc']:.4f} |" in md and "first 100" in md

    # A report of another draw, too few samples, a wrong dataset: one-line errors, exit 1.
    seeded = tmp_path / "like-share-seeded"
    run_eval(fashion, load_scorer("like-share", fashion), model="like-share", limit=150,
             report_dir=seeded, progress=False)
    bad = first_n(data_dir, tmp_path / "bad", 100, full["like-share"], seeded)
    assert bad.returncode == 1 and "drew other samples" in bad.stderr
    bad = first_n(data_dir, tmp_path / "bad", 200, seeded)
    assert bad.returncode == 1 and "fewer than --first 200" in bad.stderr
    bad = first_n(data_dir, tmp_path / "bad", 100, tmp_path)
    assert bad.returncode == 1 and "not an eval report" in bad.stderr
    assert not (tmp_path / "bad.md").exists()
    # no data folder: one line naming it (benchmarks/speed_common.run), not a traceback
    bad = first_n(tmp_path / "nowhere", tmp_path / "bad", 100, full["like-share"])
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'nowhere'}: data directory does not exist (pass --data-dir or set "
        "REASONINGREC_DATA_DIR)"]
