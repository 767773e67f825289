"""Time to first token and tokens/s of the app's students, through the app's own code path.

    .venv/bin/python benchmarks/app_latency.py --out benchmarks/results/app_latency.md
    CPU_CORES=2 .venv/bin/python benchmarks/app_latency.py --users 3 --max-tokens 64 --http

For each pool user (the first --users of each dataset, each served its default student as
app.py does), three ways a visitor meets Run, every time counted from the click:
- "cold": no saved state for the prompt (the cache holds another user's): Run without warm-up;
- "pick + Run": Run clicked right after picking the user, so it waits behind the warm-up
  that picking starts (a thread runs LiveExplainer.warm; Run's stream waits for the model);
- "warm": Run after the warm-up finished (what the page's timing line shows most of the time).
All go through the explainer's stream, the function the Run button and /explain call. --http
also times /explain over HTTP with gradio_client against an in-process launch (queue
included). Prints a markdown table; --out also writes it with the machine's load (uptime).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from reasoningrec.config import cpu_threads  # noqa: E402
from reasoningrec.ui.service import AppService  # noqa: E402
from speed_common import load  # noqa: E402


def timed_stream(explainer, ds, sample, max_tokens, start=None):
    """(seconds from `start` (default: now) to the first token, the stream's stats)."""
    start, ttft, stats = start or time.perf_counter(), None, {}
    for kind, value in explainer.stream(ds, sample, max_tokens=max_tokens):
        if kind == "token" and ttft is None:
            ttft = time.perf_counter() - start
        elif kind == "done":
            stats = value
    return ttft, stats


def pick_then_run(explainer, ds, sample, max_tokens):
    """Picking starts the warm-up; Run is clicked at once and waits for the model."""
    click = time.perf_counter()
    warming = threading.Thread(target=explainer.warm, args=(ds, sample))
    warming.start()
    time.sleep(0.01)   # the warm-up reaches the model first, as in the app's queue
    ttft, _ = timed_stream(explainer, ds, sample, max_tokens, start=click)
    warming.join()
    return ttft


def timed_http(client, dataset, user_id, max_tokens):
    start, ttft = time.perf_counter(), None
    job = client.submit(dataset, user_id, "", None, "", max_tokens, api_name="/explain")
    for update in job:
        if ttft is None and update.get("explanation"):
            ttft = time.perf_counter() - start
    return ttft, job.result()["stats"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=2, help="pool users per dataset")
    ap.add_argument("--max-tokens", type=int, default=64, help="explanation length cap")
    ap.add_argument("--model", default=None,
                    help="one student spec for every dataset (default: each dataset's default "
                         "student, as app.py serves)")
    ap.add_argument("--http", action="store_true", help="also time /explain over HTTP")
    ap.add_argument("--out", default=None, help="also write the table and the load to this file")
    args = ap.parse_args(argv)

    load_before, t0 = load(), time.perf_counter()
    service = AppService.start(student=args.model, max_new_tokens=args.max_tokens)
    head = (f"{cpu_threads()} llama.cpp threads; service ready in {time.perf_counter() - t0:.2f} s; "
            f"max {args.max_tokens} new tokens; {args.users} pool users per dataset")
    print(head + "\n", flush=True)
    picks = [(name, u) for name, users in service.pool.users.items() for u in users[:args.users]]
    client = demo = None
    if args.http:
        from gradio_client import Client

        from reasoningrec.ui import build_app
        demo = build_app(service)
        _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True)
        client = Client(url, verbose=False)
        first = picks[0]  # one untimed call: the first HTTP request pays connection setup
        client.predict(first[0], first[1].user_id, api_name="/predict")
    rows = ["| dataset | student | user | prompt tokens | cold TTFT s | pick + Run TTFT s | "
            "warm TTFT s | warm tokens/s |" + (" HTTP warm TTFT s |" if client else ""),
            "|---|---|---|---|---|---|---|---|" + ("---|" if client else "")]
    col = {"cold": [], "pick": [], "warm": [], "rate": [], "prompt": []}
    for i, (name, user) in enumerate(picks):
        ds, explainer = service.pool.datasets[name], service.student(name).explainer
        other = next(u for u in service.pool.users[name] if u.user_id != user.user_id)
        explainer.warm(ds, other.sample)   # the cache holds another user's prompt
        explainer.forget()                 # and no state of this one is kept
        cold, _ = timed_stream(explainer, ds, user.sample, args.max_tokens)
        explainer.warm(ds, other.sample)
        explainer.forget()
        pick = pick_then_run(explainer, ds, user.sample, args.max_tokens)
        explainer.warm(ds, other.sample)
        explainer.warm(ds, user.sample)    # what picking the user in the UI does, finished
        warm, stats = timed_stream(explainer, ds, user.sample, args.max_tokens)
        for key, value in (("cold", cold), ("pick", pick), ("warm", warm),
                           ("rate", stats.get("tokens_per_s") or 0),
                           ("prompt", stats.get("prompt_tokens") or 0)):
            col[key].append(value)
        row = (f"| {name} | {service.student(name).info.name} | {user.user_id} | "
               f"{stats.get('prompt_tokens')} | {cold:.2f} | {pick:.2f} | {warm:.3f} | "
               f"{col['rate'][-1]:.1f} |")
        if client:
            explainer.warm(ds, user.sample)
            http_ttft, _ = timed_http(client, name, user.user_id, args.max_tokens)
            row += f" {http_ttft:.3f} |"
        rows.append(row)
        print(rows[-1] if i else "\n".join(rows), flush=True)
    med = statistics.median
    summary = (f"n = {len(picks)} users ({args.users} per dataset); medians: cold TTFT "
               f"{med(col['cold']):.2f} s (range {min(col['cold']):.2f}–{max(col['cold']):.2f}), "
               f"pick + Run {med(col['pick']):.2f} s ({min(col['pick']):.2f}–{max(col['pick']):.2f}), "
               f"warm {med(col['warm']):.3f} s (max {max(col['warm']):.3f}); decode "
               f"{med(col['rate']):.1f} tokens/s; prompts {min(col['prompt'])}–{max(col['prompt'])} "
               "tokens")
    print("\n" + summary)
    if demo:
        demo.close()
    if args.out:
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        Path(args.out).write_text(
            f"# App latency (benchmarks/app_latency.py)\n\n"
            f"Command: `benchmarks/app_latency.py {' '.join(argv or sys.argv[1:])}`, run {stamp}, "
            f"{time.perf_counter() - t0:.0f} s in all. {head}. Times are seconds from the "
            "call that stands for the click on Run to the first explanation token.\n\n"
            f"Load averages (1, 5, 15 min): before {load_before}; after {load()} (on a machine "
            "shared with other jobs the figures are upper bounds for an idle one).\n\n"
            + "\n".join(rows) + "\n\n" + summary + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
