"""The Sybil and flood sections of benchmarks/ratings_load.py (run them from there):

    python benchmarks/ratings_load.py --sections sybil,flood [--app-root <older checkout>]

sybil: 30 new anonymous ids from one machine (the trusted proxy's hop is the same, each id
writes its own first X-Forwarded-For hop), 4 votes each, all trying to favour our student:
where a ticket is readable (base64 JSON with the side swap and pair, as before issue #14) the
bot votes for the student's side, else for A. Counted: accepted votes, address hashes among
them, our student's win rate among the decided ones.
flood: 200 /rate_item requests at once; 4 x 150 MB /vote bodies at once with Content-Length,
then 4 chunked; a 100 MB upload; then one ordinary vote. The app's VmRSS and peak VmHWM (MB)
before and after each, and how many bytes each sender got out before the app answered.
"""
from __future__ import annotations

import base64
import json
import random
import select
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from ratings_load import MB, ballot, call, db, rate_item

PROXY_HOP = "203.0.113.9"       # the address the proxy saw: one machine


def _peek(ticket: str) -> dict | None:
    """The ticket's fields if it is readable (base64 JSON before the signature), else None."""
    body = ticket.partition(".")[0]
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None


def sybil(app, report, ids: int = 30, votes: int = 4) -> None:
    accepted, refused, readable = [], {}, 0
    with httpx.Client() as http:
        for n in range(ids):
            rater, ip = f"sybil{n:04d}bot", f"198.51.100.{n + 1}, {PROXY_HOP}"
            for k in range(votes):
                ok, item = rate_item(app, http, rater, ip=ip)
                if not ok:
                    refused[item[:60]] = refused.get(item[:60], 0) + 1
                    break
                fields, choice = _peek(item["ticket"]), "A"
                if fields and "p" in fields:       # roles in order, swapped or not
                    readable += 1
                    roles = str(fields["p"]).split("|")
                    roles = roles[::-1] if fields.get("s") else roles
                    choice = "AB"[roles.index("student")] if "student" in roles else "tie"
                ok, result = call(http, app.url, "vote", ballot(item["ticket"], rater,
                                                               random.Random(k), choice), ip=ip)
                if ok:
                    accepted.append(result["vote_id"])
                else:
                    refused[result[:60]] = refused.get(result[:60], 0) + 1
    rows = db(app, "SELECT ip_hash, choice, role_a, role_b, mode, rater_id FROM votes "
                   "WHERE rater_id LIKE 'anon:sybil%'")
    decided = [r for r in rows if r[4] == "blind" and r[1] in ("A", "B")
               and "student" in (r[2], r[3])]
    wins = sum((r[2] if r[1] == "A" else r[3]) == "student" for r in decided)
    report(f"sybil: {ids} ids x {votes} votes from one machine: {len(accepted)} votes accepted "
           f"from {len({r[5] for r in rows})} ids under {len({r[0] for r in rows})} address "
           f"hash(es); {readable} tickets showed the sides; our student won {wins} of "
           f"{len(decided)} decided blind votes it was in; refused: {refused or 'none'}")


def _body(size: int):
    """A valid /vote JSON body of `size` bytes, a megabyte at a time."""
    prefix, suffix = b'{"data": ["', b'"]}'
    yield prefix
    left = size - len(prefix) - len(suffix)
    while left > 0:
        yield b"x" * min(MB, left)
        left -= MB
    yield suffix


def _send(port: int, path: str, size: int, chunked: bool) -> tuple[int | None, int]:
    """POST a `size`-byte JSON body; (HTTP status or None, bytes sent before the answer)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + ("Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {size}\r\n")
            + f"X-Forwarded-For: {PROXY_HOP}\r\n\r\n").encode()
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=300) as s:
        s.sendall(head)
        try:
            for part in _body(size):
                if select.select([s], [], [], 0)[0]:
                    break                           # the app answered before the body ended
                s.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
                sent += len(part)
            if chunked and sent >= size:
                s.sendall(b"0\r\n\r\n")
        except OSError:
            pass
        try:
            answer = s.recv(256)
            return int(answer.split()[1]), sent
        except (OSError, IndexError, ValueError):
            return None, sent


def flood(app, report) -> None:
    mem = app.memory()
    report(f"flood: app memory at rest {mem['VmRSS']:.0f} MB (peak so far {mem['VmHWM']:.0f} MB)")
    start = time.perf_counter()
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda n: _rate(app, n), range(200)))
    after = app.memory()
    report(f"200 /rate_item at once: {sum(answers)} answered 200 in "
           f"{time.perf_counter() - start:.1f} s; memory {after['VmRSS']:.0f} MB "
           f"(peak {after['VmHWM']:.0f} MB)", sum(answers) == 200)
    for chunked in (False, True):
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            out = list(pool.map(lambda _: _send(app.port, "/gradio_api/run/vote", 150 * MB,
                                                chunked), range(4)))
        after = app.memory()
        report(f"4 x 150 MB /vote bodies at once ({'chunked' if chunked else 'Content-Length'}): "
               f"HTTP {sorted({c for c, _ in out}, key=str)}, at most {max(b for _, b in out) / MB:.0f} "
               f"MB sent before the answer, {time.perf_counter() - start:.1f} s; memory "
               f"{after['VmRSS']:.0f} MB (peak {after['VmHWM']:.0f} MB)")
    base = app.url.replace("gradio_api/run/", "")
    r = httpx.post(base + "gradio_api/upload", files={"files": ("big.bin", b"\0" * (100 * MB))},
                   timeout=300)
    after = app.memory()
    report(f"100 MB upload: HTTP {r.status_code} ({r.text[:80]!r}); memory {after['VmRSS']:.0f} MB "
           f"(peak {after['VmHWM']:.0f} MB)")
    with httpx.Client() as http:
        ok, item = rate_item(app, http, "afterflood01")
        ok, result = call(http, app.url, "vote", ballot(item["ticket"], "afterflood01",
                                                        random.Random(0)), ip="10.1.2.3")
    report(f"after the flood an ordinary vote is {'stored' if ok else 'refused: ' + result[:80]}", ok)


def _rate(app, n: int) -> bool:
    with httpx.Client() as http:
        ok, _ = rate_item(app, http, f"flood{n:04d}rater", ip=f"10.200.{n // 250}.{n % 250 + 1}")
    return ok
