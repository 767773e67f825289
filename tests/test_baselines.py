"""Classic baselines (popularity, mf, sasrec) on the real ML-1M and Fashion data.

    .venv/bin/python -m pytest tests/test_baselines.py -q      # ~2 min on 2 shared CPUs

SASRec runs with one epoch on one thread here (the default trains up to 5 epochs);
everything else is the shipped configuration. AUC floors sit well below what each model
measured (popularity 0.78, mf 0.82, sasrec 0.78 after one epoch on ML-1M test) and well above
chance.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from reasoningrec.scoring.baselines import (forget_fitted, held_out_pairs, like_threshold, make,
                                    training_data)
from reasoningrec.scoring.baselines.sasrec import training_examples

FAST_SASREC = dict(max_epochs=1, threads=1)




def scores(scorer, ds, samples):
    p = np.array([x.p_yes for x in scorer.predict_many(ds, samples)])
    assert p.shape == (len(samples),) and np.all((p >= 0) & (p <= 1))
    return p


def split_auc(scorer, ds, split="test"):
    samples = ds.splits[split]
    return roc_auc_score([s.label for s in samples], scores(scorer, ds, samples))




def test_like_threshold_matches_the_papers_files(ml1m, fashion):
    # data/README.md: ML-1M liked = rating >= 3; Amazon liked = rating > 3.
    assert like_threshold(ml1m) == 3.0 and like_threshold(fashion) == 4.0
    for ds in (ml1m, fashion):  # test-split history labels, which the inference never reads
        ratings = {(x.user_id, x.item_id): x.rating for x in ds.interactions}
        pairs = [(ratings[(s.user_id, h.item_id)], h.liked) for s in ds.splits["test"]
                 for h in s.history if (s.user_id, h.item_id) in ratings]
        threshold = like_threshold(ds)
        agree = sum((r >= threshold) == liked for r, liked in pairs)
        assert len(pairs) > 4000 and agree / len(pairs) > 0.99


@pytest.mark.parametrize("name", ["ml1m", "fashion"])
def test_no_valid_or_test_target_reaches_training(name, request):
    ds = request.getfixturevalue(name)
    targets = {(s.user_id, s.target) for split in ("valid", "test") for s in ds.splits[split]}
    assert held_out_pairs(ds) == targets
    data = training_data(ds)
    assert not data.pairs() & targets
    # Nothing else is lost: every other raw rating is in.
    assert data.pairs() >= {(x.user_id, x.item_id) for x in ds.interactions} - targets
    if name == "ml1m":  # each (user, item) rated once; two held-out targets per user
        assert len(data.liked) == 1_000_209 - 2 * 6040
    # The matrices mf factorises hold none of the targets...
    rated = make("mf").fit(ds).state.matrices["rated"]
    for user, item in targets:
        u, i = data.user_index.get(user), data.item_index.get(item)
        assert u is None or i is None or rated[u, i] == 0
    # ...and no SASRec training example asks about one.
    examples = training_examples(ds)
    assert not {(user, target) for user, _, target, _ in examples} & targets
    assert len(examples) > 3 * len(ds.splits["train"])  # sliding windows came in


def test_popularity_is_the_smoothed_item_like_rate(ml1m):
    scorer = make("popularity").fit(ml1m)
    assert scorer.name == "popularity" and split_auc(scorer, ml1m) > 0.72
    # One item by hand from the raw ratings: likes/ratings outside the held-out pairs.
    held_out = held_out_pairs(ml1m)
    kept = [(x.item_id, x.rating >= 3) for x in ml1m.interactions
            if (x.user_id, x.item_id) not in held_out]
    g = sum(liked for _, liked in kept) / len(kept)
    target = ml1m.splits["test"][0]
    hits = [liked for item, liked in kept if item == target.target]
    expected = (sum(hits) + 5 * g) / (len(hits) + 5)
    assert scorer.predict(ml1m, target).p_yes == pytest.approx(expected, rel=1e-9)


def test_mf_beats_popularity_on_ml1m(ml1m):
    mf = make("mf").fit(ml1m)
    assert mf.name == "mf"
    mf_auc, pop_auc = split_auc(mf, ml1m), split_auc(make("popularity").fit(ml1m), ml1m)
    assert mf_auc > 0.78 and mf_auc > pop_auc + 0.02
    assert split_auc(mf, ml1m, "valid") > 0.78


def test_sasrec_learns_on_ml1m(ml1m):
    scorer = make("sasrec", **FAST_SASREC).fit(ml1m)
    assert scorer.name == "sasrec" and scorer.state.epochs == 1
    assert scorer.state.best_valid_auc > 0.7 and split_auc(scorer, ml1m) > 0.7


@pytest.mark.parametrize("name,options", [("popularity", {}), ("mf", {}),
                                          ("sasrec", FAST_SASREC)])
def test_cold_items_fall_back_and_are_counted(fashion, name, options):
    scorer = make(name, **options).fit(fashion)
    test = fashion.splits["test"]
    known = {item for _, item in training_data(fashion).pairs()}
    if name == "sasrec":
        known = {i for _, history, target, _ in training_examples(fashion)
                 for i in [target, *(h.item_id for h in history)]}
    cold = [s.target not in known for s in test]
    assert sum(cold) > 0.5 * len(test)  # data/README.md: 55% of Fashion test targets are cold
    preds = scorer.predict_many(fashion, test)
    assert [p.extra["cold_item"] for p in preds] == cold
    assert scorer.fallbacks["cold_item"] == sum(cold)
    p = scores(scorer, fashion, test)
    assert np.isfinite(p).all() and len(set(np.round(p, 6))) > 10
    if name == "popularity":  # the global like-rate, exactly
        assert {round(x.p_yes, 12) for x, c in zip(preds, cold) if c} == \
            {round(float(training_data(fashion).liked.mean()), 12)}
    # A user and an item nobody has seen still get a probability.
    stranger = replace(test[0], user_id="no-such-user", target="no-such-item")
    pred = scorer.predict(fashion, stranger)
    assert 0 < pred.p_yes < 1 and pred.extra["cold_item"]
    assert split_auc(scorer, fashion) > 0.5


@pytest.mark.parametrize("name,options", [("mf", {}), ("sasrec", FAST_SASREC)])
def test_fitting_is_deterministic_and_cached(fashion, name, options):
    first = make(name, **options).fit(fashion)
    assert make(name, **options).fit(fashion).state is first.state  # fitted once per dataset
    forget_fitted()
    second = make(name, **options).fit(fashion)
    assert second.state is not first.state
    test = fashion.splits["test"]
    assert np.array_equal(scores(first, fashion, test), scores(second, fashion, test))


def test_registry_and_bad_names(fashion):
    from reasoningrec.scoring.registry import load_scorer
    scorer = load_scorer("popularity", fashion)
    assert scorer.predict(fashion, fashion.splits["test"][0]).p_yes > 0
    with pytest.raises(ValueError, match="unknown baseline 'svd'"):
        make("svd")
    with pytest.raises(ValueError, match="fitted on fashion"):
        scorer.predict_many(replace(fashion, name="other"), fashion.splits["test"][:1])


def test_like_share_is_the_liked_share_of_the_shown_history(ml1m, fashion):
    from reasoningrec.evaluate import eval_samples
    scorer = make("like-share").fit(fashion)
    assert scorer.name == "like-share"
    first = fashion.splits["test"][:50]
    for s, p in zip(first, scores(scorer, fashion, first)):
        assert p == sum(h.liked for h in s.history) / len(s.history)
    last10 = make("like-share", history_k=10).fit(ml1m)
    s = ml1m.splits["test"][0]
    assert len(s.history) == 20
    assert last10.predict(ml1m, s).p_yes == sum(h.liked for h in s.history[-10:]) / 10
    empty = replace(s, history=())
    assert last10.predict(ml1m, empty).p_yes == 0.5
    assert last10.predict(ml1m, empty).extra["empty_history"] is True
    # The figures on the paper's seeded draws (0.739 ML-1M, 0.825 Fashion).
    for ds, auc in ((ml1m, 0.7388), (fashion, 0.8247)):
        samples = eval_samples(ds, "test")
        got = roc_auc_score([x.label for x in samples], scores(make("like-share").fit(ds), ds,
                                                              samples))
        assert round(got, 4) == auc
    with pytest.raises(ValueError, match="history_k must be >= 1"):
        make("like-share", history_k=0)


def test_like_share_through_load_scorer_reads_history_k(ml1m):
    from reasoningrec.scoring.registry import BASELINES, load_scorer
    assert "like-share" in BASELINES
    scorer = load_scorer("like-share", ml1m, history_k=5, history_mode="recent",
                         with_description=False)
    assert scorer.history_k == 5
    assert load_scorer("like-share", ml1m).history_k is None
    with pytest.raises(ValueError, match="most recent --history-k"):
        load_scorer("like-share", ml1m, history_k=5, history_mode="relevant")
