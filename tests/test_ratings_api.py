"""The ratings API of the running app (/rate_item, /vote) through gradio_client and plain
HTTP: votes stored, duplicates and malformed or oversized payloads refused with their message
and a 4xx status, concurrent votes all kept, reading time, rate limit, attention checks and
the ids-per-address limit enforced by the server, sealed tickets, capped bodies, no uploads.

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_api.py -q
"""
from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.ratings.config import RatingsSettings
from reasoningrec.ratings.desk import RatingDesk
from reasoningrec.ratings.raters import hash_ip

SCORES = {"plausibility": 2, "faithfulness": 1, "helpfulness": 2}
SALT = "api-test-salt" * 4
POOL = DemoPool.load()
ML1M = POOL.users["ml1m"][0].sample.sample_id                      # a pool user's test target
FASHION = [u.sample.sample_id for u in POOL.users["fashion"][:3]]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from gradio_client import Client

    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    service = AppService.start(max_new_tokens=8)
    settings = RatingsSettings(tmp_path_factory.mktemp("ratings"), salt=SALT, min_read_s=0.0,
                               rate_limit=(30, 600.0), attention_every=0, ids_per_address=0)
    desk = RatingDesk.from_service(service, settings)
    demo = build_app(service, desk)
    RUNNING["demo"] = demo
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            server_port=port)
    try:
        yield Client(url, verbose=False), f"{url}gradio_api/run/", desk
    finally:
        demo.close()


# the handlers that may run outside the queue, with how many events use each: page load and
# user/dataset pickers (load_user, switch_dataset and the first load's lambda), history edits
# (3 lambdas), evidence from stored figures, stored teacher texts, a pick of the top 10 (the
# candidate set before Run's own steps), the Rate tab and ratings API
NO_MODEL_HANDLERS = {"clicked": 2, "load_user": 2, "<lambda>": 5, "evidence_view": 9,
                     "candidate_changed": 2, "pick": 1, "init": 1, "start": 1, "tick": 1, "handler": 4,
                     "rate_item": 1, "vote": 1}
RUNNING = {}


def post(url, name, *data, status=False, headers=None):
    """(ok, result or error message), plus the HTTP status with status=True."""
    r = httpx.post(url + name, json={"data": list(data)}, timeout=120, headers=headers)
    body = r.json()
    out = (True, body["data"][0]) if r.status_code == 200 else (False, body["error"])
    return (*out, r.status_code) if status else out


def payload(item, rater, choice="tie", **extra):
    return json.dumps({"ticket": item["ticket"], "rater": rater, "choice": choice,
                       "scores": {"A": SCORES, "B": SCORES}, **extra})


def test_a_vote_through_gradio_client_is_stored_once(app):
    from gradio_client.exceptions import AppError
    client, _, desk = app
    item = client.predict("client-rater-01", ML1M, api_name="/rate_item")
    assert {"A", "B", "ticket", "min_read_s"} <= set(item) and "mode" not in item
    result = client.predict(payload(item, "client-rater-01"), api_name="/vote")
    assert result["ok"] and {result["reveal"][s]["role"] for s in "AB"} == {"teacher", "student"}
    with pytest.raises(AppError, match="Already voted"):
        client.predict(payload(item, "client-rater-01"), api_name="/vote")
    [row] = desk.store.votes("rater_id = ?", ("anon:client-rater-01",))
    assert row["vote_id"] == result["vote_id"] and row["channel"] == "api"
    assert row["ip_hash"] == hash_ip("127.0.0.1", SALT) and row["text_a"] == item["A"]["text"]


@pytest.mark.parametrize("bad, message", [
    ("x" * 20_000, "20,000 bytes; the limit is 8,192"),
    ("{'ticket': 1}", "not valid JSON"),
    ('"just a string"', "must be a JSON object"),
    (json.dumps({"choice": "A", "scores": {}}), "lacks ticket"),
    (json.dumps({"ticket": "abc.def", "rater": "api-rater-02", "choice": "A",
                 "scores": {"A": SCORES, "B": SCORES}}), "bad signature"),
    (json.dumps({"ticket": "bädtïcket€", "rater": "api-rater-02", "choice": "A",
                 "scores": {"A": SCORES, "B": SCORES}}), "bad signature"),      # non-ASCII
    (None, "scores.A.helpfulness must be an integer from 1 to 5, got 9"),
    (None, "issued to another rater"),
])
def test_malformed_and_oversized_votes_are_refused_clearly(app, bad, message):
    from gradio_client.exceptions import AppError
    client, url, desk = app
    if bad is None:
        item = client.predict("api-rater-02", ML1M, api_name="/rate_item")
        good = json.loads(payload(item, "api-rater-02"))
        bad = json.dumps({**good, "scores": {"A": {**SCORES, "helpfulness": 9}, "B": SCORES}}
                         if "helpfulness" in message else {**good, "rater": "api-rater-03"})
    before = desk.store.count()
    with pytest.raises(AppError, match=message):
        client.predict(bad, api_name="/vote")
    ok, error, code = post(url, "vote", bad, status=True)   # the plain HTTP route says the same
    assert not ok and message in error and code == 400       # a refusal, not a server error
    assert desk.store.count() == before


def test_concurrent_votes_are_all_kept_and_a_raced_duplicate_lands_once(app):
    _, url, desk = app
    items = sorted(i for i in desk.items if desk.items[i].pairs())[:4]

    def rater(n):
        done = []
        for sample_id in items:
            ok, item = post(url, "rate_item", f"crowd-{n:04d}", sample_id)
            assert ok, item
            ok, result = post(url, "vote", payload(item, f"crowd-{n:04d}", "AB"[n % 2]))
            assert ok, result
            done.append(result["vote_id"])
        return done

    with ThreadPoolExecutor(24) as pool:
        acked = [v for votes in pool.map(rater, range(24)) for v in votes]
    stored = desk.store.votes("rater_id LIKE 'anon:crowd-%'")
    assert len(stored) == len(acked) == 96 and {r["vote_id"] for r in stored} == set(acked)
    ok, item = post(url, "rate_item", "racer-0001", items[0])
    same = payload(item, "racer-0001")
    barrier = threading.Barrier(12)

    def race(_):
        barrier.wait()
        return post(url, "vote", same)

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(race, range(12)))
    assert sum(ok for ok, _ in outcomes) == 1
    assert all("Already voted" in msg for ok, msg in outcomes if not ok)
    assert post(url, "vote", same, status=True)[2] == 409
    assert desk.store.count("rater_id = 'anon:racer-0001'") == 1


def test_server_enforces_reading_time_and_rate_limit(app):
    _, url, desk = app
    original = desk.settings
    try:
        desk.settings = dataclasses.replace(original, min_read_s=1.0, read_chars_per_s=1e9,
                                            rate_limit=(2, 600.0))
        ok, item = post(url, "rate_item", "slow-reader1", FASHION[0])
        assert item["min_read_s"] == 1.0
        ok, msg, code = post(url, "vote", payload(item, "slow-reader1"), status=True)
        assert not ok and "Too quick" in msg and code == 422
        time.sleep(1.1)
        assert post(url, "vote", payload(item, "slow-reader1"))[0]
        for sample_id in FASHION[1:]:
            ok, item = post(url, "rate_item", "slow-reader1", sample_id)
            time.sleep(1.05)
            ok, msg, code = post(url, "vote", payload(item, "slow-reader1"), status=True)
        assert not ok and "Too many votes: at most 2 every 600 s per rater" in msg and code == 429
    finally:
        desk.settings = original


def test_a_blind_item_shows_stored_texts_and_runs_no_model(app, monkeypatch):
    _, url, desk = app
    from reasoningrec.scoring.llm import LLMScorer
    runs = []
    for name in ("predict", "predict_many", "stream_explanation"):   # spies: count model calls
        real = getattr(LLMScorer, name)
        monkeypatch.setattr(LLMScorer, name, lambda *a, _real=real, _n=name, **k:
                            (runs.append(_n), _real(*a, **k))[1])
    with ThreadPoolExecutor(3) as pool:       # three raters ask for blind items at once
        shown = list(pool.map(lambda n: post(url, "rate_item", f"blind-rater-{n}", FASHION[0]),
                              range(3)))
    assert all(ok for ok, _ in shown) and runs == []
    item = desk.items[FASHION[0]]
    stored = {t.text for t in item.texts.values()}
    for _, shown_item in shown:
        assert {shown_item["A"]["text"], shown_item["B"]["text"]} <= stored
    ok, result = post(url, "vote", payload(shown[0][1], "blind-rater-0", "A"))
    assert ok and runs == []
    roles = {result["reveal"][s]["role"] for s in "AB"}
    assert len(roles) == 2 and roles <= {"teacher", "authors", "student"}
    for side in "AB":
        role = result["reveal"][side]["role"]
        assert result["reveal"][side]["system"] == item.texts[role].system.model


def test_the_server_decides_when_an_attention_check_is_served(app):
    """A client cannot ask for the mode, and an unvoted check stays due: asking again (for
    other samples) still serves the check until it is voted on."""
    _, url, desk = app
    original = desk.settings
    blind = sorted(i for i in desk.items if desk.items[i].pairs())
    try:
        desk.settings = dataclasses.replace(original, attention_every=2)   # 2nd item a check
        ok, first = post(url, "rate_item", "sched-rater-01", blind[5])
        assert ok and "mode" not in first
        ok, result = post(url, "vote", payload(first, "sched-rater-01", "A"))
        assert ok and "check" not in {result["reveal"][s]["role"] for s in "AB"}
        for sample_id in blind[6:9]:                  # dodging: ask for other items instead
            ok, item = post(url, "rate_item", "sched-rater-01", sample_id)
            assert ok and "mode" not in item and "attention" not in item["ticket"]
        ok, result = post(url, "vote", payload(item, "sched-rater-01", "tie"))
        assert ok and result["mode"] == "attention"
        assert "check" in {result["reveal"][s]["role"] for s in "AB"}
        ok, item = post(url, "rate_item", "sched-rater-01", blind[6], "attention")  # extra: ignored
        ok, result = post(url, "vote", payload(item, "sched-rater-01", "B"))
        assert ok and result["mode"] == "blind"      # the 3rd item is blind: the schedule's word
    finally:
        desk.settings = original
    modes = [r["mode"] for r in desk.store.votes("rater_id = 'anon:sched-rater-01'")]
    assert modes == ["blind", "attention", "blind"]


def test_the_ticket_is_sealed(app):
    """The ticket does not show the item, the side swap or the pair; changing one byte of it
    makes it invalid; two tickets for the same item differ."""
    import base64
    _, url, desk = app
    tickets = [post(url, "rate_item", "sealed-rater-1", FASHION[1])[1]["ticket"] for _ in range(2)]
    assert tickets[0] != tickets[1]
    for ticket in tickets:
        raw = base64.urlsafe_b64decode(ticket + "=" * (-len(ticket) % 4))
        for secret in (FASHION[1], "teacher", "student", "authors", '"s"', "sealed-rater"):
            assert secret.encode() not in raw
    fields = desk.sealer.open(tickets[0])
    assert fields["i"] == FASHION[1] and fields["s"] in (0, 1)      # the server can read it
    flipped = tickets[0][:40] + ("A" if tickets[0][40] != "A" else "B") + tickets[0][41:]
    item = {"ticket": flipped}
    ok, msg, code = post(url, "vote", payload(item, "sealed-rater-1"), status=True)
    assert not ok and "bad signature" in msg and code == 400


def test_many_ids_from_one_address_are_limited_and_shown(app):
    """Sybil: with one trusted proxy hop the address is the last X-Forwarded-For hop (the one
    the proxy appends), whatever the client wrote before it; at most 3 anonymous ids from one
    address may vote, and the report shows the votes per address."""
    from reasoningrec.ratings.report import build_report, report_markdown
    _, url, desk = app
    original = desk.settings
    sample = sorted(i for i in desk.items if desk.items[i].pairs())[10]
    outcomes = []
    try:
        desk.settings = dataclasses.replace(original, ids_per_address=3, proxy_hops=1)
        for n in range(8):
            spoofed = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"}
            ok, item, code = post(url, "rate_item", f"sybil-{n:04d}", sample, status=True,
                                  headers=spoofed)
            if ok:
                ok, item, code = post(url, "vote", payload(item, f"sybil-{n:04d}", "A"),
                                      status=True, headers=spoofed)
            outcomes.append((ok, item, code))
        other = {"X-Forwarded-For": "198.51.100.1, 203.0.113.77"}   # another address: fine
        ok, item = post(url, "rate_item", "sybil-other", sample, headers=other)
        assert post(url, "vote", payload(item, "sybil-other", "B"), headers=other)[0]
    finally:
        desk.settings = original
    assert [ok for ok, _, _ in outcomes] == [True] * 3 + [False] * 5
    assert all(code == 429 and "Too many rater ids from one address" in msg
               for ok, msg, code in outcomes if not ok)
    rows = desk.store.votes("rater_id LIKE 'anon:sybil-%'")
    assert len(rows) == 4
    assert {r["ip_hash"] for r in rows} == {hash_ip("203.0.113.9", SALT), hash_ip("203.0.113.77", SALT)}
    report = build_report(desk.store.votes(), n_boot=50, ids_per_address=3)
    sybil = next(a for a in report["addresses"]["top"] if a["address"] == hash_ip("203.0.113.9", SALT)[:8])
    assert sybil["votes"] == 3 and sybil["anon_ids"] == 3 and not sybil["flagged"]
    assert "Votes per address" in report_markdown(report)


def test_uploads_are_off_and_bodies_are_capped(app):
    """No file input, so no upload route; a body over the cap is refused from its
    Content-Length before it is read, a chunked one as soon as it passes the cap."""
    _, url, desk = app
    base = url.replace("gradio_api/run/", "")
    r = httpx.post(base + "gradio_api/upload", files={"files": ("a.txt", b"x" * 1000)}, timeout=60)
    assert r.status_code == 403 and "Uploads are off" in r.json()["error"]
    before = desk.store.count()
    r = httpx.post(url + "vote", content=b"{" + b" " * (2 << 20) + b"}", timeout=60,
                   headers={"content-type": "application/json"})
    assert r.status_code == 413 and "refused unread" in r.json()["error"]

    def chunks():
        for _ in range(64):
            yield b" " * 65536            # 4 MiB in all, no Content-Length
    r = httpx.post(url + "vote", content=chunks(), timeout=60)
    assert r.status_code == 413
    assert desk.store.count() == before
    ok, item = post(url, "rate_item", "after-flood-1", FASHION[2])      # still serving
    assert ok and post(url, "vote", payload(item, "after-flood-1"))[0]


def test_every_route_that_can_run_a_model_is_in_the_bounded_queue(app):
    """Handlers outside the queue (queue=False) are the ones known to run no model (history
    edits, evidence from stored figures, the ratings); everything else waits in the queue of at
    most QUEUE_SIZE, and the model's routes in its one-at-a-time group."""
    from collections import Counter

    from reasoningrec.ui import QUEUE_SIZE
    blocks = RUNNING["demo"]
    unqueued = Counter(fn.name for fn in blocks.fns.values() if not fn.queue)
    assert unqueued == NO_MODEL_HANDLERS, unqueued
    assert blocks._queue.max_size == QUEUE_SIZE
    model = {fn.name for fn in blocks.fns.values() if fn.concurrency_id == "model"}
    assert {"run", "warm", "predict", "explain", "rank"} <= model
    ranks = [fn for fn in blocks.fns.values() if fn.name == "rank"]   # /rank and "Rank top 10"
    assert len(ranks) == 2 and all(fn.concurrency_id == "model" for fn in ranks)
    assert {fn.api_name for fn in ranks} == {"rank", "top10"}    # /rank stays the API's
    assert all(fn.concurrency_limit == 1 for fn in blocks.fns.values() if fn.concurrency_id == "model")
