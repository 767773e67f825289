"""Load and durability of the ratings through the app's own API, on loopback.

    nice -n 19 .venv/bin/python benchmarks/ratings_load.py     # 50 x 20; --clients 5 --votes 6

Starts `app.py` (a real process, fresh data dir); three phases, a printed line per check:
1. load: N clients in parallel each ask /rate_item and /vote for V distinct items (B blind
   ones, whose student text the app generates once; the rest attention checks) -> exactly N*V
   rows, no duplicates, every acknowledged vote present, B explanations cached;
2. kill: N new raters do the same; after a third of the votes the app gets SIGKILL and is
   restarted on the same data dir -> every acknowledged vote is there; the clients resend
   what was not acknowledged ("Already voted" = committed before the kill) -> N*V rows;
3. abuse: duplicate, malformed, oversized, forged and over-the-rate-limit votes are refused
   with their message, and the row count does not move.
Writes the result as markdown to --out; exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, suppress
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reasoningrec.demo_pool import DemoPool  # noqa: E402
from reasoningrec.ratings.items import rating_items  # noqa: E402

SCORES = ("plausibility", "faithfulness", "helpfulness")


class App:
    """app.py in its own process, on a free loopback port."""

    def __init__(self, data_dir: Path, votes: int, max_tokens: int):
        self.data_dir, self.max_tokens, self.proc = data_dir, max_tokens, None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}/gradio_api/run/"
        self.env = {**os.environ, "REASONINGREC_RATINGS_DIR": str(data_dir),
                    "REASONINGREC_RATINGS_MIN_READ_S": "0", "GRADIO_SERVER_NAME": "127.0.0.1",
                    "REASONINGREC_RATINGS_RATE_LIMIT": f"{votes}/3600", "HF_HUB_OFFLINE": "1",
                    "GRADIO_ANALYTICS_ENABLED": "False", "REASONINGREC_RATINGS_REPO": "",
                    "GRADIO_SERVER_PORT": str(port)}

    def start(self, timeout: float = 180) -> float:
        start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py", "--no-warm", "--max-tokens",
                                      str(self.max_tokens)], cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}")
            with suppress(httpx.HTTPError):
                if b"/vote" in httpx.get(self.url.replace("run/", "info"), timeout=2).content:
                    return time.perf_counter() - start
            time.sleep(0.3)
        raise RuntimeError(f"app.py did not answer within {timeout:.0f} s")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=60)


def call(http: httpx.Client, url: str, name: str, *data):
    """(True, result) or (False, error message); raises httpx errors (app down)."""
    r = http.post(url + name, json={"data": list(data)}, timeout=600)
    return (True, r.json()["data"][0]) if r.status_code == 200 else (False, r.json()["error"])


def ballot(ticket: str, rater: str, rng: random.Random) -> str:
    scores = {s: {c: rng.randint(1, 5) for c in SCORES} for s in "AB"}
    return json.dumps({"ticket": ticket, "rater": rater, "scores": scores,
                       "choice": rng.choice(["A", "B", "tie", "both_bad"])})


def cast(http, url, rater, sample_id, mode, rng):
    ok, item = call(http, url, "rate_item", rater, sample_id, mode)
    return call(http, url, "vote", ballot(item["ticket"], rater, rng)) if ok else (False, item)


def run_clients(app: App, plans: dict, acks: dict, stop_after: int | None = None) -> dict:
    """Each rater casts its planned (sample, mode) votes; acks[rater] gets the vote ids the app
    acknowledged. With stop_after, the app is SIGKILLed once that many votes were acknowledged."""
    outcome = {"refused": [], "down": 0, "already": 0}
    lock, killed = threading.Lock(), threading.Event()

    def client(rater):
        rng = random.Random(rater)
        with httpx.Client() as http:
            for sample_id, mode in plans[rater]:
                if (sample_id, mode) in acks[rater]:
                    continue
                try:
                    ok, value = cast(http, app.url, rater, sample_id, mode, rng)
                except (httpx.HTTPError, ValueError):
                    with lock:
                        outcome["down"] += 1
                    return
                with lock:
                    if ok:
                        acks[rater][(sample_id, mode)] = value["vote_id"]
                    elif value.startswith("Already voted"):
                        acks[rater][(sample_id, mode)] = "committed-before-kill"
                        outcome["already"] += 1
                    else:
                        outcome["refused"].append(value)
                    done = sum(len(a) for a in acks.values())
                    if stop_after and done >= stop_after and not killed.is_set():
                        killed.set()
                        app.kill()

    start = time.perf_counter()
    with ThreadPoolExecutor(len(plans)) as pool:
        list(pool.map(client, plans))
    outcome["seconds"] = time.perf_counter() - start
    return outcome


def db(app: App, sql: str, params=()):
    # read-write on purpose: after a kill the WAL may need the recovery any opener runs
    with closing(sqlite3.connect(app.data_dir / "ratings.sqlite", timeout=30)) as conn:
        return conn.execute(sql, params).fetchall()


def check_votes(app: App, acks: dict, prefix: str) -> dict:
    rows = db(app, "SELECT vote_id, rater_id, sample_id, mode FROM votes WHERE rater_id LIKE ?",
              (f"anon:{prefix}%",))
    ids = {r[0] for r in rows}
    acked = {v for a in acks.values() for v in a.values() if v != "committed-before-kill"}
    keys = [(r[1], r[2], r[3]) for r in rows]
    return {"rows": len(rows), "duplicates": len(keys) - len(set(keys)),
            "acked": len(acked), "acked_missing": len(acked - ids)}


def plans_for(prefix: str, clients: int, votes: int, blind: list, checks: list):
    """({rater: its (sample, mode) votes in its own order}, {rater: {} for the acks})."""
    plan = [(s, "blind") for s in blind] + [(s, "attention") for s in checks[:votes - len(blind)]]
    plans = {f"{prefix}{n:04d}xx": random.Random(n).sample(plan, len(plan)) for n in range(clients)}
    return plans, {r: {} for r in plans}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Ratings load + kill -9 durability via the app's API.")
    ap.add_argument("--clients", type=int, default=50, help="concurrent raters per phase")
    ap.add_argument("--votes", type=int, default=20, help="votes per rater (distinct items)")
    ap.add_argument("--blind", type=int, default=3, help="how many are blind teacher-vs-student "
                    "items (student text generated once each); the rest are attention checks")
    ap.add_argument("--max-tokens", type=int, default=16, help="student explanation length")
    ap.add_argument("--kill-at", type=float, default=0.33, help="kill -9 after this share of votes")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/ratings_load.md"),
                    help="markdown file for the printed result ('' = none)")
    args = ap.parse_args(argv)
    items = sorted(rating_items(DemoPool.load()))
    blind = [i for i in items if i.startswith("fashion")][:args.blind]  # one user: one prompt
    checks = [i for i in items if i not in blind]
    total = args.clients * args.votes
    lines = []

    def report(line: str, ok: bool = True):
        lines.append(("" if ok else "FAILED: ") + line)
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory(prefix="ratings-load-") as tmp:
        app = App(Path(tmp), args.votes, args.max_tokens)
        try:
            report(f"app.py answered after {app.start():.1f} s")
            warm = time.perf_counter()
            with httpx.Client() as http:
                for sample_id in blind:   # the student texts, generated once each
                    ok, info = call(http, app.url, "rate_item", "warmup-rater", sample_id, "blind")
                    assert ok, info
            report(f"warm-up: {len(blind)} student explanations generated in "
                   f"{time.perf_counter() - warm:.1f} s")
            plans, acks = plans_for("load", args.clients, args.votes, blind, checks)
            out = run_clients(app, plans, acks)
            c = check_votes(app, acks, "load")
            cached = db(app, "SELECT COUNT(*) FROM explanations")[0][0]
            report(f"load: {args.clients} clients x {args.votes} votes in {out['seconds']:.1f} s "
                   f"({total / out['seconds']:.0f} votes/s): {c['rows']} rows, {c['duplicates']} "
                   f"duplicates, {c['acked']} acknowledged, {c['acked_missing']} missing, "
                   f"{len(out['refused'])} refused, {cached} student texts cached",
                   c["rows"] == total == c["acked"] and not c["duplicates"] + c["acked_missing"]
                   + len(out["refused"]) and cached == len(blind))
            plans2, acks2 = plans_for("kill", args.clients, args.votes, blind, checks)
            out = run_clients(app, plans2, acks2, stop_after=int(total * args.kill_at))
            at_kill = check_votes(app, acks2, "kill")
            report(f"kill -9 after {at_kill['acked']} acknowledged votes ({out['down']} clients "
                   f"cut off): {at_kill['rows']} rows on disk, {at_kill['acked_missing']} "
                   "acknowledged votes missing", not at_kill["acked_missing"] and out["down"] > 0)
            report(f"restart: app.py answered after {app.start():.1f} s")
            after = check_votes(app, acks2, "kill")
            report(f"after restart: {after['rows']} rows, {after['acked_missing']} acknowledged "
                   "votes missing", after["rows"] == at_kill["rows"] and not after["acked_missing"])
            out = run_clients(app, plans2, acks2)
            final = check_votes(app, acks2, "kill")
            report(f"resume: {out['already']} resent votes were 'Already voted' (committed, not "
                   f"acknowledged), {len(out['refused'])} refused; {final['rows']} rows, "
                   f"{final['duplicates']} duplicates, {final['acked_missing']} acknowledged "
                   "missing", final["rows"] == total and not final["duplicates"]
                   + final["acked_missing"] + len(out["refused"]))
            abuse(app, plans, 2 * total, report)
        finally:
            app.kill(signal.SIGTERM)
    command = " ".join(["python benchmarks/ratings_load.py", *(argv or sys.argv[1:])])
    if args.out:
        Path(args.out).write_text(f"# Ratings load and durability\n\n`{command}`\n\n"
                                  + "".join(f"- {line}\n" for line in lines), encoding="utf-8")
    return 1 if any(line.startswith("FAILED") for line in lines) else 0


def abuse(app: App, plans: dict, expected_rows: int, report) -> None:
    rater, (sample_id, mode) = next((r, p[0]) for r, p in plans.items())
    with httpx.Client() as http:
        ok, item = call(http, app.url, "rate_item", rater, sample_id, mode)
        good = json.loads(ballot(item["ticket"], rater, random.Random(0)))
        seven = {**good["scores"], "A": {c: 7 for c in SCORES}}
        cases = {"duplicate": (good, "Already voted"), "not JSON": ("{choice: A", "not valid JSON"),
                 "oversized (20 kB)": ({**good, "choice": "A" * 20_000}, "the limit is 8,192"),
                 "score 7": ({**good, "scores": seven}, "from 1 to 5"),
                 "forged ticket": ({**good, "ticket": good["ticket"][:-4] + "0000"}, "signature"),
                 "unknown field": ({**good, "ip": "1.2.3.4"}, "Unknown field")}
        for name, (payload, expect) in cases.items():
            text = payload if isinstance(payload, str) else json.dumps(payload)
            ok, msg = call(http, app.url, "vote", text)
            report(f"{name}: refused with {msg[:90]!r}", not ok and expect in msg)
        # a new item for a rater who has used the whole window
        other = next(s for s in sorted(rating_items(DemoPool.load()))
                     if (s, "attention") not in plans[rater])
        ok, msg = cast(http, app.url, rater, other, "attention", random.Random(1))
        report(f"over the rate limit: refused with {msg[:90]!r}", not ok and "Too many" in msg)
    rows = db(app, "SELECT COUNT(*) FROM votes")[0][0]
    report(f"rows after the refused votes: {rows} (expected {expected_rows})",
           rows == expected_rows)


if __name__ == "__main__":
    sys.exit(main())
