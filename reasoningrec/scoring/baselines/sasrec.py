"""`--model sasrec`: SASRec-CTR, the paper's sequential baseline, in PyTorch on the CPU.

    reasoningrec eval --dataset ml1m --model sasrec

The history (oldest first) becomes tokens item embedding + like/dislike embedding + position;
the target item is appended as one more token carrying a "target" marker instead of a label.
Pre-norm self-attention (no causal mask: every history item may inform the target) runs over
the sequence; the target token's output, a linear head and a per-item bias give the logit of
P(like). Defaults (d=32, 1 block, 1 head, batch 512, lr 5e-3, <= 5 epochs) keep ML-1M training
near a minute on 2 CPUs (2 blocks of d=32 took twice as long for +0.002 test AUC).

Training examples (documented because the train split alone is small: 6,040 ML-1M users,
1,273 Fashion users): every train sample, plus one sliding window per history position k >= 1
(history[:k] -> history[k] with its like label): 108,423 on ML-1M, 5,051 on Fashion. Train
histories precede the train target, so no window reaches a valid/test target; windows whose
(user, item) is one are dropped anyway (repurchases). Items never met in a training example
map to one shared "unknown" embedding, trained by replacing 10% of item ids with it (Fashion:
most test targets are cold), and are counted as `cold_item`. Early stopping on valid AUC
(the best epoch's weights are kept); seeded; torch threads = cpu_threads() unless `threads`
says otherwise (on a CPU shared with other jobs, 1 thread was 10x faster than 2).
ML-1M test AUC 0.798 (paper subsample 0.812), Fashion 0.787.
"""
from __future__ import annotations

import copy
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.metrics import roc_auc_score
from torch import nn

from ...config import cpu_threads
from ...data.schema import Dataset, HistoryEntry, Sample
from .base import BaselineScorer
from .interactions import held_out_pairs

log = logging.getLogger(__name__)

PAD, UNKNOWN = 0, 1                  # item ids
DISLIKE, LIKE, TARGET = 0, 1, 2      # like-label ids


@contextmanager
def torch_threads(n: int):
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class SASRecCTR(nn.Module):
    def __init__(self, n_items: int, max_len: int, dim: int, layers: int, heads: int,
                 dropout: float):
        super().__init__()
        self.item = nn.Embedding(n_items, dim, padding_idx=PAD)
        self.like = nn.Embedding(3, dim)
        self.position = nn.Embedding(max_len + 1, dim)
        self.item_bias = nn.Embedding(n_items, 1)
        nn.init.zeros_(self.item_bias.weight)
        block = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 1)

    def forward(self, items: torch.Tensor, likes: torch.Tensor) -> torch.Tensor:
        """items, likes: (batch, max_len + 1), history left-padded, target last. → logits."""
        positions = torch.arange(items.shape[1], device=items.device)
        x = self.item(items) + self.like(likes) + self.position(positions)
        x = self.encoder(x, src_key_padding_mask=items == PAD)
        out = self.norm(x[:, -1])
        return self.head(out).squeeze(-1) + self.item_bias(items[:, -1]).squeeze(-1)


@dataclass
class SASRecState:
    model: SASRecCTR
    vocab: dict[str, int]
    max_len: int
    best_valid_auc: float
    epochs: int
    seconds: float

    def encode(self, rows: list[tuple[tuple[HistoryEntry, ...], str]]):
        """(history, target) rows → item/like tensors and which targets are cold."""
        n, width = len(rows), self.max_len + 1
        items = np.zeros((n, width), np.int64)
        likes = np.full((n, width), DISLIKE, np.int64)
        cold = np.zeros(n, bool)
        for r, (history, target) in enumerate(rows):
            history = history[-self.max_len:]
            start = self.max_len - len(history)
            items[r, start:self.max_len] = [self.vocab.get(h.item_id, UNKNOWN) for h in history]
            likes[r, start:self.max_len] = [LIKE if h.liked else DISLIKE for h in history]
            items[r, -1] = self.vocab.get(target, UNKNOWN)
            likes[r, -1] = TARGET
            cold[r] = items[r, -1] == UNKNOWN
        return torch.from_numpy(items), torch.from_numpy(likes), cold

    @torch.no_grad()
    def probabilities(self, items: torch.Tensor, likes: torch.Tensor, batch: int = 2048):
        self.model.eval()
        return np.concatenate([torch.sigmoid(self.model(items[i:i + batch], likes[i:i + batch]))
                               .numpy() for i in range(0, len(items), batch)])


Example = tuple[str, tuple[HistoryEntry, ...], str, int]  # user, history, target, label


def training_examples(ds: Dataset) -> list[Example]:
    """Train samples plus sliding windows over their histories, valid/test pairs dropped."""
    held_out = held_out_pairs(ds)
    examples = []
    for s in ds.splits.get("train", []):
        for k in range(1, len(s.history)):
            if (s.user_id, s.history[k].item_id) not in held_out:
                examples.append((s.user_id, s.history[:k], s.history[k].item_id,
                                 int(s.history[k].liked)))
        if (s.user_id, s.target) not in held_out:
            examples.append((s.user_id, s.history, s.target, s.label))
    if not examples:
        raise ValueError(f"{ds.name}: no train samples to fit sasrec on")
    return examples


class SASRecScorer(BaselineScorer):
    name = "sasrec"

    def __init__(self, dim: int = 32, layers: int = 1, heads: int = 1, dropout: float = 0.1,
                 lr: float = 5e-3, weight_decay: float = 1e-4, batch_size: int = 512,
                 max_epochs: int = 5, patience: int = 2, unknown_rate: float = 0.1,
                 seed: int = 0, threads: int | None = None):
        super().__init__()
        self.threads = threads or cpu_threads()
        self.dim, self.layers, self.heads, self.dropout = dim, layers, heads, dropout
        self.lr, self.weight_decay, self.batch_size = lr, weight_decay, batch_size
        self.max_epochs, self.patience = max_epochs, patience
        self.unknown_rate, self.seed = unknown_rate, seed

    def settings(self) -> tuple:
        return (self.dim, self.layers, self.heads, self.dropout, self.lr, self.weight_decay,
                self.batch_size, self.max_epochs, self.patience, self.unknown_rate, self.seed)

    def _fit(self, ds: Dataset) -> SASRecState:
        start = time.perf_counter()
        examples = training_examples(ds)
        vocab: dict[str, int] = {}
        for _, history, target, _ in examples:
            for item in [h.item_id for h in history] + [target]:
                vocab.setdefault(item, len(vocab) + 2)
        max_len = max(len(h) for _, h, _, _ in examples)
        with torch_threads(self.threads):
            torch.manual_seed(self.seed)
            model = SASRecCTR(len(vocab) + 2, max_len, self.dim, self.layers, self.heads,
                              self.dropout)
            state = SASRecState(model, vocab, max_len, float("nan"), 0, 0.0)
            items, likes, _ = state.encode([(h, t) for _, h, t, _ in examples])
            labels = torch.tensor([y for *_, y in examples], dtype=torch.float32)
            valid = ds.splits.get("valid", [])
            v_items, v_likes, _ = state.encode([(s.history, s.target) for s in valid])
            v_labels = [s.label for s in valid]
            self._train(state, items, likes, labels, v_items, v_likes, v_labels)
        state.seconds = time.perf_counter() - start
        return state

    def _train(self, state, items, likes, labels, v_items, v_likes, v_labels) -> None:
        model = state.model
        optimiser = torch.optim.AdamW(model.parameters(), lr=self.lr,
                                      weight_decay=self.weight_decay)
        loss_fn = nn.BCEWithLogitsLoss()
        generator = torch.Generator().manual_seed(self.seed)
        can_validate = len(set(v_labels)) == 2
        best, best_weights, stale = -1.0, None, 0
        for epoch in range(1, self.max_epochs + 1):
            model.train()
            order = torch.randperm(len(items), generator=generator)
            for i in range(0, len(order), self.batch_size):
                batch = order[i:i + self.batch_size]
                x = items[batch].clone()
                # Teach the unknown embedding: hide some known ids behind it.
                hide = (torch.rand(x.shape, generator=generator) < self.unknown_rate) & (x != PAD)
                x[hide] = UNKNOWN
                loss = loss_fn(model(x, likes[batch]), labels[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            if not can_validate:
                state.epochs = epoch
                continue
            auc = roc_auc_score(v_labels, state.probabilities(v_items, v_likes))
            log.info("sasrec epoch %d: valid AUC %.4f (%d examples)", epoch, auc, len(items))
            if auc > best:
                best, best_weights, stale = auc, copy.deepcopy(model.state_dict()), 0
                state.epochs = epoch
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_weights is not None:
            model.load_state_dict(best_weights)
            state.best_valid_auc = best

    def _score(self, state: SASRecState, samples: list[Sample]):
        items, likes, cold = state.encode([(s.history, s.target) for s in samples])
        with torch_threads(self.threads):
            p_yes = state.probabilities(items, likes)
        return p_yes, [{"cold_item": bool(c)} for c in cold]
