"""Retrieval on the real ML-1M catalogue: embedding cache, history selection, item search.

    .venv/bin/python -m pytest tests/test_retrieval.py -q

Most tests embed a ~280-item subset (~25 s in all); one `slow` test embeds all 3,883 items
and prints the time (`-m slow -s`).
"""
from __future__ import annotations

import csv
import dataclasses
import time

import numpy as np
import pytest

from reasoningrec import retrieval
from reasoningrec.data import load_dataset
from reasoningrec.data.schema import HistoryEntry, Sample
from reasoningrec.retrieval import ItemIndex, search_titles, select_history

TOY_STORY, TOY_STORY_2, BUGS_LIFE = "1", "3114", "2355"
# Real items the hand-made history below uses: non-animated dramas/thrillers plus two Pixar films
NEEDED = ["1", "6", "10", "16", "17", "25", "2355", "3114", "588", "364", "48"]


@pytest.fixture(scope="session")
def catalogue(data_dir):
    return load_dataset("ml1m", data_dir).items


@pytest.fixture(scope="session")
def first_test_sample(data_dir):
    """User 1's test sample, read straight from the paper's CSV (independent of the loader)."""
    with open(data_dir / "reasoningrec" / "ml_1m" / "ctr" / "test.csv", newline="") as f:
        row = next(csv.DictReader(f))
    ids = [s.strip() for s in row["history_item_id"].strip("[]").split(",")]
    liked = [s.strip() == "1" for s in row["history_rating"].strip("[]").split(",")]
    history = tuple(HistoryEntry(i, l) for i, l in zip(ids, liked))
    return Sample("ml1m", "test", row["user"], history, row["item_id"], int(row["rating"]))


def subset(catalogue, n, extra=()):
    """The first `n` catalogue items plus `extra` ids, in catalogue order."""
    keep = set(list(catalogue)[:n]) | set(extra)
    return {i: it for i, it in catalogue.items() if i in keep}


@pytest.fixture(scope="session")
def index(catalogue, first_test_sample):
    sample = first_test_sample
    extra = NEEDED + [e.item_id for e in sample.history] + [sample.target]
    return ItemIndex.build(subset(catalogue, 250, extra), use_cache=False)


def test_title_search_needs_no_model(catalogue):
    before = dict(retrieval.stats)
    hits = search_titles(catalogue, "TOY story", n=5)
    assert hits[0].id == TOY_STORY and TOY_STORY_2 in [h.id for h in hits]
    assert all("toy story" in h.title.lower() for h in hits)
    assert search_titles(catalogue, "   ") == []
    assert search_titles(catalogue, "no such film zzz") == []
    assert retrieval.stats == before  # no model load, nothing encoded


def test_cache_hit_then_invalidation(catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path))
    items = subset(catalogue, 120)
    n0 = retrieval.stats["texts_encoded"]
    first = ItemIndex.build(items)
    assert retrieval.stats["texts_encoded"] == n0 + len(items)
    second = ItemIndex.build(items)
    assert retrieval.stats["texts_encoded"] == n0 + len(items)  # cache hit: nothing encoded
    assert second.key == first.key and np.array_equal(second.vectors, first.vectors)

    changed_id = list(items)[7]
    old = items[changed_id]
    items[changed_id] = dataclasses.replace(
        old, attributes={**old.attributes, "description": "A submarine crew fights a kraken."})
    third = ItemIndex.build(items)
    assert third.key != first.key
    assert retrieval.stats["texts_encoded"] == n0 + 2 * len(items)  # re-embedded
    row = third.row[changed_id]
    assert float(third.vectors[row] @ first.vectors[row]) < 0.95
    others = [r for r in range(len(items)) if r != row]
    assert np.allclose(third.vectors[others], first.vectors[others], atol=1e-4)
    assert list((tmp_path / "embeddings").glob("*.tmp")) == []  # atomic writes left no temp files
    assert len(list((tmp_path / "embeddings").glob("*.npz"))) == 2


def test_corrupt_cache_is_rebuilt(catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path))
    items = subset(catalogue, 20)
    good = ItemIndex.build(items)
    [path] = (tmp_path / "embeddings").glob("*.npz")
    path.write_bytes(path.read_bytes()[:100])  # a truncated file, as after a crash mid-write
    n0 = retrieval.stats["texts_encoded"]
    again = ItemIndex.build(items)
    assert retrieval.stats["texts_encoded"] == n0 + len(items)
    assert np.allclose(again.vectors, good.vectors, atol=1e-5)
    n1 = retrieval.stats["texts_encoded"]
    ItemIndex.build(items)  # the repaired file is a hit again
    assert retrieval.stats["texts_encoded"] == n1


def test_relevant_history_picks_the_pixar_films(index):
    history = tuple(HistoryEntry(i, True) for i in ["6", "1", "17", "16", "2355", "10", "25"])
    sample = Sample("ml1m", "test", "u", history, TOY_STORY_2, 1)
    picked = select_history(sample, 2, mode="relevant", index=index)
    assert [e.item_id for e in picked] == [TOY_STORY, BUGS_LIFE]  # chronological order
    assert [e.item_id for e in select_history(sample, 2, mode="recent")] == ["10", "25"]
    # a different candidate changes the choice: Aladdin is closer to the Pixar films than dramas
    three = select_history(sample, 3, mode="relevant", index=index, candidate="588")
    assert {TOY_STORY, BUGS_LIFE} <= {e.item_id for e in three}


def test_relevant_history_matches_independent_cosine(index, first_test_sample):
    """Top-k by cosine, computed here straight from sentence-transformers, in history order."""
    sample, k = first_test_sample, 5
    texts = [retrieval.embed_text(index.items[index.row[e.item_id]]) for e in sample.history]
    target_text = retrieval.embed_text(index.items[index.row[sample.target]])
    vecs = retrieval.get_model().encode(texts + [target_text], normalize_embeddings=True)
    cos = vecs[:-1] @ vecs[-1]
    expected = sorted(np.argsort(-cos)[:k])
    picked = select_history(sample, k, mode="relevant", index=index)
    assert list(picked) == [sample.history[i] for i in expected]
    assert select_history(sample, k, mode="recent") == sample.history[-k:]


def test_history_edge_cases(index):
    history = tuple(HistoryEntry(i, i != "6") for i in ["1", "6", "1"])
    sample = Sample("ml1m", "test", "u", history, TOY_STORY_2, 1)
    # the two Toy Story entries tie exactly: the more recent one wins, every time
    assert select_history(sample, 1, mode="relevant", index=index) == (history[2],)
    for mode in ("recent", "relevant"):
        assert select_history(sample, 10, mode=mode, index=index) == history
    for bad_k in (0, -3):
        with pytest.raises(ValueError, match="positive integer"):
            select_history(sample, bad_k)
    with pytest.raises(ValueError, match="unknown history mode"):
        select_history(sample, 1, mode="random")
    with pytest.raises(ValueError, match="needs an ItemIndex"):
        select_history(sample, 1, mode="relevant")
    with pytest.raises(KeyError, match="not in this index"):
        select_history(dataclasses.replace(sample, target="999999"), 1, "relevant", index)


def test_query_and_similar_item_search(index):
    assert index.search("toy story", 3)[0][0].id == TOY_STORY
    similar = [item.id for item, _ in index.similar(TOY_STORY, 5)]
    assert TOY_STORY_2 in similar and TOY_STORY not in similar
    scores = [s for _, s in index.search("animated toys come to life", 10)]
    assert scores == sorted(scores, reverse=True)
    with pytest.raises(ValueError, match="empty search query"):
        index.search("  ")


@pytest.mark.slow  # ~60 s on 2 idle CPUs, ~145 s when another job shares them
def test_full_catalogue_embeds_and_caches(catalogue, tmp_path, monkeypatch):
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path))
    retrieval.get_model()  # time the embedding, not the one-off model load
    start = time.perf_counter()
    full = ItemIndex.build(catalogue)
    seconds = time.perf_counter() - start
    print(f"embedded {len(full)} items in {seconds:.1f} s")
    assert len(full) == 3883 and full.vectors.shape == (3883, 384)
    assert TOY_STORY_2 in [item.id for item, _ in full.similar(TOY_STORY, 5)]
    encoded = retrieval.stats["texts_encoded"]
    again = ItemIndex.build(catalogue)  # from the cache: nothing encoded again, same vectors
    assert retrieval.stats["texts_encoded"] == encoded
    assert np.array_equal(again.vectors, full.vectors)


def test_embed_text_leaves_out_the_long_plot(catalogue):
    toy = catalogue[TOY_STORY]
    assert "plot" in toy.attributes  # the loader merged the OMDb extras
    text = retrieval.embed_text(toy)
    assert text.startswith("Toy Story;") and toy.description in text and "genres:" in text
    assert toy.attributes["plot"] not in text
    no_summary = dataclasses.replace(toy, attributes={"plot": toy.attributes["plot"]})
    assert toy.attributes["plot"] in retrieval.embed_text(no_summary)  # nothing shorter to use
