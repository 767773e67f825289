"""Does batched multi-sequence decoding speed ranking up on a CPU? A probe, not a code path.

    python benchmarks/rank_batched_probe.py --data-dir ../shared/data --candidates 24 --group 8

The shipped path (LlamaCppBackend.p_yes_many) evaluates the shared user prefix once, then each
candidate's tail as its own llama_decode call. The probe evaluates the prefix once in sequence
0 of a second context (n_seq_max = group + 1, unified KV cache), copies it to sequences
1..group (llama_memory_seq_cp: the cells are shared, nothing is recomputed) and decodes the
tails of a whole group in n_batch-sized llama_decode calls, reading each tail's last logits
(llama_get_logits_ith). Reported for both: CPU seconds of this process (robust to other load
on a shared machine), wall seconds, and P(Yes) against the one-at-a-time scores.
Appends a row to <out>/rank_batched_probe.md.
"""
from __future__ import annotations

import ctypes
import time
from pathlib import Path

import numpy as np
from speed_common import load, machine, ranking_args, renice, run

from reasoningrec.data import load_dataset
from reasoningrec.models.base import score_from_vector
from reasoningrec.models.session import common_prefix_length
from reasoningrec.scoring.rank import candidate_items, candidate_prompts
from reasoningrec.scoring.registry import load_scorer


def batched_p_yes(backend, all_tokens: list[list[int]], group: int) -> list[float]:
    """P(Yes) of every prompt: shared prefix once, tails decoded `group` sequences at a time."""
    import llama_cpp as lc
    prefix = min(common_prefix_length(all_tokens[0], t) for t in all_tokens)
    params = lc.llama_context_default_params()
    params.n_ctx = prefix + group * max(len(t) - prefix for t in all_tokens) + 256
    params.n_batch = params.n_ubatch = backend.llm.n_batch
    params.n_seq_max, params.kv_unified = group + 1, True
    params.n_threads, params.n_threads_batch = backend.llm.n_threads, backend.llm.n_threads_batch
    params.flash_attn_type = lc.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as the backend's context
    ctx = lc.llama_init_from_model(backend.llm._model.model, params)
    if backend.llm._lora_adapter:
        adapters = (lc.llama_adapter_lora_p_ctypes * 1)(backend.llm._lora_adapter)
        lc.llama_set_adapters_lora(ctx, adapters, 1, (ctypes.c_float * 1)(1.0))
    mem, n_batch = lc.llama_get_memory(ctx), params.n_batch
    batch, n_vocab, scores = lc.llama_batch_init(n_batch, 0, 1), backend.n_vocab, {}

    def decode(entries):  # (token, position, sequence, candidate index or None)
        for start in range(0, len(entries), n_batch):
            chunk = entries[start:start + n_batch]
            batch.n_tokens = len(chunk)
            for k, (token, pos, seq, wanted) in enumerate(chunk):
                batch.token[k], batch.pos[k], batch.n_seq_id[k] = token, pos, 1
                batch.seq_id[k][0], batch.logits[k] = seq, wanted is not None
            if lc.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
            for k, (_, _, _, wanted) in enumerate(chunk):
                if wanted is not None:
                    row = np.ctypeslib.as_array(lc.llama_get_logits_ith(ctx, k),
                                                shape=(n_vocab,)).astype(np.float64)
                    row -= row.max()
                    scores[wanted] = score_from_vector(row - np.log(np.exp(row).sum()),
                                                       backend.answer_ids).p_yes
    try:
        decode([(t, i, 0, None) for i, t in enumerate(all_tokens[0][:prefix])])
        for g in range(0, len(all_tokens), group):
            members = range(g, min(g + group, len(all_tokens)))
            entries = []
            for seq, i in enumerate(members, 1):
                lc.llama_memory_seq_cp(mem, 0, seq, -1, -1)
                tokens = all_tokens[i]
                entries += [(tokens[p], p, seq, i if p == len(tokens) - 1 else None)
                            for p in range(prefix, len(tokens))]
            decode(entries)
            for seq in range(1, len(members) + 1):
                lc.llama_memory_seq_rm(mem, seq, -1, -1)
    finally:
        lc.llama_batch_free(batch)
        lc.llama_free(ctx)
    return [scores[i] for i in range(len(all_tokens))]


def timed(fn):
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    ap = ranking_args(__doc__.splitlines()[0], 24, "rank_batched_probe.md")
    ap.add_argument("--group", type=int, default=8, help="sequences decoded together (default 8)")
    args = ap.parse_args()
    reniced, load_before = renice(), load()
    ds = load_dataset(args.dataset, args.data_dir)
    sample = ds.sample("test", args.user)
    scorer = load_scorer(args.model, ds)
    ids = candidate_items(ds, sample, args.candidates)
    texts = [r.text for r in candidate_prompts(scorer, ds, sample, ids)]
    tokens = [scorer.backend.tokenize(t) for t in texts]
    alone = [scorer.backend.p_yes(t, reuse_cache=False).p_yes for t in texts]
    seq, seq_cpu, seq_wall = timed(lambda: [s.p_yes for s in scorer.backend.p_yes_many(texts)])
    bat, bat_cpu, bat_wall = timed(lambda: batched_p_yes(scorer.backend, tokens, args.group))
    diff = lambda xs: [abs(a - b) for a, b in zip(xs, alone)]  # noqa: E731
    line = (f"| {machine()}{'' if reniced else ' (not reniced)'} | {load_before}; {load()} | "
            f"{args.model} | {args.dataset}:{args.user} | {len(ids)} | {args.group} | "
            f"{seq_cpu:.1f} / {seq_wall:.1f} | {max(diff(seq)):.1e} | {bat_cpu:.1f} / "
            f"{bat_wall:.1f} | {max(diff(bat)):.1e} | {sum(d > 1e-3 for d in diff(bat))} |\n")
    print(line, end="")
    out = Path(args.out) / "rank_batched_probe.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    with out.open("a") as f:
        if new:
            f.write("| date, machine | load before; after | model | dataset:user | N | group |"
                    " shared-prefix loop CPU s / wall s | its max abs dP | batched sequences"
                    " CPU s / wall s | its max abs dP | batched dP > 1e-3 |\n"
                    "|---|---|---|---|---|---|---|---|---|---|---|\n")
        f.write(line)


if __name__ == "__main__":
    run(main)
