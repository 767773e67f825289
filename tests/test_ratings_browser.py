"""The Rate tab in headless Chromium: one blind vote, from an empty page to the reveal.
The ratings settings come from the environment (a 30 s minimum reading time here: long enough
that the locked buttons are seen locked on a loaded machine). Both texts are the pool's stored
ones (no model runs for a rating), so the next item shows at once.
Saves reports/app_rate.png for a person to look at.

    nice -n 19 .venv/bin/python -m pytest tests/test_ratings_browser.py -q    # needs /usr/bin/chromium
"""
from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPORTS = Path(__file__).resolve().parent.parent / "reports"
pytestmark = [pytest.mark.browser, pytest.mark.slow]
ENV = {"REASONINGREC_RATINGS_MIN_READ_S": "30", "REASONINGREC_RATINGS_READ_CPS": "1000000",
       "REASONINGREC_RATINGS_SALT": "browser-test-salt" * 3}


def chromium(p, tmp_path):
    """Debian's headless Chromium with a profile folder (its localStorage outlives reloads)."""
    return p.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
        viewport={"width": 1400, "height": 1200},
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-sync"])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from reasoningrec.ratings import RatingDesk
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    saved = {k: os.environ.get(k) for k in [*ENV, "REASONINGREC_RATINGS_DIR"]}
    ratings_dir = tmp_path_factory.mktemp("ratings")
    os.environ.update(ENV, REASONINGREC_RATINGS_DIR=str(ratings_dir))
    try:
        service = AppService.start(max_new_tokens=16)
        desk = RatingDesk.from_service(service)              # settings from the environment
        demo = build_app(service, desk)
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.update({key: value})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            server_port=port)
    try:
        yield url, ratings_dir, desk
    finally:
        demo.close()
        with service.explainer.backend.lock:   # a run in flight ends before llama.cpp is freed
            pass


def test_one_blind_vote_then_the_reveal(app, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: bash scripts/setup.sh --test")
    from playwright.sync_api import expect, sync_playwright

    from reasoningrec.ratings.store import RatingsStore
    url, ratings_dir, desk = app
    with sync_playwright() as p:
        browser = chromium(p, tmp_path)
        page = browser.new_page()
        page.goto(url, wait_until="load", timeout=60_000)
        page.get_by_role("tab", name="Rate").click(timeout=180_000)   # slow on a loaded machine
        expect(page.locator("#rr-rater")).to_contain_text("Rating anonymously", timeout=60_000)
        page.locator("#rr-rate-next").click()
        text_a = page.locator("#rr-rate-text-a .rr-side")
        text_a.wait_for(timeout=60_000)                       # stored texts: shown at once
        assert page.locator("#rr-rate-text-b .rr-side").is_visible()
        assert "teacher" not in page.locator("#rr-rate-text-a, #rr-rate-text-b").all_inner_texts()
        vote_a = page.locator("#rr-vote-A")
        expect(vote_a).to_be_disabled()                       # locked while reading
        for side in "ab":
            for criterion, score in (("plausibility", "4"), ("faithfulness", "3"), ("helpfulness", "5")):
                page.locator(f'#rr-score-{side}-{criterion} [data-testid="{score}-radio-label"]').click()
        expect(vote_a).to_be_enabled(timeout=90_000)
        vote_a.click()
        reveal = page.locator("#rr-rate-reveal .rr-reveal")
        reveal.wait_for(timeout=30_000)
        systems = r"(the paper's teacher: Mixtral|the paper's 7B student: Llama|our student: ReasoningRec)"
        assert re.search("A was " + systems, reveal.inner_text())
        assert re.search("B was " + systems, reveal.inner_text())
        expect(page.locator("#rr-rate-status")).to_contain_text("Vote saved")
        for choice in ("A", "B", "tie", "both_bad"):         # one vote per item: all locked
            expect(page.locator(f"#rr-vote-{choice}")).to_be_disabled()
        REPORTS.mkdir(exist_ok=True)
        page.screenshot(path=str(REPORTS / "app_rate.png"), full_page=True)
        page.get_by_role("tab", name="Results").click()      # the vote is counted there
        expect(page.locator("#rr-results")).to_contain_text("1 votes counted", timeout=60_000)
        expect(page.locator("#rr-results")).to_contain_text("win rate (95% CI)")
        page.get_by_role("tab", name="Rate").click(timeout=180_000)   # slow on a loaded machine
        first = text_a.inner_text()
        page.locator("#rr-rate-next").click()                # the next pair, at once
        expect(page.locator("#rr-rate-status")).to_contain_text("Read both explanations")
        expect(text_a).not_to_have_text(first)
        browser.close()
    [row] = RatingsStore.open(ratings_dir).votes()
    assert row["sample_id"] in desk.items and row["choice"] == "A" and row["mode"] == "blind"
    item = desk.items[row["sample_id"]]
    assert row["text_a"] == item.texts[row["role_a"]].text      # the system that wrote side A
    assert row["system_a"] == item.texts[row["role_a"]].system.model
    assert row["reading_s"] >= 30.0 and row["min_read_s"] == 30.0
    assert (row["plausibility_a"], row["faithfulness_a"], row["helpfulness_a"]) == (4, 3, 5)
    assert row["rater_id"].startswith("anon:") and row["ip_hash"] and row["channel"] == "ui"


def _vote_once(page, expect) -> None:
    page.locator("#rr-rate-next").click()
    page.locator("#rr-rate-text-a .rr-side").wait_for(timeout=60_000)
    for side in "ab":
        for criterion in ("plausibility", "faithfulness", "helpfulness"):
            page.locator(f'#rr-score-{side}-{criterion} [data-testid="3-radio-label"]').click()
    expect(page.locator("#rr-vote-tie")).to_be_enabled(timeout=30_000)
    page.locator("#rr-vote-tie").click()
    expect(page.locator("#rr-rate-status")).to_contain_text("Vote saved", timeout=30_000)


def _rater_shown(page, url, expect) -> str:
    page.goto(url, wait_until="load", timeout=60_000)
    page.get_by_role("tab", name="Rate").click(timeout=180_000)   # slow on a loaded machine
    expect(page.locator("#rr-rater")).to_contain_text("Rating anonymously", timeout=60_000)
    return re.search(r"as (\S+)…", page.locator("#rr-rater").inner_text())[1]


def test_the_rater_id_survives_reloads_and_restarts(tmp_path):
    """One browser is one rater: after a reload and after the server restarts (same data dir,
    its salt file, same port) the page shows the same id, every vote carries it, and an item
    it rated is refused to it. Restored rows cannot put markup into the Results tab."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed: bash scripts/setup.sh --test")
    from playwright.sync_api import expect, sync_playwright

    from reasoningrec.ratings import DuplicateVote, RatingDesk, RatingsSettings
    from reasoningrec.ratings.payload import parse_vote
    from reasoningrec.ratings.raters import Rater
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    service = AppService.start(max_new_tokens=8)
    ratings_dir = tmp_path / "ratings"          # salt from <dir>/salt, as the app makes it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def launch():
        desk = RatingDesk.from_service(service, RatingsSettings(ratings_dir, min_read_s=0.0))
        demo = build_app(service, desk)
        _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                                server_port=port)
        return demo, url, desk

    demo, url, desk = launch()
    try:
        with sync_playwright() as p:
            browser = chromium(p, tmp_path)
            page = browser.new_page()
            first = _rater_shown(page, url, expect)
            _vote_once(page, expect)
            assert _rater_shown(page, url, expect) == first            # reload
            _vote_once(page, expect)
            demo.close()
            demo, url, desk = launch()                                 # restart
            assert _rater_shown(page, url, expect) == first
            _vote_once(page, expect)
            rows = desk.store.votes()
            assert len(rows) == 3 and len({r["rater_id"] for r in rows}) == 1
            assert rows[0]["rater_id"].startswith(f"anon:{first}")
            assert len({r["sample_id"] for r in rows}) == 3           # never shown a rated item
            forged = {**rows[0], "vote_id": "restored-1", "rater_id": "anon:restoredrow1",
                      "system_a": '<img id="rr-pwn" src="x">', "role_a": '<b id="rr-bold">t</b>'}
            assert desk.store.insert_restored([forged]) == 1
            page.get_by_role("tab", name="Results").click()
            counted = sum(r["mode"] == "blind" for r in rows) + 1     # the 3rd item is a check
            expect(page.locator("#rr-results")).to_contain_text(f"{counted} votes counted",
                                                                 timeout=60_000)
            expect(page.locator("#rr-results")).to_contain_text('<img id="rr-pwn" src="x">')
            assert page.locator("#rr-pwn").count() == 0 and page.locator("#rr-bold").count() == 0
            expect(page.locator("#rr-results")).to_contain_text("Votes per address")
            browser.close()
        rater = Rater(rows[0]["rater_id"], "anon", rows[0]["ip_hash"])
        again = desk.issue(rater, rows[0]["sample_id"])                # the same item again
        with pytest.raises(DuplicateVote, match="Already voted"):
            desk.cast(parse_vote({"ticket": again["ticket"], "choice": "A", "scores": {
                s: {c: 3 for c in ("plausibility", "faithfulness", "helpfulness")} for s in "AB"}}),
                rater)
    finally:
        demo.close()
