"""The transformers backend's padded batches against one prompt at a time, on real samples: the
largest P(Yes) difference and the time of each way (issue #18: a student's evaluation batches its
prompts on a GPU). Runs where the backend runs (CUDA when present, else CPU).

    python benchmarks/hf_batch_agreement.py --data-dir ../shared/data --n 64 \\
        --adapter runs/gpu-fashion/hybrid-k0/adapter --out /tmp/results

The first --n test samples of --dataset, rendered as evaluation renders them (the student
template with the prompt options the adapter's run recorded in its train_meta.json, as
`eval --model hf:<base>+<adapter>` reads them; defaults without one); the model is SmolLM2-135M
(its GGUF dequantised) + the PEFT adapter, in the backend's own dtype. Appends one row to
<out>/hf_batch_agreement.md.
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # runs from an uninstalled checkout

from reasoningrec.data import load_dataset  # noqa: E402
from reasoningrec.models.hf import HFBackend  # noqa: E402
from reasoningrec.models.registry import smollm2_gguf  # noqa: E402
from reasoningrec.scoring.llm import LLMScorer  # noqa: E402
from reasoningrec.scoring.options import PromptOptions  # noqa: E402
from reasoningrec.scoring.registry import run_options  # noqa: E402
from speed_common import run  # noqa: E402  (benchmarks/ is the script's folder)

HEADER = ("| date | device, dtype | dataset, n | adapter | batch | max abs P(Yes) difference |"
          " one at a time s | batched s |\n|---|---|---|---|---|---|---|---|\n")


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="data root (default $REASONINGREC_DATA_DIR)")
    ap.add_argument("--dataset", default="fashion", help="dataset name (default fashion)")
    ap.add_argument("--n", type=int, default=64, help="first N test samples (default 64)")
    ap.add_argument("--adapter", default=None, help="PEFT adapter folder (default: none)")
    ap.add_argument("--batch-size", type=int, default=32, help="prompts a batch (default 32)")
    ap.add_argument("--out", default="benchmarks/results", help="folder for the .md row")
    args = ap.parse_args()
    ds = load_dataset(args.dataset, args.data_dir)
    backend = HFBackend(str(smollm2_gguf()), adapter=args.adapter, batch_size=args.batch_size)
    run = run_options(f"hf:{smollm2_gguf()}+{args.adapter}") if args.adapter else None
    scorer = LLMScorer(backend, "student", PromptOptions(**(run[0] if run else {})))
    prompts = [scorer.render(ds, s).text for s in ds.splits["test"][:args.n]]
    backend.p_yes_many(prompts[:2])  # warm-up (kernels, allocator)
    single, single_s = timed(lambda: [backend.p_yes(p, reuse_cache=False).p_yes for p in prompts])
    batched, batched_s = timed(lambda: [s.p_yes for s in backend.p_yes_many(prompts)])
    diff = max(abs(a - b) for a, b in zip(single, batched))
    device = backend.device
    if device.startswith("cuda"):
        import torch
        device = torch.cuda.get_device_name()
    row = (f"| {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC | {device}, "
           f"{backend.dtype} | {args.dataset} test, first {len(prompts)} | {args.adapter} | "
           f"{args.batch_size} | {diff:.2e} | {single_s:.2f} | {batched_s:.2f} |\n")
    out = Path(args.out) / "hf_batch_agreement.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as f:
        f.write(("" if out.is_file() and out.stat().st_size else
                 "# transformers backend: padded batches vs one at a time\n\n"
                 "`python benchmarks/hf_batch_agreement.py` (its docstring); P(Yes) of the same "
                 "rendered prompts.\n\n" + HEADER) + row)
    print(row, end="")


if __name__ == "__main__":
    run(main)
