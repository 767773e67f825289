"""Top 10 for a demo-pool user with the app's own student (real llama.cpp, the shipped pool):
sorted, each P(Yes) the one `predict` gives that candidate, the held-out item flagged.

    nice -n 19 .venv/bin/python -m pytest tests/test_pool_rank.py -q
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.scoring.pool_rank import pool_candidates, top_for_pool_user

POOL = DemoPool.load()


def test_pool_candidates_are_the_users_own_then_unrated_others():
    user = POOL.users["ml1m"][0]
    ids, own = pool_candidates(POOL, "ml1m", user.user_id, 12)
    assert ids[0] == user.sample.target and own == len(user.candidates)
    assert ids[:own] == [c.item_id for c in user.candidates]
    assert len(ids) == len(set(ids)) == 12
    assert not {h.item_id for h in user.sample.history} & set(ids)
    assert set(ids) <= set(POOL.datasets["ml1m"].items)
    with pytest.raises(KeyError):
        pool_candidates(POOL, "ml1m", "no-such-user")
    with pytest.raises(ValueError):
        pool_candidates(POOL, "ml1m", user.user_id, 0)


@pytest.mark.slow
def test_top_10_is_sorted_flags_the_held_out_item_and_scores_as_predict():
    from reasoningrec.ui.service import AppService
    service = AppService(POOL)                # each dataset's default student, as the app serves
    explainer = service.student("ml1m").explainer
    user = POOL.users["ml1m"][0]
    calls = []
    top = top_for_pool_user(explainer, POOL, "ml1m", user.user_id, n=12,
                            progress=lambda done, total: calls.append((done, total)))
    assert top.candidates == 12 and top.own == len(user.candidates) and len(top.rows) == 10
    assert calls[-1] == (12, 12) and [d for d, _ in calls] == sorted(d for d, _ in calls)
    scores = [r.p_yes for r in top.rows]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) > 1
    # the held-out test item is flagged exactly where it is listed (with the user's answer)
    flagged = [r for r in top.rows if r.held_out]
    assert all(r.item_id == user.sample.target for r in flagged) and len(flagged) <= 1
    for r in flagged:
        assert r.label == user.sample.label
    # each P(Yes) is the one LLMScorer.predict gives the pool user with that candidate: the
    # best, the held-out item (wherever it ranked) and the tenth
    scorer = explainer.scorer()
    check = {top.rows[0].item_id: top.rows[0].p_yes, top.rows[-1].item_id: top.rows[-1].p_yes}
    if not flagged:   # ranked below the top 10: its score from the full ranking
        full = top_for_pool_user(explainer, POOL, "ml1m", user.user_id, n=12, top=12)
        check.update({r.item_id: r.p_yes for r in full.rows if r.held_out})
        assert any(r.held_out for r in full.rows)
    else:
        check[flagged[0].item_id] = flagged[0].p_yes
    ds = POOL.datasets["ml1m"]
    for item_id, p_yes in check.items():
        predicted = scorer.predict(ds, replace(user.sample, target=item_id)).p_yes
        assert p_yes == pytest.approx(predicted, abs=1e-3), item_id
