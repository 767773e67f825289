"""The app as a Hugging Face Space would run it: ratings pushed to a dataset repo (a real
local HTTP server stands in for the Hub, tests/hub_server.py), the "ratings are local" banner
when that is not configured.

    nice -n 19 .venv/bin/python -m pytest tests/test_space.py -q
"""
from __future__ import annotations

import json
import os
import time
import urllib.request

import pytest

from reasoningrec.demo_pool import DemoPool
from reasoningrec.ratings.config import RatingsSettings
from reasoningrec.ratings.desk import RatingDesk
from reasoningrec.ratings.hubsync import LOCAL_ONLY, HubSync
from reasoningrec.ratings.payload import parse_vote
from reasoningrec.ratings.raters import rater_for
from reasoningrec.ratings.store import RatingsStore
from tests.app_process import start_app
from tests.hub_server import LocalHub
from tests.test_app import free_port

SCORES = {"plausibility": 4, "faithfulness": 4, "helpfulness": 3}


def cast_votes(folder: Path, raters: int) -> list[dict]:
    """Real votes (one per rater) through a RatingDesk on a store of their own."""
    store = RatingsStore.open(folder)
    desk = RatingDesk(store, DemoPool.load(), RatingsSettings(folder, min_read_s=0, salt="s" * 40,
                                                              attention_every=0), seed=3)
    for n in range(raters):
        who = rater_for(None, f"hub-rater-{n:03d}", "198.51.100.7", "s" * 40)
        shown = desk.issue(who)
        desk.cast(parse_vote({"ticket": shown["ticket"], "choice": "A",
                              "scores": {"A": SCORES, "B": SCORES}}), who)
    return store.votes()


def wait_until(check, what: str, limit_s: float = 60.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    pytest.fail(f"never happened: {what}")


@pytest.mark.slow
def test_a_space_with_sync_merges_the_hub_votes_and_pushes_new_ones(tmp_path):
    """app.py as on a Space with the token and repo set: it stays online (no HF_HUB_OFFLINE),
    merges the dataset's votes into its store, and pushes a vote cast through the API."""
    from gradio_client import Client
    earlier = cast_votes(tmp_path / "earlier", 2)
    hub = LocalHub().start()
    hub.files["owner/votes"] = {"shards/votes-earlier.jsonl": "".join(
        json.dumps(r) + "\n" for r in earlier).encode()}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update({"CPU_CORES": "1", "SPACE_ID": "owner/reasoningrec", "HF_TOKEN": "hf_test",
                "REASONINGREC_RATINGS_REPO": "owner/votes", "HF_ENDPOINT": hub.endpoint,
                "REASONINGREC_RATINGS_DIR": str(tmp_path / "space"),
                "REASONINGREC_RATINGS_MIN_READ_S": "0", "REASONINGREC_RATINGS_PUSH_MIN": "0.01"})
    proc = start_app(["--no-warm"], env, port)
    try:
        store = RatingsStore.open(tmp_path / "space")
        wait_until(lambda: store.count() == 2, "the Hub's 2 votes merged into the Space's store")
        assert {r["vote_id"] for r in store.votes()} == {r["vote_id"] for r in earlier}
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        item = client.predict("space-rater-001", "", "", api_name="/rate_item")
        vote = client.predict(json.dumps({"ticket": item["ticket"], "rater": "space-rater-001",
                                          "choice": "B", "scores": {"A": SCORES, "B": SCORES}}),
                              api_name="/vote")

        def pushed():
            return any(vote["vote_id"] in data.decode() for _, files in hub.commits
                       for data in files.values())
        wait_until(pushed, "the new vote committed to the Hub dataset")
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=10).read().decode()
        assert LOCAL_ONLY not in page and "rr-sync-state" in page
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
        hub.stop()
        print(out[-4000:])
    assert "ratings sync to owner/votes connected after 1 attempt(s): 2 votes merged" in out, out[-3000:]


def markdown_values(demo) -> list[str]:
    return [c["props"]["value"] for c in demo.config["components"]
            if c.get("type") == "markdown" and isinstance(c["props"].get("value"), str)]


def test_a_space_without_sync_shows_the_local_ratings_banner(tmp_path, monkeypatch):
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    monkeypatch.setenv("SPACE_ID", "owner/reasoningrec")
    service = AppService.start(max_new_tokens=8)
    settings = RatingsSettings(tmp_path, salt="s" * 40)     # no token, no repo
    desk = RatingDesk.from_service(service, settings)
    sync = HubSync(desk.store, settings).start()
    texts = markdown_values(build_app(service, desk, sync))
    [banner] = [t for t in texts if LOCAL_ONLY in t and "On this Space" in t]
    assert "HF_TOKEN" in banner and "REASONINGREC_RATINGS_REPO" in banner
    assert any("Ratings sync is off" in t for t in texts)   # the Results tab's state line
    monkeypatch.delenv("SPACE_ID")                          # off a Space: no banner
    texts = markdown_values(build_app(service, desk, sync))
    assert not any("On this Space" in str(t) for t in texts)
