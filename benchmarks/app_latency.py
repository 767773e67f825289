"""Time to first token and tokens/s of the app's student, through the app's own code path.

    .venv/bin/python benchmarks/app_latency.py                      # 2 ML-1M + 2 Fashion pool users
    CPU_CORES=2 .venv/bin/python benchmarks/app_latency.py --users 3 --max-tokens 64 --http

For each pool user: "cold" runs the explanation with no saved state for its prompt (the
cache holds another user's prompt: what the first Run would cost without warming); "warm"
runs it again after the app's warm step (what Run costs once a user has been picked). Both go
through AppService.explainer.stream, the function the Run button and /explain call. --http also
times /explain over HTTP with gradio_client against an in-process launch (queue included).
Prints a markdown table.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from reasoningrec.config import cpu_threads  # noqa: E402
from reasoningrec.ui.service import AppService  # noqa: E402


def timed_stream(service, ds, sample, max_tokens):
    start, ttft, stats = time.perf_counter(), None, {}
    for kind, value in service.explainer.stream(ds, sample, max_tokens=max_tokens):
        if kind == "token" and ttft is None:
            ttft = time.perf_counter() - start
        elif kind == "done":
            stats = value
    return ttft, stats


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
    ap.add_argument("--model", default="student", help="student model spec")
    ap.add_argument("--http", action="store_true", help="also time /explain over HTTP")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    service = AppService.start(student=args.model, max_new_tokens=args.max_tokens)
    print(f"student: {service.student_name}; {cpu_threads()} threads; service ready in "
          f"{time.perf_counter() - t0:.2f} s\n")
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
    rows = ["| dataset | user | prompt tokens | cold TTFT s | warm TTFT s | warm tokens/s |"
            + (" HTTP warm TTFT s |" if client else ""),
            "|---|---|---|---|---|---|" + ("---|" if client else "")]
    warm_ttfts, rates = [], []
    for i, (name, user) in enumerate(picks):
        ds = service.pool.datasets[name]
        other = picks[(i + 1) % len(picks)]  # leave another prompt in the cache
        service.explainer.warm(service.pool.datasets[other[0]], other[1].sample)
        service.explainer.forget()  # a cold start has no saved states
        cold, _ = timed_stream(service, ds, user.sample, args.max_tokens)
        service.explainer.warm(service.pool.datasets[other[0]], other[1].sample)
        service.explainer.warm(ds, user.sample)  # what picking the user in the UI does
        warm, stats = timed_stream(service, ds, user.sample, args.max_tokens)
        warm_ttfts.append(warm)
        rates.append(stats.get("tokens_per_s") or 0)
        row = (f"| {name} | {user.user_id} | {stats.get('prompt_tokens')} | {cold:.2f} | "
               f"{warm:.3f} | {rates[-1]:.1f} |")
        if client:
            service.explainer.warm(ds, user.sample)
            http_ttft, _ = timed_http(client, name, user.user_id, args.max_tokens)
            row += f" {http_ttft:.3f} |"
        rows.append(row)
        print(rows[-1] if i else "\n".join(rows), flush=True)
    print(f"\nwarm TTFT median {statistics.median(warm_ttfts):.3f} s (max {max(warm_ttfts):.3f}); "
          f"decode median {statistics.median(rates):.1f} tokens/s; {args.max_tokens} max tokens")
    if demo:
        demo.close()


if __name__ == "__main__":
    main()
