"""The ratings API of the running app (/rate_item, /vote) through gradio_client and plain
HTTP: votes stored, duplicates and malformed or oversized payloads refused with their message,
concurrent votes all kept, reading time and rate limit enforced by the server.

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
                               rate_limit=(30, 600.0), attention_every=0)
    desk = RatingDesk.from_service(service, settings)
    demo = build_app(service, desk)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            server_port=port)
    try:
        yield Client(url, verbose=False), f"{url}gradio_api/run/", desk
    finally:
        demo.close()


def post(url, name, *data):
    r = httpx.post(url + name, json={"data": list(data)}, timeout=120)
    body = r.json()
    return (True, body["data"][0]) if r.status_code == 200 else (False, body["error"])


def payload(item, rater, choice="tie", **extra):
    return json.dumps({"ticket": item["ticket"], "rater": rater, "choice": choice,
                       "scores": {"A": SCORES, "B": SCORES}, **extra})


def test_a_vote_through_gradio_client_is_stored_once(app):
    from gradio_client.exceptions import AppError
    client, _, desk = app
    item = client.predict("client-rater-01", ML1M, "attention", api_name="/rate_item")
    assert item["mode"] == "attention" and {"A", "B", "ticket", "min_read_s"} <= set(item)
    result = client.predict(payload(item, "client-rater-01"), api_name="/vote")
    assert result["ok"] and {result["reveal"][s]["role"] for s in "AB"} == {"teacher", "check"}
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
    (None, "scores.A.helpfulness must be an integer from 1 to 5, got 9"),
    (None, "issued to another rater"),
])
def test_malformed_and_oversized_votes_are_refused_clearly(app, bad, message):
    from gradio_client.exceptions import AppError
    client, url, desk = app
    if bad is None:
        item = client.predict("api-rater-02", ML1M, "attention", api_name="/rate_item")
        good = json.loads(payload(item, "api-rater-02"))
        bad = json.dumps({**good, "scores": {"A": {**SCORES, "helpfulness": 9}, "B": SCORES}}
                         if "helpfulness" in message else {**good, "rater": "api-rater-03"})
    before = desk.store.count()
    with pytest.raises(AppError, match=message):
        client.predict(bad, api_name="/vote")
    ok, error = post(url, "vote", bad)                       # the plain HTTP route says the same
    assert not ok and message in error
    assert desk.store.count() == before


def test_concurrent_votes_are_all_kept_and_a_raced_duplicate_lands_once(app):
    _, url, desk = app
    items = sorted(desk.items)[:4]

    def rater(n):
        done = []
        for sample_id in items:
            ok, item = post(url, "rate_item", f"crowd-{n:04d}", sample_id, "attention")
            assert ok, item
            ok, result = post(url, "vote", payload(item, f"crowd-{n:04d}", "AB"[n % 2]))
            assert ok, result
            done.append(result["vote_id"])
        return done

    with ThreadPoolExecutor(24) as pool:
        acked = [v for votes in pool.map(rater, range(24)) for v in votes]
    stored = desk.store.votes("rater_id LIKE 'anon:crowd-%'")
    assert len(stored) == len(acked) == 96 and {r["vote_id"] for r in stored} == set(acked)
    ok, item = post(url, "rate_item", "racer-0001", items[0], "attention")
    same = payload(item, "racer-0001")
    barrier = threading.Barrier(12)

    def race(_):
        barrier.wait()
        return post(url, "vote", same)

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(race, range(12)))
    assert sum(ok for ok, _ in outcomes) == 1
    assert all("Already voted" in msg for ok, msg in outcomes if not ok)
    assert desk.store.count("rater_id = 'anon:racer-0001'") == 1


def test_server_enforces_reading_time_and_rate_limit(app):
    _, url, desk = app
    original = desk.settings
    try:
        desk.settings = dataclasses.replace(original, min_read_s=1.0, read_chars_per_s=1e9,
                                            rate_limit=(2, 600.0))
        ok, item = post(url, "rate_item", "slow-reader1", FASHION[0], "attention")
        assert item["min_read_s"] == 1.0
        ok, msg = post(url, "vote", payload(item, "slow-reader1"))
        assert not ok and "Too quick" in msg
        time.sleep(1.1)
        assert post(url, "vote", payload(item, "slow-reader1"))[0]
        for sample_id in FASHION[1:]:
            ok, item = post(url, "rate_item", "slow-reader1", sample_id, "attention")
            time.sleep(1.05)
            ok, msg = post(url, "vote", payload(item, "slow-reader1"))
        assert not ok and "Too many votes: at most 2 every 600 s per rater" in msg
    finally:
        desk.settings = original


def test_a_blind_item_shows_stored_texts_and_runs_no_model(app, monkeypatch):
    _, url, desk = app
    from reasoningrec.predict import LLMScorer
    runs = []
    for name in ("predict", "predict_many", "stream_explanation"):   # spies: count model calls
        real = getattr(LLMScorer, name)
        monkeypatch.setattr(LLMScorer, name, lambda *a, _real=real, _n=name, **k:
                            (runs.append(_n), _real(*a, **k))[1])
    with ThreadPoolExecutor(3) as pool:       # three raters ask for blind items at once
        shown = list(pool.map(lambda n: post(url, "rate_item", f"blind-rater-{n}", FASHION[0],
                                             "blind"), range(3)))
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
