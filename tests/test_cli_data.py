"""`reasoningrec data stats|search|splits` run as a real subprocess (stats on the real data,
search and splits on the GroupLens-format fixture), and their error exits.

    .venv/bin/python -m pytest tests/test_cli_data.py -q
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "fixtures" / "ml-1m-mini"    # GroupLens ratings.dat format
SPLITS = ("train", "valid", "test")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reasoningrec", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def like_rate_from_csv(path: Path) -> float:
    """The share of target labels that are 1, read straight from a ctr CSV."""
    with open(path, newline="") as f:
        labels = [int(row["rating"]) for row in csv.DictReader(f)]
    return round(sum(labels) / len(labels), 4)


@pytest.mark.parametrize("dataset, folder, items, users, per_split", [
    ("fashion", "fashion", 6089, 1273, 1273),
    ("ml1m", "ml_1m", 3883, 6040, 6040),
])
def test_stats_json_on_the_paper_splits(data_dir, dataset, folder, items, users, per_split):
    run = cli("data", "stats", "--dataset", dataset, "--data-dir", str(data_dir), "--json")
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["dataset"] == dataset
    assert stats["items"] == items and stats["users"] == users
    assert stats["splits"] == {s: per_split for s in SPLITS}
    ctr = data_dir / "reasoningrec" / folder / "ctr"
    assert stats["like_rate"] == {s: like_rate_from_csv(ctr / f"{s}.csv") for s in SPLITS}
    assert isinstance(stats["skipped"], dict)


def test_fashion_stats_report_the_cleaned_titles(data_dir):
    run = cli("data", "stats", "--dataset", "fashion", "--data-dir", str(data_dir), "--json")
    raw = json.loads((data_dir / "reasoningrec" / "fashion" /
                      "processed_item_information.json").read_text())
    over_300 = sum(len(v.get("title", "")) > 300 for v in raw.values())
    assert json.loads(run.stdout)["skipped"]["titles_cleaned"] == over_300 == 14
    human = cli("data", "stats", "--dataset", "fashion", "--data-dir", str(data_dir))
    assert human.returncode == 0, human.stderr
    assert "items: 6089" in human.stdout.splitlines()
    assert "titles_cleaned=14" in human.stdout


def test_stats_ml100k(data_dir):
    run = cli("data", "stats", "--dataset", "ml100k", "--data-dir", str(data_dir), "--json")
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["items"] == 1682 and stats["users"] == 943
    assert set(stats["splits"]) == set(SPLITS) and all(stats["splits"].values())
    assert all(0 < rate < 1 for rate in stats["like_rate"].values())


def _one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 2
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


def test_unknown_dataset_exits_2(data_dir):
    line = _one_line_error(cli("data", "stats", "--dataset", "no-such-set",
                               "--data-dir", str(data_dir)))
    assert "unknown dataset 'no-such-set'" in line and "fashion" in line


def test_missing_data_dir_exits_2(tmp_path):
    line = _one_line_error(cli("data", "stats", "--dataset", "fashion",
                               "--data-dir", str(tmp_path / "absent")))
    assert str(tmp_path / "absent") in line and "does not exist" in line


def test_broken_dataset_exits_2_naming_file_and_line(tmp_path):
    folder = tmp_path / "reasoningrec" / "broken"
    (folder / "ctr").mkdir(parents=True)
    (folder / "processed_item_information.json").write_text('{\n "1": {"title": "Sock"}\n "2"}')
    line = _one_line_error(cli("data", "stats", "--dataset", "broken",
                               "--data-dir", str(tmp_path)))
    assert f"{folder / 'processed_item_information.json'}:3: invalid JSON" in line


def test_stats_count_teacher_rationales_and_authors_runs(data_dir):
    run = cli("data", "stats", "--dataset", "fashion", "--data-dir", str(data_dir), "--json")
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["teacher"]["mixtral-8x7b"] == {"train": 896, "valid": 896, "test": 896}
    assert stats["teacher"]["mixtral-8x7b-wo_desc"] == {"train": 904, "valid": 904, "test": 904}
    assert len(stats["authors"]) == 6 and set(stats["authors"].values()) == {800}
    assert stats["authors"]["llama2-7b-chat/sample64_valsample800_lr1e-4_valauc"] == 800
    ml1m = json.loads(cli("data", "stats", "--dataset", "ml1m", "--data-dir", str(data_dir),
                          "--json").stdout)
    assert ml1m["teacher"] == {"mixtral-8x7b-wo_profile": {"test": 2400}}
    assert ml1m["authors"] == {}


def test_broken_teacher_file_exits_2_naming_file_and_line(data_dir, tmp_path, fashion_copy):
    source = data_dir / "reasoningrec" / "fashion"
    folder = fashion_copy()
    teacher = folder / "teacher" / "mixtral-8x7b" / "train.jsonl"
    teacher.parent.mkdir(parents=True)
    wrong = 1 - _label(source, "0")
    teacher.write_text(json.dumps({"user": "0", "label": wrong, "rationale": "x"}) + "\n")
    line = _one_line_error(cli("data", "stats", "--dataset", "fashion",
                               "--data-dir", str(tmp_path)))
    assert f"{teacher}:1: user '0' has label" in line and "the train CSV says" in line


def _label(folder: Path, user: str) -> int:
    with open(folder / "ctr" / "train.csv", newline="") as f:
        return next(int(r["rating"]) for r in csv.DictReader(f) if r["user"] == user)


def test_splits_writes_the_ctr_files(tmp_path):
    run = cli("data", "splits", "--data-dir", str(MINI), "--out", str(tmp_path / "ctr"), "--json")
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["dataset"] == "ml1m-raw"
    assert out["written"] == [str(tmp_path / "ctr" / f"{s}.csv") for s in SPLITS]
    with open(tmp_path / "ctr" / "valid.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == out["splits"]["valid"] == 6
    missing = cli("data", "splits", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path))
    assert missing.returncode == 2 and "ratings.dat" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


def test_search_embeds_once_then_reads_the_cache(tmp_path):
    import os
    env = {**os.environ, "REASONINGREC_CACHE_DIR": str(tmp_path)}
    args = ("data", "search", "--dataset", "ml1m-raw", "--data-dir", str(MINI),
            "--query", "animated toys", "--n", "3")
    first, again = cli(*args, "--json", env=env), cli(*args, env=env)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    out = json.loads(first.stdout)
    movies = len((MINI / "movies.dat").read_bytes().splitlines())
    assert out["items"] == out["embedded"] == movies
    assert [h["title"] for h in out["hits"]][0] == "Toy Story" and len(out["hits"]) == 3
    lines = again.stdout.splitlines()      # the same hits as lines, the catalogue from the cache
    assert lines[:3] == [f"{h['score']:.3f}  {h['item']}  {h['title']}" for h in out["hits"]]
    assert "embedded: 0" in lines and f"items: {movies}" in lines
