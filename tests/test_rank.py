"""Ranking with shared-prefix reuse gives the naive loop's scores (tiny model, real sample)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.models.loader import load_backend
from reasoningrec.predict import LLMScorer
from reasoningrec.rank import candidate_items, rank_candidates



def test_candidates_are_target_plus_unseen(ml1m):
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 25, seed=3)
    assert ids[0] == sample.target and len(set(ids)) == 25
    assert not {h.item_id for h in sample.history} & set(ids[1:])
    assert ids == candidate_items(ml1m, sample, 25, seed=3)
    with pytest.raises(ValueError):
        candidate_items(ml1m, sample, 0)


def test_fast_ranking_matches_naive_scores(ml1m, tiny_model):  # noqa: F811
    scorer = LLMScorer(load_backend(f"llamacpp:{tiny_model.gguf}"), "student")
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 12)
    fast, fast_stats = rank_candidates(scorer, ml1m, sample, ids, fast=True)
    naive, _ = rank_candidates(scorer, ml1m, sample, ids, fast=False)
    assert len(fast) == 12 and fast_stats["history_kept"] == 20
    naive_scores = dict(naive)
    for item_id, p in fast:
        assert p == pytest.approx(naive_scores[item_id], abs=1e-6)
    assert [p for _, p in fast] == sorted((p for _, p in fast), reverse=True)
    with pytest.raises(KeyError):
        rank_candidates(scorer, ml1m, sample, ["no-such-item"])


def test_rank_cli(data_dir, tiny_model):  # noqa: F811
    out = subprocess.run([sys.executable, "-m", "reasoningrec", "rank", "--dataset", "ml1m",
                          "--data-dir", str(data_dir), "--user", "1", "--candidates", "6",
                          "--model", f"llamacpp:{tiny_model.gguf}", "--top", "3", "--json"],
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    assert len(result["top"]) == 3 and result["candidates"] == 6
    assert 1 <= result["target_rank"] <= 6
