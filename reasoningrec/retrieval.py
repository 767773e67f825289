"""Item embeddings (all-MiniLM-L6-v2), relevant-history selection and item search.

    from reasoningrec.retrieval import ItemIndex, select_history, search_titles
    index = ItemIndex.build(dataset.items)            # embeds once, then loads from the cache
    history = select_history(sample, k=10, mode="relevant", index=index)
    index.search("pixar toys", n=5); index.similar("1", n=5); search_titles(items, "toy st")

    reasoningrec data search --dataset ml1m --data-dir ../shared/data --query "toy story"

Item text (`embed_text`) is `Item.text()` without the long OMDb `plot` (kept only when an item
has no description): title; year; genres; description (ML-1M: the paper's 25-word summary);
director. The plot would triple the tokens (173 vs 50 on average) and the time: all 3,883
ML-1M items took 404 s with it and 144 s without on 2 CPUs shared with another job. Vectors are
L2-normalised, so a dot product is the cosine. They are cached in <cache_dir>/embeddings/,
keyed by a hash of the model name and the ordered (item id, item text) pairs: an unchanged
catalogue loads instantly, a changed one re-embeds. Texts past 256 tokens are truncated.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .cache import Cache
from .config import cache_dir, cpu_threads
from .data.schema import HistoryEntry, Item, Sample

MODEL_NAME = "all-MiniLM-L6-v2"
MODES = ("recent", "relevant")
LONG_FIELDS = ("plot",)  # left out of embeddings when a short description exists
stats = {"texts_encoded": 0, "model_loads": 0}  # lets tests (and benchmarks) see model work

_MODEL = Cache("retrieval: the sentence-transformers model")


def get_model():
    """The one SentenceTransformer of this process, loaded on first use, on CPU, offline."""
    return _MODEL.get(None, _load_model, key=MODEL_NAME)


def _load_model():
    import torch
    from sentence_transformers import SentenceTransformer

    from .models.registry import minilm_dir
    torch.set_num_threads(cpu_threads())
    model = SentenceTransformer(str(minilm_dir()), device="cpu")
    stats["model_loads"] += 1
    return model


def embed_text(item: Item) -> str:
    """The text an item is embedded as: `Item.text()` minus long fields a description covers."""
    if not item.description:
        return item.text()
    short = {k: v for k, v in item.attributes.items() if k not in LONG_FIELDS}
    return Item(item.id, item.title, short).text()


def encode(texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """(len(texts), 384) float32 unit vectors."""
    model = get_model()
    stats["texts_encoded"] += len(texts)
    vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                           normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def catalogue_hash(ids: Sequence[str], texts: Sequence[str], model_name: str = MODEL_NAME) -> str:
    """sha256 of the model name and the ordered (id, text) pairs (JSON, so no separator clash)."""
    payload = json.dumps([model_name, list(zip(ids, texts))], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _save_atomic(path: Path, ids: Sequence[str], vectors: np.ndarray) -> None:
    """Write to a temp file in the same folder, then rename: a crash never leaves half a cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, ids=np.array(ids, dtype=str), vectors=vectors)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_cached(path: Path, ids: Sequence[str]) -> np.ndarray | None:
    """The cached vectors if the file is readable and matches `ids`; None means re-embed."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            cached_ids, vectors = data["ids"].tolist(), data["vectors"]
    except Exception:  # truncated or foreign file: embedding again repairs it
        return None
    if cached_ids != list(ids) or vectors.shape[0] != len(ids):
        return None
    return vectors.astype(np.float32, copy=False)


class ItemIndex:
    """Unit vectors for a catalogue, in catalogue order, with nearest-item search."""

    def __init__(self, items: Sequence[Item], vectors: np.ndarray, key: str = ""):
        if len(items) != vectors.shape[0]:
            raise ValueError(f"{len(items)} items but {vectors.shape[0]} vectors")
        self.items = list(items)
        self.vectors = vectors
        self.key = key  # the catalogue hash; empty when built without one
        self.row = {item.id: i for i, item in enumerate(self.items)}

    @classmethod
    def build(cls, items: Mapping[str, Item] | Iterable[Item], use_cache: bool = True,
              batch_size: int = 32) -> "ItemIndex":
        """Embed `items` (a Dataset.items dict or any iterable), or load them from the cache."""
        items = list(items.values()) if isinstance(items, Mapping) else list(items)
        if not items:
            raise ValueError("cannot build an item index from an empty catalogue")
        ids, texts = [it.id for it in items], [embed_text(it) for it in items]
        if len(set(ids)) != len(ids):
            raise ValueError("item ids must be unique within a catalogue")
        key = catalogue_hash(ids, texts)
        path = cache_dir() / "embeddings" / f"{MODEL_NAME}-{key[:32]}.npz"
        vectors = _load_cached(path, ids) if use_cache else None
        if vectors is None:
            vectors = encode(texts, batch_size=batch_size)
            if use_cache:
                _save_atomic(path, ids, vectors)
        return cls(items, vectors, key)

    def __len__(self) -> int:
        return len(self.items)

    def vector(self, item_id: str) -> np.ndarray:
        try:
            return self.vectors[self.row[str(item_id)]]
        except KeyError:
            raise KeyError(f"item {item_id!r} is not in this index ({len(self)} items)") from None

    def _top(self, scores: np.ndarray, n: int, skip: int | None = None) -> list[tuple[Item, float]]:
        # stable sort on -score: equal scores keep catalogue order, so results are deterministic
        order = np.argsort(-scores, kind="stable")
        picked = [i for i in order if i != skip][:max(n, 0)]
        return [(self.items[i], float(scores[i])) for i in picked]

    def search(self, query: str, n: int = 10) -> list[tuple[Item, float]]:
        """The `n` items whose text is closest in meaning to a free-text query."""
        if not query or not query.strip():
            raise ValueError("empty search query")
        return self._top(self.vectors @ encode([query.strip()])[0], n)

    def similar(self, item_id: str, n: int = 10) -> list[tuple[Item, float]]:
        """The `n` items most similar to `item_id`, itself excluded."""
        return self._top(self.vectors @ self.vector(item_id), n, skip=self.row[str(item_id)])


def search_titles(items: Mapping[str, Item] | Iterable[Item], query: str,
                  n: int = 10) -> list[Item]:
    """Case-insensitive substring title search, no model needed (autocomplete). Titles that
    start with the query come first, then earlier matches, then shorter titles."""
    items = items.values() if isinstance(items, Mapping) else items
    needle = query.strip().casefold()
    if not needle:
        return []
    hits = []
    for pos, item in enumerate(items):
        at = item.title.casefold().find(needle)
        if at >= 0:
            hits.append((at, len(item.title), pos, item))
    hits.sort(key=lambda h: h[:3])
    return [h[3] for h in hits[:max(n, 0)]]


def select_history(sample: Sample, k: int, mode: str = "recent", index: ItemIndex | None = None,
                   candidate: str | None = None) -> tuple[HistoryEntry, ...]:
    """k history entries, oldest first. "recent": the last k (the paper's choice). "relevant":
    the k with the highest cosine to the candidate (default: the sample's target); on equal
    scores the more recent entry wins. k larger than the history returns all of it."""
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    if mode not in MODES:
        raise ValueError(f"unknown history mode {mode!r}: expected one of {MODES}")
    if mode == "relevant" and index is None:
        raise ValueError('mode="relevant" needs an ItemIndex (index=ItemIndex.build(items))')
    history = tuple(sample.history)
    if k >= len(history):
        return history
    if mode == "recent":
        return history[-k:]
    target = index.vector(candidate if candidate is not None else sample.target)
    scores = [float(index.vector(entry.item_id) @ target) for entry in history]
    best = sorted(range(len(history)), key=lambda i: (-scores[i], -i))[:k]
    return tuple(history[i] for i in sorted(best))
