"""Teacher rationales (and user profiles, item descriptions) → a resumable JSONL keyed by id.

    python -m training.teach --dataset ml1m --split train --sample-k 64 --seed 0 \\
        --teacher openai:http://localhost:8000/v1#Qwen/Qwen2.5-72B-Instruct --concurrency 32 \\
        --out runs/teacher/ml1m-train.jsonl [--verify-with smollm2]
    python -m training.teach --task profile --dataset ml1m --split train --teacher hf:<dir> ...
    python -m training.teach --task description --dataset ml1m --teacher llamacpp:<gguf> ...

--task rationale (default): the paper's label-conditioned CoT prompt (teacher_cot): the teacher
is told the true answer and explains it; one row per sample, key `sample_id`.
--task profile: a 200-word profile from the user's first 15 items (user_profile); key `user_id`.
--task description: a 25-word item description (item_description); key `item_id`.

Resumable: each row is written whole, flushed and fsynced; a rerun reads the keys already
there (cutting off a last line a kill left half-written) and asks only for the rest, so a run
killed at any moment (kill -9) and started again ends with every row exactly once. Rows that
failed are not written (rerun to retry). The teacher is any backend spec; HTTP teachers
(openai:) get `--concurrency` requests in flight (vLLM batches them), rows still written in
sample order, as a serial run writes them; local ones run one at a time. `--verify-with SPEC` adds Rec-SAVER-style self-verification: a checker model sees the
rationale but not the label and must predict the label; rows carry `verified` and
`checker_p_yes`, training.sft drops unverified rows, and the summary reports the kept fraction.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from reasoningrec.commands import positive_int
from reasoningrec.data import DataError, load_dataset
from reasoningrec.data.sampling import stratified_sample
from reasoningrec.scoring.llm import BackendChat, LLMScorer
from reasoningrec.scoring.options import add_prompt_args, prompt_options
from reasoningrec.prompts import PROFILE_HISTORY, build, fit_history, get_template
from reasoningrec.prompts import item_description_v1

KEY_FIELD = {"rationale": "sample_id", "profile": "user_id", "description": "item_id"}
TEACH_SKIPS = ("reasoning",)   # prompt options with no teach flag (see build_parser)
TEMPLATE = {"rationale": "teacher_cot", "profile": "user_profile",
            "description": "item_description"}


@dataclass
class Job:
    key: str
    messages: list[dict]
    text: str | None       # rendered prompt for local backends (None: servers template it)
    prompt_tokens: int
    template: str
    label: int | None = None
    sample: object = None


# -- the JSONL ---------------------------------------------------------------------------------
def read_done(path: Path, key_field: str) -> set[str]:
    """Keys already written. A last line without its newline is a write a kill interrupted: it is
    cut off the file. A bad line anywhere else is a DataError naming the line."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    done, pos = set(), 0
    lines = data.split(b"\n")
    for number, line in enumerate(lines, 1):
        if number == len(lines):  # after the last newline: empty, or a half-written row
            if line:
                with open(path, "r+b") as f:
                    f.truncate(pos)
                    os.fsync(f.fileno())
            break
        pos += len(line) + 1
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(path, f"not a JSON row ({exc.msg})", line=number) from None
        if not isinstance(row, dict) or key_field not in row:
            raise DataError(path, f"row has no {key_field!r} (wrong --task for this file?)",
                            line=number)
        done.add(str(row[key_field]))
    return done


def out_lock(path: Path):
    """An exclusive lock on <out>.lock for this process's life; a second run on the same --out
    fails at once instead of writing duplicate rows."""
    import fcntl
    handle = open(path.with_name(path.name + ".lock"), "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RuntimeError(f"{path}: another training.teach run is writing this file; wait for "
                           "it to finish or pass another --out") from None
    return handle


def append_row(handle, row: dict) -> None:
    """One whole line per write, on disk before the next row starts."""
    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


# -- jobs --------------------------------------------------------------------------------------
def select_samples(ds, split: str, sample_k: int, seed: int, limit: int | None) -> list:
    if split not in ds.splits:
        raise SystemExit(f"{ds.name} has no split {split!r}; it has {sorted(ds.splits)}")
    samples = (stratified_sample(ds.splits[split], sample_k, seed) if sample_k
               else list(ds.splits[split]))
    return samples[:limit] if limit else samples


def make_jobs(task: str, ds, samples, backend, args) -> list[Job]:
    """One Job a key, prompts fitted to the teacher's context (oldest history dropped)."""
    local = backend.local_template
    renderer = BackendChat(backend) if local else None
    jobs, seen = [], set()

    def fitted(template: str, sample, history=None, **options):
        name, builder = get_template(template)
        fit = fit_history(builder, ds, sample, backend.count_tokens, args.context,
                          history=history, tokenizer=renderer, reserve=args.max_tokens,
                          **options)
        return name, fit.prompt, fit.text, fit.tokens

    if task == "rationale":
        scorer = LLMScorer(backend, args.template, prompt_options(args), args.max_tokens,
                           context=args.context)
    for sample in samples:
        if task == "rationale":  # rendered as the scorer renders (evidence: training ratings)
            r = scorer.render(ds, sample)
            jobs.append(Job(sample.sample_id, r.prompt.chat(), r.text if local else None,
                            r.n_tokens, r.template, sample.label, sample))
        elif task == "profile" and sample.user_id not in seen:
            seen.add(sample.user_id)
            name, prompt, text, n = fitted("user_profile", sample,
                                           history=sample.history[:PROFILE_HISTORY],
                                           with_description=args.with_description)
            jobs.append(Job(sample.user_id, prompt.chat(), text if local else None, n, name))
        elif task == "description":
            for item_id in [e.item_id for e in sample.history] + [sample.target]:
                if item_id in seen:
                    continue
                seen.add(item_id)
                prompt = item_description_v1(ds, item_id)
                text = renderer.apply_chat_template(prompt.chat()) if local else None
                n = backend.count_tokens(text or prompt.text())
                jobs.append(Job(item_id, prompt.chat(), text, n, prompt.template))
    return jobs


def verify(checker, ds, sample, rationale: str) -> float:
    """Checker's P(Yes) for the sample given the rationale but not the label (Rec-SAVER)."""
    messages = build("zero_shot", ds, sample).chat()
    messages[-1]["content"] = (f"An expert's analysis of this user and the target:\n{rationale}"
                               f"\n\n{messages[-1]['content']}")
    return checker.p_yes_chat(messages).p_yes


def run_job(job: Job, task: str, backend, checker, ds, args) -> dict:
    start = time.perf_counter()
    options = {"max_tokens": args.max_tokens, "temperature": args.temperature,
               "seed": args.seed}
    reply = (backend.generate(job.text, **options) if job.text is not None
             else backend.chat(job.messages, **options)).strip()
    row = {KEY_FIELD[task]: job.key, task: reply, "template": job.template,
           "teacher": backend.name, "prompt_tokens": job.prompt_tokens,
           "completion_tokens": backend.count_tokens(reply) if reply else 0}
    if task == "rationale":
        row["label"] = job.label
        if checker is not None:
            p = verify(checker, ds, job.sample, reply)
            row.update(checker_p_yes=round(p, 6), verified=int(p >= 0.5) == job.label)
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


# -- the run -----------------------------------------------------------------------------------
def in_order(pool, fn, jobs: list, window: int) -> Iterator[tuple]:
    """(job, result, None) or (job, None, exception) in the order of `jobs`, with up to
    `window` jobs submitted ahead: concurrent requests, rows written as a serial run would."""
    queue, ahead = iter(jobs), deque()
    for job in itertools.islice(queue, window):
        ahead.append((job, pool.submit(fn, job)))
    while ahead:
        job, future = ahead.popleft()
        for following in itertools.islice(queue, 1):
            ahead.append((following, pool.submit(fn, following)))
        try:
            yield job, future.result(), None
        except Exception as exc:  # noqa: BLE001 (any failure of one row)
            yield job, None, exc


def teach(args) -> dict:
    from tqdm import tqdm

    from reasoningrec.models.loader import load_backend

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock = out_lock(out)      # held until the process ends: one writer per --out
    done = read_done(out, KEY_FIELD[args.task])
    ds = load_dataset(args.dataset, args.data_dir)
    samples = select_samples(ds, args.split, args.sample_k, args.seed, args.limit)
    http = args.teacher.startswith("openai:")
    options = ({"max_concurrency": args.concurrency} if http else
               {"n_ctx": args.context, "repeat_penalty": args.repeat_penalty})
    backend = load_backend(args.teacher, **options)
    checker = load_backend(args.verify_with) if args.verify_with else None
    jobs = make_jobs(args.task, ds, samples, backend, args)
    todo = [j for j in jobs if j.key not in done]
    workers = max(1, args.concurrency if http else 1)
    totals = {"written": 0, "failed": 0, "prompt_tokens": 0, "completion_tokens": 0}
    start = time.perf_counter()
    bar = tqdm(total=len(todo), desc=f"teach {args.task}", unit="row", disable=args.no_progress)
    with open(out, "a", encoding="utf-8") as handle, ThreadPoolExecutor(workers) as pool:
        run = functools.partial(run_job, task=args.task, backend=backend, checker=checker,
                                ds=ds, args=args)
        for job, row, exc in in_order(pool, run, todo, window=2 * workers):
            if exc is not None:  # reported, left out of the file, retried on rerun
                totals["failed"] += 1
                print(f"teach: row {job.key} failed: {exc}", file=sys.stderr)
            else:
                append_row(handle, row)
                totals["written"] += 1
                totals["prompt_tokens"] += row["prompt_tokens"]
                totals["completion_tokens"] += row["completion_tokens"]
            bar.update(1)
    bar.close()
    seconds = time.perf_counter() - start
    summary = {"task": args.task, "out": str(out), "teacher": backend.name, "rows": len(jobs),
               "already_done": len(jobs) - len(todo), **totals, "seconds": round(seconds, 2),
               "completion_tokens_per_s": round(totals["completion_tokens"] / seconds, 1)
               if seconds > 0 else None}
    if args.task == "rationale":
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line]
        checked = [r for r in rows if "verified" in r]
        summary["kept_fraction"] = (round(sum(r["verified"] for r in checked) / len(checked), 4)
                                    if checked else None)
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training.teach", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="teacher model spec: openai:<url>#<model>, "
                                                    "hf:<dir>, llamacpp:<gguf>, smollm2")
    p.add_argument("--out", required=True, help="JSONL to append to (and resume from)")
    p.add_argument("--task", default="rationale", choices=sorted(KEY_FIELD),
                   help="what the teacher writes (see above)")
    p.add_argument("--dataset", default="ml1m", help="dataset name (load_dataset)")
    p.add_argument("--data-dir", default=None, help="data directory (default "
                                                    "$REASONINGREC_DATA_DIR)")
    p.add_argument("--split", default="train", help="train | valid | test")
    p.add_argument("--sample-k", type=int, default=0, help="draw K samples stratified 50/50 by "
                                                           "label (the paper: 64); 0 = all")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling and generation")
    p.add_argument("--limit", type=positive_int, default=None,
                   help="only the first N samples (at least 1)")
    p.add_argument("--template", default="teacher_cot", choices=["teacher_cot", "teacher_brief"],
                   help="rationale prompt: the paper's teacher_cot, or teacher_brief (short, "
                        "for small offline teachers such as SmolLM2-135M)")
    # the prompt options, as on reasoningrec eval (reasoningrec/scoring/options.py); not
    # --no-reasoning: the teacher always reasons (a w/o-reasoning student needs no rationales)
    add_prompt_args(p, skip=TEACH_SKIPS)
    p.add_argument("--repeat-penalty", type=float, default=1.0,
                   help="llama.cpp repeat penalty for local teachers (1.0 = off)")
    p.add_argument("--max-tokens", type=positive_int, default=320, help="most tokens the teacher writes")
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy")
    p.add_argument("--context", type=positive_int, default=4096, help="teacher context in tokens; the "
                                                             "history is fitted to it")
    p.add_argument("--concurrency", type=positive_int, default=16, help="requests in flight for "
                                                               "openai: teachers")
    p.add_argument("--verify-with", default=None, help="checker model spec for self-"
                                                       "verification (rationale task)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.verify_with and args.task != "rationale":
        raise SystemExit("--verify-with applies to --task rationale only")
    try:
        summary = teach(args)
    except (DataError, ValueError, KeyError, OSError, RuntimeError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"training.teach: error: {msg}", file=sys.stderr)    # one line, no traceback
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:>24}: {value}")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
