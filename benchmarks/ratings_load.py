"""Load, durability and abuse of the ratings through the app's own API, on loopback.

    nice -n 19 .venv/bin/python benchmarks/ratings_load.py     # 50 x 20; --clients 5 --votes 6
    python benchmarks/ratings_load.py --sections sybil,flood --app-root /tmp/old   # another checkout

Starts `app.py` (a real process, fresh data dir, this script acting as the trusted proxy: each
client's address goes in X-Forwarded-For); sections, a printed line per check:
1. load: N clients in parallel each ask /rate_item and /vote for V distinct blind items (all
   texts stored by the pool builder: no model runs) -> exactly N*V rows, no duplicates, every
   acknowledged vote present;
2. kill: N new raters do the same; after a third of the votes the app gets SIGKILL and is
   restarted on the same data dir -> every acknowledged vote is there; the clients resend
   what was not acknowledged ("Already voted" = committed before the kill) -> N*V rows;
3. abuse: duplicate, malformed, oversized, forged and over-the-rate-limit votes are refused
   with their message and a 4xx status, and the row count does not move;
4. sybil (a fresh app with the default settings but no reading time): 30 new ids from one
   machine, each spoofing its own first X-Forwarded-For hop, try 4 votes each for our
   student (reading the side swap from the ticket where it can) -> how many counted, from how
   many address hashes, and our student's win rate among them;
5. flood: 200 /rate_item at once, 4 x 150 MB /vote bodies (Content-Length, then chunked),
   a 100 MB upload -> answers, seconds, the app's resident memory (VmRSS, peak VmHWM).
Writes the result as markdown to --out; exit status 1 when any check fails.
"""
from __future__ import annotations

import argparse
import hashlib
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
SECTIONS = ("load", "kill", "abuse", "sybil", "flood")
MB = 1 << 20


def address(rater: str) -> str:
    """The address the 'proxy' (this script) reports for a client."""
    h = hashlib.sha256(rater.encode()).digest()
    return f"10.{h[0]}.{h[1]}.{h[2] or 1}"


class App:
    """app.py in its own process, on a free loopback port."""

    def __init__(self, data_dir: Path, root: Path, **env):
        self.data_dir, self.root, self.proc = data_dir, root, None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/gradio_api/run/"
        self.env = {**os.environ, "REASONINGREC_RATINGS_DIR": str(data_dir),
                    "REASONINGREC_RATINGS_MIN_READ_S": "0", "GRADIO_SERVER_NAME": "127.0.0.1",
                    "HF_HUB_OFFLINE": "1", "REASONINGREC_TRUSTED_PROXY_HOPS": "1",
                    "GRADIO_ANALYTICS_ENABLED": "False", "REASONINGREC_RATINGS_REPO": "",
                    "GRADIO_SERVER_PORT": str(self.port), "PYTHONPATH": str(root), **env}
        self.rate_args = 2

    def start(self, timeout: float = 300) -> float:
        start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py", "--no-warm"], cwd=self.root,
                                     env=self.env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        while time.perf_counter() - start < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}")
            with suppress(httpx.HTTPError):
                info = httpx.get(self.url.replace("run/", "info"), timeout=2)
                if b"/vote" in info.content:   # an older app's /rate_item also takes a mode
                    params = info.json()["named_endpoints"]["/rate_item"]["parameters"]
                    self.rate_args = len(params)
                    return time.perf_counter() - start
            time.sleep(0.3)
        raise RuntimeError(f"app.py did not answer within {timeout:.0f} s")

    def memory(self) -> dict:
        """The app's resident memory now and at its peak, in MB (Linux /proc)."""
        fields = dict(line.split(":", 1) for line in
                      Path(f"/proc/{self.proc.pid}/status").read_text().splitlines() if ":" in line)
        return {k: int(fields[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=60)


def call(http: httpx.Client, url: str, name: str, *data, ip: str | None = None,
         status: bool = False):
    """(True, result) or (False, error message) [+ HTTP status]; raises httpx errors (app down)."""
    headers = {"X-Forwarded-For": ip} if ip else None
    r = http.post(url + name, json={"data": list(data)}, timeout=600, headers=headers)
    out = (True, r.json()["data"][0]) if r.status_code == 200 else (False, r.json()["error"])
    return (*out, r.status_code) if status else out


def ballot(ticket: str, rater: str, rng: random.Random, choice: str | None = None) -> str:
    scores = {s: {c: rng.randint(1, 5) for c in SCORES} for s in "AB"}
    return json.dumps({"ticket": ticket, "rater": rater, "scores": scores,
                       "choice": choice or rng.choice(["A", "B", "tie", "both_bad"])})


def rate_item(app: App, http, rater: str, sample_id: str = "", ip: str | None = None):
    args = [rater, sample_id] + [""] * (app.rate_args - 2)    # an older app: mode "" (its choice)
    return call(http, app.url, "rate_item", *args, ip=ip or address(rater))


def cast(app: App, http, rater, sample_id, rng):
    ok, item = rate_item(app, http, rater, sample_id)
    return call(http, app.url, "vote", ballot(item["ticket"], rater, rng),
                ip=address(rater)) if ok else (False, item)


def run_clients(app: App, plans: dict, acks: dict, stop_after: int | None = None) -> dict:
    """Each rater casts its planned votes (sample ids); acks[rater] gets the vote ids the app
    acknowledged. With stop_after, the app is SIGKILLed once that many votes were acknowledged."""
    outcome = {"refused": [], "down": 0, "already": 0}
    lock, killed = threading.Lock(), threading.Event()

    def client(rater):
        rng = random.Random(rater)
        with httpx.Client() as http:
            for sample_id in plans[rater]:
                if sample_id in acks[rater]:
                    continue
                try:
                    ok, value = cast(app, http, rater, sample_id, rng)
                except (httpx.HTTPError, ValueError):
                    with lock:
                        outcome["down"] += 1
                    return
                with lock:
                    if ok:
                        acks[rater][sample_id] = value["vote_id"]
                    elif value.startswith("Already voted"):
                        acks[rater][sample_id] = "committed-before-kill"
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


def plans_for(prefix: str, clients: int, votes: int, items: list):
    """({rater: its sample ids in its own order}, {rater: {} for the acks})."""
    plans = {f"{prefix}{n:04d}xx": random.Random(n).sample(items, votes) for n in range(clients)}
    return plans, {r: {} for r in plans}

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Ratings load, kill -9 durability and abuse via the "
                                             "app's API.")
    ap.add_argument("--clients", type=int, default=50, help="concurrent raters per phase")
    ap.add_argument("--votes", type=int, default=20, help="votes per rater (distinct items)")
    ap.add_argument("--kill-at", type=float, default=0.33, help="kill -9 after this share of votes")
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated sections to run, of {', '.join(SECTIONS)}")
    ap.add_argument("--app-root", default=str(ROOT),
                    help="the checkout whose app.py to start (e.g. an older one, for 'before' "
                         "figures of the sybil and flood sections)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/ratings_load.md"),
                    help="markdown file for the printed result ('' = none)")
    args = ap.parse_args(argv)
    sections = [x.strip() for x in args.sections.split(",") if x.strip()]
    if bad := sorted(set(sections) - set(SECTIONS)):
        ap.error(f"unknown section(s) {', '.join(bad)}; choose from {', '.join(SECTIONS)}")
    if args.clients < 1 or args.votes < 1 or not 0 < args.kill_at < 1:
        ap.error("--clients and --votes must be at least 1, --kill-at between 0 and 1")
    items = sorted(i for i, it in rating_items(DemoPool.load()).items() if it.pairs())
    if args.votes > len(items):
        ap.error(f"--votes {args.votes}: the demo pool has {len(items)} blind items")
    total, lines = args.clients * args.votes, []
    root = Path(args.app_root).resolve()

    def report(line: str, ok: bool = True):
        lines.append(("" if ok else "FAILED: ") + line)
        print(lines[-1], flush=True)

    with tempfile.TemporaryDirectory(prefix="ratings-load-") as tmp:
        if {"load", "kill", "abuse"} & set(sections):
            durability(Path(tmp) / "load", root, args, sections, items, total, report)
        if {"sybil", "flood"} & set(sections):
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from ratings_flood import flood, sybil   # benchmarks/ratings_flood.py
            app = App(Path(tmp) / "abuse", root, REASONINGREC_RATINGS_RATE_LIMIT="1000/3600")
            try:
                report(f"sybil/flood app ({root.name}) answered after {app.start():.1f} s")
                if "sybil" in sections:
                    sybil(app, report)
                if "flood" in sections:
                    flood(app, report)
            finally:
                app.kill(signal.SIGTERM)
    command = " ".join(["python benchmarks/ratings_load.py", *(argv or sys.argv[1:])])
    if args.out:
        Path(args.out).write_text(f"# Ratings load and durability\n\n`{command}`\n\n"
                                  + "".join(f"- {line}\n" for line in lines), encoding="utf-8")
    return 1 if any(line.startswith("FAILED") for line in lines) else 0


def durability(data_dir: Path, root: Path, args, sections, items, total, report) -> None:
    app = App(data_dir, root, REASONINGREC_RATINGS_RATE_LIMIT=f"{args.votes}/3600",
              REASONINGREC_RATINGS_ATTENTION_EVERY="0")
    try:
        report(f"app.py answered after {app.start():.1f} s")
        plans, acks = plans_for("load", args.clients, args.votes, items)
        out = run_clients(app, plans, acks)
        c = check_votes(app, acks, "load")
        report(f"load: {args.clients} clients x {args.votes} votes in {out['seconds']:.1f} s "
               f"({total / out['seconds']:.0f} votes/s): {c['rows']} rows, {c['duplicates']} "
               f"duplicates, {c['acked']} acknowledged, {c['acked_missing']} missing, "
               f"{len(out['refused'])} refused",
               c["rows"] == total == c["acked"] and not c["duplicates"] + c["acked_missing"]
               + len(out["refused"]))
        expected = total
        if "kill" in sections:
            plans2, acks2 = plans_for("kill", args.clients, args.votes, items)
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
            expected += total
        if "abuse" in sections:
            abuse(app, plans, items, expected, report)
    finally:
        app.kill(signal.SIGTERM)


def abuse(app: App, plans: dict, items: list, expected_rows: int, report) -> None:
    rater, sample_id = next((r, p[0]) for r, p in plans.items())
    with httpx.Client() as http:
        ok, item = rate_item(app, http, rater, sample_id)
        good = json.loads(ballot(item["ticket"], rater, random.Random(0)))
        seven = {**good["scores"], "A": {c: 7 for c in SCORES}}
        t = good["ticket"]
        cases = {"duplicate": (good, "Already voted", 409),
                 "not JSON": ("{choice: A", "not valid JSON", 400),
                 "oversized (20 kB)": ({**good, "choice": "A" * 20_000}, "the limit is 8,192", 400),
                 "score 7": ({**good, "scores": seven}, "from 1 to 5", 400),
                 "forged ticket": ({**good, "ticket": t[:-4] + ("0000" if t[-4:] != "0000" else "1111")},
                                   "signature", 400),
                 "non-ASCII ticket": ({**good, "ticket": "tïcket€"}, "signature", 400),
                 "unknown field": ({**good, "ip": "1.2.3.4"}, "Unknown field", 400)}
        for name, (payload, expect, status) in cases.items():
            text = payload if isinstance(payload, str) else json.dumps(payload)
            ok, msg, code = call(http, app.url, "vote", text, ip=address(rater), status=True)
            report(f"{name}: HTTP {code}, refused with {msg[:90]!r}",
                   not ok and expect in msg and code == status)
        # a new item for a rater who has used the whole window
        other = next(s for s in items if s not in plans[rater])
        ok, item = rate_item(app, http, rater, other)
        ok, msg, code = call(http, app.url, "vote", ballot(item["ticket"], rater, random.Random(1)),
                             ip=address(rater), status=True)
        report(f"over the rate limit: HTTP {code}, refused with {msg[:90]!r}",
               not ok and "Too many" in msg and code == 429)
    rows = db(app, "SELECT COUNT(*) FROM votes")[0][0]
    report(f"rows after the refused votes: {rows} (expected {expected_rows})",
           rows == expected_rows)


if __name__ == "__main__":
    sys.exit(main())
