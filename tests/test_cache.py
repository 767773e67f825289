"""In-process caches (reasoningrec/cache.py): an entry belongs to the dataset object it was
built for, so the demo pool's "fashion"/"ml1m" (a few hundred items, no training ratings) and
the full datasets of the same names never share one; the same object always hits.

The pool comes from assets/demo_pool, the full datasets from ../shared/data.
"""
from __future__ import annotations

import gc

import numpy as np
import pytest

from reasoningrec.cache import Cache
from reasoningrec.data import _DATASETS
from reasoningrec.demo_pool import DemoPool
from reasoningrec.scoring.baselines import make
from reasoningrec.scoring.baselines.interactions import training_data
from reasoningrec.scoring.evidence import EvidenceIndex
from reasoningrec.scoring.options import PromptOptions


@pytest.fixture(scope="module")
def pool():
    return DemoPool.load()


def test_pool_and_full_dataset_of_one_name_never_share_training_caches(pool, fashion):
    small = pool.datasets["fashion"]
    assert small.name == fashion.name and len(small.items) < len(fashion.items)
    data = training_data(fashion)
    assert training_data(fashion) is data                        # the same dataset hits
    fitted = make("popularity").fit(fashion)
    assert make("popularity").fit(fashion).state is fitted.state
    index = EvidenceIndex.fit(fashion)
    assert EvidenceIndex.fit(fashion) is index
    # The pool has no training ratings: each cache builds for it and fails, instead of
    # handing out the full dataset's entry filed under the same name.
    for build in (training_data, make("popularity").fit, make("mf").fit, EvidenceIndex.fit):
        with pytest.raises(ValueError, match="no training interactions"):
            build(small)
    assert training_data(fashion) is data and EvidenceIndex.fit(fashion) is index


def test_entries_belong_to_their_owner(pool):
    cache = Cache("test_cache: owners")
    twin = DemoPool.load().datasets["ml1m"]          # same name, same content, another object
    ds = pool.datasets["ml1m"]
    built = []

    def build(d):
        built.append(d)
        return object()
    first = cache.get(ds, lambda: build(ds))
    assert cache.get(ds, lambda: build(ds)) is first and built == [ds]
    other = cache.get(twin, lambda: build(twin))
    assert other is not first and len(cache) == 2
    assert cache.get(ds, lambda: build(ds), key="k") is not first   # a key within an owner
    del twin, other, built[:]
    gc.collect()
    assert len(cache) == 2                            # the twin's entry went with it
    with pytest.raises(RuntimeError, match="boom"):
        cache.get(None, lambda: (_ for _ in ()).throw(RuntimeError("boom")), key="x")
    assert len(cache) == 2                            # a failed build leaves nothing
    assert cache.get(None, lambda: 7, key="x") == 7
    Cache("test_cache: owners")                      # this module again (a rerun or reload)
    with pytest.raises(ValueError, match="exists already"):
        Cache(_DATASETS.name)                         # reasoningrec.data's


def test_loaded_datasets_are_keyed_by_folder(data_dir, fashion, fashion_copy):
    from reasoningrec.data import load_dataset
    root = fashion_copy().parent.parent                # the same files in another folder
    copy = load_dataset("fashion", root)
    assert load_dataset("fashion", data_dir) is fashion
    assert copy is not fashion and load_dataset("fashion", root) is copy


def _seed_embeddings(items) -> None:
    """Unit vectors for `items` in the on-disk cache that ItemIndex.build reads first (random:
    this test is about which index a dataset gets, not about embedding quality)."""
    from reasoningrec.config import cache_dir
    from reasoningrec.retrieval import MODEL_NAME, _save_atomic, catalogue_hash, embed_text
    ids = list(items)
    key = catalogue_hash(ids, [embed_text(items[i]) for i in ids])
    vectors = np.random.default_rng(len(ids)).normal(size=(len(ids), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    _save_atomic(cache_dir() / "embeddings" / f"{MODEL_NAME}-{key[:32]}.npz", ids, vectors)


def test_relevant_history_index_is_per_dataset(data_dir, tmp_path, monkeypatch):
    """The bug this fixes: the index was filed under ds.name, so the full ML-1M got the pool's
    444-item index. Fresh dataset objects and a private cache folder: the seeded vectors reach
    no other test."""
    from reasoningrec import retrieval
    from reasoningrec.data import load_dataset
    from reasoningrec.scoring.llm import catalogue_index, prompt_history
    monkeypatch.setenv("REASONINGREC_CACHE_DIR", str(tmp_path))
    small = DemoPool.load().datasets["ml1m"]
    full = load_dataset("ml1m", data_dir, cache=False)
    for ds in (small, full):
        _seed_embeddings(ds.items)
    encoded = retrieval.stats["texts_encoded"]
    opts = PromptOptions(history_k=3, history_mode="relevant")
    prompt_history(small, small.splits["test"][0], opts)
    index = catalogue_index(small)
    assert catalogue_index(small) is index and len(index) == len(small.items)
    # a full-dataset user whose history reaches outside the pool's catalogue
    sample = next(s for s in full.splits["test"]
                  if any(h.item_id not in small.items for h in s.history))
    shown = prompt_history(full, sample, opts)        # the pool's index knows none of these
    full_index = catalogue_index(full)
    assert full_index is not index and len(full_index) == len(full.items)
    assert shown == retrieval.select_history(sample, 3, mode="relevant", index=full_index)
    assert retrieval.stats["texts_encoded"] == encoded   # the seeded vectors, no model run
