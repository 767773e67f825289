"""The evaluation harness on real data: paper sampling, resumable reports, plots, the CLI.

    .venv/bin/python -m pytest tests/test_evaluate.py -q

The scorers here are real (if simple) models: an item like-rate fitted on the train split of
the real data, once per-sample and once vectorised, and one that dies after N samples.
"""
from __future__ import annotations

import importlib.util
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from reasoningrec.cli import main
from reasoningrec.data import load_dataset
from reasoningrec.data.schema import DataError
from reasoningrec.evaluate import eval_samples, run_eval
from reasoningrec.scoring.protocol import Prediction, Scorer

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"dataset", "split", "model", "n", "auc", "accuracy", "f1", "logloss", "ece", "seconds"}
METRIC_KEYS = ("n", "auc", "accuracy", "f1", "logloss", "ece", "confusion", "hard_labels")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class ItemLikeRate(Scorer):
    """P(Yes) = smoothed share of likes the target item got in the train split."""

    name = "item-like-rate"

    def fit(self, ds):
        likes, seen = Counter(), Counter()
        for s in ds.splits["train"]:
            for item, liked in [(h.item_id, h.liked) for h in s.history] + [(s.target, s.label)]:
                likes[item] += int(liked)
                seen[item] += 1
        self.prior = sum(likes.values()) / sum(seen.values())
        self.likes, self.seen = likes, seen
        return self

    def predict(self, ds, sample, *, explain=False):
        item = sample.target
        p = (self.likes[item] + 2 * self.prior) / (self.seen[item] + 2)
        return Prediction(p_yes=p, rationale=f"liked by {self.likes[item]}/{self.seen[item]}"
                          if explain else None)


class VectorisedLikeRate(ItemLikeRate):
    def predict_many(self, ds, samples):
        return [self.predict(ds, s) for s in samples]


class DiesAfter(ItemLikeRate):
    """Stands in for a crash (OOM, Ctrl-C, a dead server) after `n` predictions."""

    def __init__(self, n):
        self.n, self.calls = n, 0

    def predict(self, ds, sample, *, explain=False):
        if self.calls == self.n:
            raise RuntimeError("simulated crash")
        self.calls += 1
        return super().predict(ds, sample, explain=explain)




@pytest.fixture(scope="module")
def like_rate(fashion):
    return ItemLikeRate().fit(fashion)


def read_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "predictions.jsonl").read_text().splitlines()]


def test_paper_sample_sizes_and_determinism(ml1m, fashion):
    for ds, size in ((ml1m, 1500), (fashion, 800)):
        for split in ("test", "valid"):
            first = eval_samples(ds, split)
            assert len(first) == size == len({s.sample_id for s in first})
            assert [s.sample_id for s in eval_samples(ds, split)] == [s.sample_id for s in first]
            # The paper's own code: random.seed(42); random.sample(test_data, size)
            random.seed(42)
            assert first == random.sample(ds.splits[split], size)
    assert len(eval_samples(ml1m, "train")) == 6040        # train: the whole split
    assert len(eval_samples(fashion, "test", limit=50)) == 50
    # a limit is a prefix of the paper's draw (random.sample(50) alone would not be)
    assert eval_samples(fashion, "test", limit=50) == eval_samples(fashion, "test")[:50]
    assert eval_samples(fashion, "test", limit=50) != random.Random(42).sample(
        fashion.splits["test"], 50)
    assert eval_samples(fashion, "test", limit=5000) == fashion.splits["test"]
    assert eval_samples(fashion, "test", seed=7) != eval_samples(fashion, "test")
    with pytest.raises(ValueError, match="positive"):
        eval_samples(fashion, "test", limit=0)
    with pytest.raises(KeyError, match="unknown split"):
        eval_samples(fashion, "dev")


def test_full_run_writes_report_and_matches_sklearn(fashion, like_rate, tmp_path):
    result = run_eval(fashion, like_rate, split="test", model="item-like-rate",
                      reports_root=tmp_path, progress=False)
    folder = Path(result["report_dir"])
    assert folder == tmp_path / "fashion-test-item-like-rate-n800"
    assert KEYS <= set(result) and result["n"] == 800 and result["scored_now"] == 800
    rows = read_rows(folder)
    samples = eval_samples(fashion, "test")
    assert [r["sample_id"] for r in rows] == [s.sample_id for s in samples]
    assert result["auc"] == pytest.approx(roc_auc_score([r["label"] for r in rows],
                                                        [r["p_yes"] for r in rows]), abs=1e-6)
    assert {"label", "p_yes", "hard_label", "rationale", "prompt_tokens", "seconds"} <= set(rows[0])
    stored = json.loads((folder / "metrics.json").read_text())
    assert all(k in stored for k in METRIC_KEYS)
    config = json.loads((folder / "config.json").read_text())
    assert (config["dataset"], config["split"], config["n"], config["seed"]) == ("fashion", "test", 800, 42)
    for name in ("roc.png", "calibration.png"):
        data = (folder / name).read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 1024
        import matplotlib.image
        assert matplotlib.image.imread(folder / name).shape[0] > 300   # decodes to pixels


def test_vectorised_path_gives_the_same_rows(fashion, like_rate, tmp_path):
    one = run_eval(fashion, like_rate, model="m", limit=300, report_dir=tmp_path / "a",
                   progress=False)
    many = run_eval(fashion, VectorisedLikeRate().fit(fashion), model="m", limit=300,
                    report_dir=tmp_path / "b", progress=False)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(read_rows(tmp_path / "a")) == strip(read_rows(tmp_path / "b"))
    assert one["auc"] == many["auc"]


def test_interrupted_run_resumes_to_the_uninterrupted_result(fashion, like_rate, tmp_path):
    whole = run_eval(fashion, like_rate, model="m", report_dir=tmp_path / "whole", progress=False)
    folder = tmp_path / "resumed"
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_eval(fashion, DiesAfter(30).fit(fashion), model="m", report_dir=folder,
                 progress=False)
    assert len(read_rows(folder)) == 30 and not (folder / "metrics.json").exists()
    resumed = run_eval(fashion, like_rate, model="m", report_dir=folder, progress=False)
    assert (resumed["resumed"], resumed["scored_now"]) == (30, 770)
    ids = [r["sample_id"] for r in read_rows(folder)]
    assert sorted(ids) == sorted(s.sample_id for s in eval_samples(fashion, "test"))
    assert len(ids) == len(set(ids)) == 800                 # every sample exactly once
    for key in ("n", "auc", "accuracy", "f1", "logloss", "ece", "confusion"):
        assert resumed[key] == whole[key], key
    again = run_eval(fashion, like_rate, model="m", report_dir=folder, progress=False)
    assert again["scored_now"] == 0 and again["auc"] == whole["auc"]


KILLED_RUN = """
import sys, time
sys.path.insert(0, {tests!r})
from test_evaluate import ItemLikeRate
from reasoningrec.data import load_dataset
from reasoningrec.evaluate import run_eval

class Slow(ItemLikeRate):
    def predict(self, ds, sample, *, explain=False):
        time.sleep(0.02)
        return super().predict(ds, sample, explain=explain)

ds = load_dataset("fashion", {data!r})
run_eval(ds, Slow().fit(ds), model="m", limit=400, report_dir={folder!r}, progress=False)
"""


def test_kill_9_loses_at_most_the_row_in_flight(fashion, like_rate, data_dir, tmp_path):
    script = KILLED_RUN.format(tests=str(ROOT / "tests"), data=str(data_dir), folder=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    path = tmp_path / "predictions.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists() and path.read_text().count("\n") >= 25:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    saved = path.read_text().count("\n")
    result = run_eval(fashion, like_rate, model="m", limit=400, report_dir=tmp_path,
                      progress=False)
    assert result["resumed"] == saved >= 25 and result["resumed"] + result["scored_now"] == 400
    ids = [r["sample_id"] for r in read_rows(tmp_path)]
    assert len(ids) == len(set(ids)) == 400


def test_torn_last_line_is_ignored_and_rescored(fashion, like_rate, tmp_path):
    run_eval(fashion, like_rate, model="m", limit=60, report_dir=tmp_path, progress=False)
    path = tmp_path / "predictions.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]) + lines[-1][:25])    # crash in the middle of a write
    result = run_eval(fashion, like_rate, model="m", limit=60, report_dir=tmp_path,
                      progress=False)
    assert (result["resumed"], result["scored_now"]) == (59, 1)
    rows = read_rows(tmp_path)
    assert len(rows) == len({r["sample_id"] for r in rows}) == 60


def test_bad_rows_and_other_runs_are_refused(fashion, like_rate, tmp_path):
    run_eval(fashion, like_rate, model="m", limit=40, report_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="different run.*model.*--overwrite"):
        run_eval(fashion, like_rate, model="other", limit=40, report_dir=tmp_path,
                 progress=False)
    path = tmp_path / "predictions.jsonl"
    good = path.read_text()
    lines = good.splitlines(keepends=True)
    path.write_text(lines[0] + "{not json\n" + "".join(lines[1:]))
    with pytest.raises(DataError, match=r"predictions.jsonl:2: unreadable row"):
        run_eval(fashion, like_rate, model="m", limit=40, report_dir=tmp_path, progress=False)
    outsider = {**json.loads(lines[0]), "sample_id": "fashion:test:nobody"}
    path.write_text(json.dumps(outsider) + "\n" + good)
    with pytest.raises(DataError, match="not in this run's sample set"):
        run_eval(fashion, like_rate, model="m", limit=40, report_dir=tmp_path, progress=False)
    result = run_eval(fashion, like_rate, model="other", limit=40, report_dir=tmp_path,
                      overwrite=True, progress=False)
    assert result["scored_now"] == 40 and len(read_rows(tmp_path)) == 40


def test_out_of_range_probability_is_an_error(fashion, tmp_path):
    class Broken(ItemLikeRate):
        def predict(self, ds, sample, *, explain=False):
            return Prediction(p_yes=1.5)
    with pytest.raises(RuntimeError, match=r"P\(Yes\) = 1.5 for fashion:test:"):
        run_eval(fashion, Broken().fit(fashion), model="b", limit=3, report_dir=tmp_path,
                 progress=False)


def test_explanations_are_passed_through_and_stored(fashion, like_rate, tmp_path):
    run_eval(fashion, like_rate, model="m", limit=5, report_dir=tmp_path, explain=True,
             progress=False)
    assert all(r["rationale"].startswith("liked by") for r in read_rows(tmp_path))


def test_cli_json_passes_options_to_load_scorer(data_dir, like_rate, tmp_path, monkeypatch,
                                                capsys):
    import reasoningrec.scoring.registry
    calls = []

    def load_scorer(spec, ds, **options):
        calls.append((spec, ds.name, options))
        return like_rate
    monkeypatch.setattr(reasoningrec.scoring.registry, "load_scorer", load_scorer)
    argv = ["eval", "--dataset", "fashion", "--data-dir", str(data_dir), "--split", "test",
            "--limit", "25", "--model", "zero-shot:smollm2", "--no-profile", "--history-k",
            "3", "--report-dir", str(tmp_path), "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert KEYS <= set(out) and out["n"] == 25 and out["model"] == "zero-shot:smollm2"
    assert calls == [("zero-shot:smollm2", "fashion", {"with_profile": False,
                      "with_description": True, "history_k": 3, "history_mode": "recent",
                      "reasoning": True, "evidence": False, "candidate_last": False,
                      "concurrency": None})]
    stored = json.loads((tmp_path / "config.json").read_text())
    assert stored["prompt"]["with_profile"] is False and stored["limit"] == 25
    # Same folder, other prompt options: refused with a one-line error, exit code 2.
    assert main(argv[:-1] + ["--history-k", "5", "--json"]) == 2
    assert "different run" in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec("reasoningrec.scoring.baselines") is None,
                    reason="reasoningrec.scoring.baselines (popularity) not written yet")
def test_cli_popularity_on_real_data(data_dir, tmp_path):
    run = subprocess.run([sys.executable, "-m", "reasoningrec", "eval", "--dataset", "fashion",
                          "--data-dir", str(data_dir), "--split", "test", "--model",
                          "popularity", "--report-dir", str(tmp_path), "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert KEYS <= set(out) and out["n"] == 800 and 0.0 <= out["auc"] <= 1.0
    rows = read_rows(tmp_path)
    assert out["auc"] == pytest.approx(roc_auc_score([r["label"] for r in rows],
                                                     [r["p_yes"] for r in rows]), abs=1e-6)
    assert (tmp_path / "roc.png").read_bytes()[:8] == PNG_MAGIC


# ---- --sample paper and the authors' student replayed ------------------------------------------
K64 = "sample64_valsample800_lr1e-4_valauc"
K256 = "sample256_valsample800_lr1e-4_valauc"


def test_paper_sample_is_the_authors_draw_and_that_draw_is_seeded(fashion, ml1m):
    paper = eval_samples(fashion, "test", sample="paper")
    assert len(paper) == 800
    assert [s.user_id for s in paper] == list(fashion.authors[K64])  # their users, their order
    # The finding it rests on: seed 42 over the test samples that have a Mixtral rationale.
    covered = [s for s in fashion.splits["test"] if fashion.teacher_rationale(s) is not None]
    assert len(covered) == 896
    assert paper == random.Random(42).sample(covered, 800)
    assert paper != eval_samples(fashion, "test")  # not the seeded draw over all 1,273
    assert eval_samples(fashion, "test", limit=40, sample="paper") == paper[:40]
    # No authors' outputs (ML-1M) or not the test split: the seeded draw.
    assert eval_samples(ml1m, "test", sample="paper") == eval_samples(ml1m, "test")
    assert eval_samples(fashion, "valid", sample="paper") == eval_samples(fashion, "valid")
    with pytest.raises(ValueError, match="--seed 7 does not apply"):
        eval_samples(fashion, "test", seed=7, sample="paper")
    with pytest.raises(ValueError, match="unknown sample 'authors'"):
        eval_samples(fashion, "test", sample="authors")


def test_report_says_which_sample_and_keeps_paper_runs_apart(fashion, like_rate, tmp_path):
    paper = run_eval(fashion, like_rate, model="item-like-rate", reports_root=tmp_path,
                     progress=False, sample="paper")
    assert paper["sample"]["name"] == "paper" and paper["sample"]["n"] == paper["n"] == 800
    assert Path(paper["report_dir"]) == tmp_path / "fashion-test-item-like-rate-n800-paper"
    seeded = run_eval(fashion, like_rate, model="item-like-rate", reports_root=tmp_path,
                      progress=False)
    assert seeded["sample"]["name"] == "seeded" and seeded["report_dir"] != paper["report_dir"]
    assert seeded["auc"] != paper["auc"]
    stored = json.loads((Path(paper["report_dir"]) / "metrics.json").read_text())
    assert stored["sample"]["name"] == "paper"
    assert json.loads((Path(paper["report_dir"]) / "config.json").read_text())["sample"] == "paper"
    # one folder, the other sample: refused rather than mixed
    with pytest.raises(ValueError, match="sample: stored 'paper', now 'seeded'"):
        run_eval(fashion, like_rate, model="item-like-rate", report_dir=paper["report_dir"],
                 progress=False, limit=800)


def test_ml1m_paper_sample_says_it_is_the_seeded_draw(ml1m, tmp_path):
    from reasoningrec.scoring.registry import load_scorer
    result = run_eval(ml1m, load_scorer("like-share", ml1m), model="like-share", progress=False,
                      reports_root=tmp_path, sample="paper")
    assert result["sample"]["name"] == "seeded" and result["sample"]["requested"] == "paper"
    assert result["n"] == 1500 and "no authors' outputs" in result["sample"]["how"]


@pytest.mark.parametrize("run, auc", [(K64, 0.6554), (f"llama2-7b-chat/{K256}", 0.7356)])
def test_cli_authors_replay_reproduces_their_auc(data_dir, tmp_path, run, auc):
    run_ = subprocess.run([sys.executable, "-m", "reasoningrec", "eval", "--dataset", "fashion",
                           "--data-dir", str(data_dir), "--model", f"authors:{run}", "--sample",
                           "paper", "--report-dir", str(tmp_path), "--json", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run_.returncode == 0, run_.stderr
    out = json.loads(run_.stdout)
    assert round(out["auc"], 4) == auc and out["n"] == 800
    assert out["sample"] == {**out["sample"], "name": "paper", "n": 800}
    rows = read_rows(tmp_path)
    assert all(r["rationale"] and not r["rationale"].lower().startswith("prediction")
               for r in rows)


def test_authors_scorer_refuses_samples_outside_their_draw(fashion, tmp_path):
    from reasoningrec.scoring.registry import load_scorer
    scorer = load_scorer(f"authors:{K64}", fashion)
    assert scorer.name == f"authors:llama2-7b-chat/{K64}" and scorer.writes_rationale
    sample = eval_samples(fashion, "test", sample="paper")[0]
    row = fashion.authors_output(K64, sample)
    pred = scorer.predict(fashion, sample, explain=True)
    assert pred.p_yes == row.p_yes and pred.rationale in row.explanation
    with pytest.raises(ValueError, match="outside their draw .* --sample paper"):
        run_eval(fashion, scorer, model=f"authors:{K64}", reports_root=tmp_path, progress=False)
    assert not any(tmp_path.iterdir())  # refused before a report folder was made
    with pytest.raises(ValueError, match="outside their draw"):
        scorer.predict(fashion, fashion.splits["valid"][0])
    with pytest.raises(ValueError, match="no authors' run 'sample64'"):
        load_scorer("authors:sample64", fashion)


def test_cli_authors_on_a_dataset_without_outputs_exits_2(data_dir, tmp_path, capsys):
    argv = ["eval", "--dataset", "ml1m", "--data-dir", str(data_dir), "--model",
            f"authors:{K64}", "--sample", "paper", "--report-dir", str(tmp_path)]
    assert main(argv) == 2
    assert "ml1m has no authors' outputs" in capsys.readouterr().err
