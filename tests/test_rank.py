"""Ranking with shared-prefix reuse gives the naive loop's scores (tiny model, real sample)."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pytest
from tiny_model import tiny_model  # noqa: F401  (session fixture)

from reasoningrec.models.loader import load_backend
from reasoningrec.scoring.llm import LLMScorer
from reasoningrec.scoring.rank import candidate_items, candidate_prompts, rank_candidates


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


def test_candidate_last_layout_ranks_alike_from_a_longer_shared_prefix(ml1m, tiny_model):  # noqa: F811
    """candidate_last names the candidate in the answer's first line: the candidates' prompts
    share everything but that line (the request and the chat turn markers too), so far fewer
    tokens are left per candidate than in the paper's layout, and the fast path still equals
    the naive loop."""
    from reasoningrec.scoring.options import PromptOptions
    backend = load_backend(f"llamacpp:{tiny_model.gguf}")
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 8)
    tails = {}
    for last in (False, True):
        scorer = LLMScorer(backend, "student", PromptOptions(candidate_last=last,
                                                          with_description=False))
        rendered = candidate_prompts(scorer, ml1m, sample, ids)
        tails[last] = [r.n_tokens - r.prefix_length for r in rendered]
        for item_id, r in zip(ids, rendered):
            title = ml1m.item(item_id).title
            tail = r.text[len(r.shared_prefix):]
            assert tail.startswith(title) and r.text.count(title) == (1 if last else 2)
            assert ("Predict whether" in tail) is not last  # the request is in the prefix
        fast, _ = rank_candidates(scorer, ml1m, sample, ids, fast=True)
        naive = dict(rank_candidates(scorer, ml1m, sample, ids, fast=False)[0])
        for item_id, p in fast:
            assert p == pytest.approx(naive[item_id], abs=1e-6)
    assert max(tails[True]) < min(tails[False]) / 3
    with pytest.raises(ValueError, match="no candidate-last layout"):
        LLMScorer(backend, "tallrec", PromptOptions(candidate_last=True))
    # a server templates the chat itself: it would never see a candidate named in the answer
    from reasoningrec.models.openai import OpenAIBackend
    with pytest.raises(ValueError, match="cannot continue an assistant turn"):
        LLMScorer(OpenAIBackend("http://127.0.0.1:9", "m"), "student",
                  PromptOptions(candidate_last=True))


def test_hf_batched_ranking_matches_one_at_a_time(ml1m, tiny_model):  # noqa: F811
    """The transformers path scores all candidates in one left-padded batch; each P(Yes) is
    the one it gets alone (real sample, 12 candidates of different tail lengths)."""
    from reasoningrec.models.hf import HFBackend
    scorer = LLMScorer(HFBackend(str(tiny_model.hf_dir), batch_size=12), "student")
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 12)
    texts = [r.text for r in candidate_prompts(scorer, ml1m, sample, ids)]
    assert len({len(scorer.backend.tokenize(t)) for t in texts}) > 1  # padding is exercised
    batched, _ = rank_candidates(scorer, ml1m, sample, ids, fast=True)
    alone = dict(rank_candidates(scorer, ml1m, sample, ids, fast=False)[0])
    for item_id, p in batched:
        assert p == pytest.approx(alone[item_id], abs=1e-3)


@pytest.mark.slow
def test_evidence_student_ranks_with_evidence_in_its_prompts(ml1m):
    """rank renders through the scorer (issue #16): the hybrid student's candidates carry
    their own collaborative evidence, and each prompt is exactly the one `predict` scores."""
    from reasoningrec.scoring.evidence import EvidenceIndex, evidence_text
    from reasoningrec.prompts.text import wording
    from reasoningrec.scoring.registry import load_scorer
    scorer = load_scorer("student-evidence", ml1m)
    assert scorer.options.evidence
    sample = ml1m.sample("test", "1")
    ids = candidate_items(ml1m, sample, 4)
    texts = [r.text for r in candidate_prompts(scorer, ml1m, sample, ids)]
    index = EvidenceIndex.fit(ml1m)
    lines = [evidence_text(index.evidence(replace(sample, target=i)), wording(ml1m)).strip()
             for i in ids]
    assert len(set(lines)) == len(ids)  # each candidate has its own evidence
    for item_id, line, text in zip(ids, lines, texts):
        assert line in text and sum(other in text for other in lines) == 1
        assert text == scorer.render(ml1m, replace(sample, target=item_id)).text
    ranked, _ = rank_candidates(scorer, ml1m, sample, ids)
    first, p = ranked[0]
    assert p == pytest.approx(scorer.predict(ml1m, replace(sample, target=first)).p_yes, abs=1e-3)


def test_rank_cli(data_dir, tiny_model):  # noqa: F811
    out = subprocess.run([sys.executable, "-m", "reasoningrec", "rank", "--dataset", "ml1m",
                          "--data-dir", str(data_dir), "--user", "1", "--candidates", "6",
                          "--model", f"llamacpp:{tiny_model.gguf}", "--top", "3", "--json"],
                         capture_output=True, text=True, timeout=300, check=True)
    result = json.loads(out.stdout)
    assert len(result["top"]) == 3 and result["candidates"] == 6
    assert 1 <= result["target_rank"] <= 6
