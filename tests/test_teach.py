"""training.teach: stratified sampling, the resumable JSONL, and a real kill -9 mid-run.

    .venv/bin/python -m pytest tests/test_teach.py -q

The kill test runs the teacher (the tiny random Llama through llama.cpp) in a subprocess on
real ML-1M samples, SIGKILLs it after its first rows, leaves a half-written line behind as a
kill during a write would, runs it again and checks every sample is there exactly once.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.sampling import stratified_sample
from tiny_model import tiny_model  # noqa: F401  (session fixture)
from training.teach import append_row, read_done, select_samples

ROOT = Path(__file__).resolve().parent.parent


def test_stratified_sample_is_half_and_half_and_deterministic(data_dir):
    train = load_dataset("ml1m", data_dir).splits["train"]
    picked = stratified_sample(train, 64, seed=0)
    assert len(picked) == 64 and len({s.sample_id for s in picked}) == 64
    assert Counter(s.label for s in picked) == {1: 32, 0: 32}
    assert [s.sample_id for s in stratified_sample(list(reversed(train)), 64, seed=0)] == \
        [s.sample_id for s in picked]  # input order does not matter
    assert {s.sample_id for s in stratified_sample(train, 64, seed=1)} != \
        {s.sample_id for s in picked}
    # a short class is filled from the other one
    few_neg = [s for s in train if s.label == 1][:50] + [s for s in train if s.label == 0][:3]
    short = stratified_sample(few_neg, 20, seed=0)
    assert Counter(s.label for s in short) == {1: 17, 0: 3}


def test_select_samples_limit_and_unknown_split(data_dir):
    ds = load_dataset("ml1m", data_dir)
    assert len(select_samples(ds, "train", 64, 0, 10)) == 10
    with pytest.raises(SystemExit, match="no split 'dev'"):
        select_samples(ds, "dev", 0, 0, None)


def test_read_done_cuts_a_half_written_last_line(tmp_path):
    path = tmp_path / "t.jsonl"
    with open(path, "w") as f:
        append_row(f, {"sample_id": "a", "rationale": "x"})
        append_row(f, {"sample_id": "b", "rationale": "y"})
        f.write('{"sample_id": "c", "rati')
    assert read_done(path, "sample_id") == {"a", "b"}
    assert path.read_text().endswith('"y"}\n')  # the fragment is gone
    with open(path, "a") as f:
        append_row(f, {"sample_id": "c", "rationale": "z"})
    assert read_done(path, "sample_id") == {"a", "b", "c"}


def test_read_done_names_a_bad_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"sample_id": "a"}\nnot json\n{"sample_id": "b"}\n')
    with pytest.raises(DataError, match=r"t.jsonl:2: not a JSON row"):
        read_done(path, "sample_id")
    path.write_text('{"user_id": "1"}\n')
    with pytest.raises(DataError, match=r"t.jsonl:1: row has no 'sample_id'"):
        read_done(path, "sample_id")


def _teach_cmd(gguf, out, data_dir, k):
    return [sys.executable, "-m", "training.teach", "--teacher", f"llamacpp:{gguf}",
            "--out", str(out), "--data-dir", str(data_dir), "--split", "train",
            "--sample-k", str(k), "--seed", "3", "--context", "320", "--max-tokens", "12",
            "--no-progress", "--json"]


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_kill_9_mid_run_then_resume_gives_each_row_once(tiny_model, data_dir, tmp_path):  # noqa: F811
    out, k = tmp_path / "teacher.jsonl", 10
    env = {**os.environ, "CPU_CORES": "1"}
    proc = subprocess.Popen(_teach_cmd(tiny_model.gguf, out, data_dir, k), cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"teach ended before the kill: {proc.communicate()[1][-2000:]}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = _rows(out)
    assert 2 <= len(before) < k
    with open(out, "ab") as f:  # what a kill in the middle of a write leaves
        f.write(b'{"sample_id": "ml1m:train:')
    done = subprocess.run(_teach_cmd(tiny_model.gguf, out, data_dir, k), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rows = _rows(out)
    ids = [r["sample_id"] for r in rows]
    expected = {s.sample_id for s in stratified_sample(
        load_dataset("ml1m", data_dir).splits["train"], k, seed=3)}
    assert len(ids) == len(set(ids)) == k and set(ids) == expected
    assert summary["already_done"] == len(before) and summary["written"] == k - len(before)
    assert rows[:len(before)] == before  # rows written before the kill are untouched
    by_id = {s.sample_id: s for s in load_dataset("ml1m", data_dir).splits["train"]}
    assert all(r["label"] == by_id[r["sample_id"]].label for r in rows)
    assert all(r["template"] == "teacher_cot/v1" and r["prompt_tokens"] <= 320 for r in rows)
    assert summary["completion_tokens"] == sum(r["completion_tokens"] for r in rows[len(before):])


def test_profile_task_writes_one_row_per_user(tiny_model, data_dir, tmp_path):  # noqa: F811
    from training.teach import main
    out = tmp_path / "profiles.jsonl"
    args = ["--task", "profile", "--teacher", f"llamacpp:{tiny_model.gguf}", "--out", str(out),
            "--data-dir", str(data_dir), "--limit", "2", "--max-tokens", "6", "--no-progress"]
    assert main(args) == 0
    rows = _rows(out)
    users = [s.user_id for s in load_dataset("ml1m", data_dir).splits["train"][:2]]
    assert [r["user_id"] for r in rows] == users
    assert all(r["template"] == "user_profile/v1" and "profile" in r for r in rows)
    assert main(args) == 0 and len(_rows(out)) == 2  # a rerun has nothing left to do
