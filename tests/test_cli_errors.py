"""Bad CLI values end in one line on stderr and a non-zero exit, never a silent default or a
traceback (issue #14 point 11): training.teach --limit -5 / 0, a damaged --out file, a missing
teacher model, two runs on one --out, --history-k -3 for a baseline, a bad prompt option on
rank / teach / sft (flag or recipe), training.sft's --data-dir spelling, ratings restore from a file that is not a shard.

    .venv/bin/python -m pytest tests/test_cli_errors.py -q
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = os.environ.get("REASONINGREC_TEST_DATA", str(ROOT.parent / "shared/data"))


def run(*argv, cwd=ROOT, env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REASONINGREC_DATA_DIR": DATA, **(env or {})}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=600)


def one_line_error(result, *words) -> None:
    assert result.returncode != 0, result
    err = result.stderr.strip()
    assert "Traceback" not in err and err, err
    last = err.splitlines()[-1]
    assert "error" in last and all(w in last for w in words), err


@pytest.mark.parametrize("limit", ["-5", "0", "x"])
def test_teach_refuses_a_limit_that_is_not_positive(tmp_path, limit):
    out = tmp_path / "t.jsonl"
    r = run("-m", "training.teach", "--teacher", "smollm2", "--dataset", "fashion",
            "--out", str(out), f"--limit={limit}")
    one_line_error(r, "--limit")
    assert not out.exists()                                   # nothing ran


def test_teach_reports_bad_files_in_one_line(tmp_path):
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("not json\n{}\n")
    r = run("-m", "training.teach", "--teacher", "smollm2", "--dataset", "fashion",
            "--out", str(damaged), "--limit", "1", "--no-progress")
    one_line_error(r, "damaged.jsonl:1", "not a JSON row")
    r = run("-m", "training.teach", "--teacher", str(tmp_path / "missing.gguf"),
            "--dataset", "fashion", "--out", str(tmp_path / "t.jsonl"), "--limit", "1",
            "--no-progress")
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr


def test_two_teach_runs_on_one_out_file_do_not_both_write(tmp_path):
    sys.path.insert(0, str(ROOT))
    from training.teach import out_lock
    out = tmp_path / "t.jsonl"
    held = out_lock(out)                                       # a first run holds the file
    try:
        r = run("-m", "training.teach", "--teacher", "smollm2", "--dataset", "fashion",
                "--out", str(out), "--limit", "1", "--no-progress")
        one_line_error(r, "another training.teach run is writing this file")
        assert not out.exists() or out.read_text() == ""
    finally:
        held.close()


def test_history_k_must_be_positive_for_every_model():
    r = run("-m", "reasoningrec", "eval", "--dataset", "fashion", "--model", "popularity",
            "--history-k", "-3", "--limit", "5")
    one_line_error(r, "--history-k", "at least 1")


def test_bad_prompt_options_are_one_line_on_every_command(tmp_path):
    """The prompt options' one check (reasoningrec/scoring/options.py) behind every flag and
    recipe key: rank, training.teach and training.sft (recipe and override) name the field."""
    r = run("-m", "reasoningrec", "rank", "--dataset", "fashion", "--user", "1",
            "--history", "oldest")
    one_line_error(r, "--history", "must be recent or relevant, got 'oldest'")
    r = run("-m", "training.teach", "--teacher", "smollm2", "--out", str(tmp_path / "t.jsonl"),
            "--history-k", "x")
    one_line_error(r, "--history-k", "expected int, got 'x'")
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("history_k: 0\n")
    r = run("-m", "training.sft", "--config", str(recipe))
    one_line_error(r, "bad.yaml: history_k: must be at least 1, got 0")
    r = run("-m", "training.sft", "--with_profile", "maybe")
    one_line_error(r, "--with_profile: expected true/false, got 'maybe'")


def test_sft_takes_the_data_dir_as_the_library_spells_it(tmp_path):
    """The data loader's message says "pass --data-dir": training.sft takes that spelling (and
    every other recipe key with hyphens) as well as --data_dir."""
    missing = tmp_path / "no-such-data"
    for flag in ("--data-dir", "--data_dir"):
        r = run("-m", "training.sft", "--config",
                "training/recipes/smollm2-135m-cpu-fashion-mixtral.yaml", flag, str(missing),
                "--history-k", "3")
        one_line_error(r, "data directory does not exist", str(missing))
        assert "de-quantizing" not in r.stderr  # refused before the base model loads


def test_sft_names_a_missing_teacher_file_before_loading_the_model(tmp_path, data_dir):
    missing = tmp_path / "no-such-file.jsonl"
    r = run("-m", "training.sft", "--config",
            "training/recipes/smollm2-135m-cpu-fashion-mixtral.yaml",
            "--data-dir", str(data_dir), "--teacher-jsonl", str(missing))
    one_line_error(r, "teacher_jsonl not found", str(missing), "training.import_teacher")
    assert "de-quantizing" not in r.stderr


@pytest.mark.parametrize("source", ["/etc/passwd", "/etc"])
def test_ratings_restore_refuses_what_is_not_a_shard(tmp_path, source):
    r = run("-m", "reasoningrec", "ratings", "restore", "--from", source,
            env={"REASONINGREC_RATINGS_DIR": str(tmp_path / "ratings")})
    one_line_error(r, source)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("root:x:0:0:root:/root:/bin/bash\n")
    r = run("-m", "reasoningrec", "ratings", "restore", "--from", str(bad),
            env={"REASONINGREC_RATINGS_DIR": str(tmp_path / "ratings")})
    one_line_error(r, "no vote rows")
