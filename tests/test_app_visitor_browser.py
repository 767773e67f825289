"""The demo as a first-time visitor meets it (issue #15), in Debian's headless Chromium at
1400 px and 390 px: a dataset switch while the model serves someone else shows no error, the
timing line counts from the click (checked against the browser's own clock), one status line
shows the wait, the teacher panel stays still without a live teacher, the narrow page shows
the answer above the history editor, Fashion items are told apart, the Results tab
breaks no word, and an explanation the loop stop ended says so under it. Screenshots of each tab before and after a run (and of the wait) go to reports/screens/ (or
$REASONINGREC_SCREENS: the committed set in benchmarks/results/screens/ comes from
`REASONINGREC_SCREENS=benchmarks/results/screens`), shrunk to small palette PNGs.

    nice -n 19 .venv/bin/python -m pytest tests/test_app_visitor_browser.py -q   # needs /usr/bin/chromium
"""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from browser import chromium, launch_local
from pool_users import loop_stopped_user

ROOT = Path(__file__).resolve().parent.parent
SCREENS = Path(os.environ.get("REASONINGREC_SCREENS") or ROOT / "reports" / "screens")
HELD_S = 3.0     # how long the test keeps the model busy after Run was clicked
pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the browser's own clock: when Run was clicked and when the first explanation text showed
WATCH = """() => {
  window.rr = {click: null, firstText: null, busyTeacher: 0, busyStudent: 0};
  document.querySelector('#rr-run').addEventListener('click',
      () => { window.rr.click = performance.now(); }, {capture: true});
  const busy = (id) => !!document.querySelector(`#${id}`).closest('.block')
      ?.querySelector('.wrap:not(.hide) .eta-bar, .wrap.default:not(.hide)');
  new MutationObserver(() => {
    const box = document.querySelector('#rr-explanation .rr-explanation');
    const text = box ? box.innerText.replace('▍', '').trim() : '';
    if (text && window.rr.click && !window.rr.firstText) window.rr.firstText = performance.now();
    if (busy('rr-teacher')) window.rr.busyTeacher += 1;
    if (busy('rr-student')) window.rr.busyStudent += 1;
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


CLEAR_STATUS = "document.querySelectorAll('#rr-status .rr-msg').forEach(e => e.remove())"


def shot(page, name: str) -> None:
    """A full-page screenshot as a small palette PNG."""
    from PIL import Image
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    image = Image.open(path).convert("RGB")
    if image.width > 900:
        image = image.resize((image.width * 2 // 3, image.height * 2 // 3), Image.LANCZOS)
    image.quantize(colors=64).save(path, optimize=True)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from gradio_client import Client

    from reasoningrec.ratings import RatingDesk
    from reasoningrec.ratings.config import RatingsSettings
    from reasoningrec.ratings.payload import Ballot
    from reasoningrec.ratings.raters import Rater
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    service = AppService.start(max_new_tokens=32)
    settings = RatingsSettings(tmp_path_factory.mktemp("ratings"), salt="visitor-test-salt" * 3,
                               min_read_s=0)
    desk = RatingDesk.from_service(service, settings)
    scores = {"A": {"plausibility": 4, "faithfulness": 3, "helpfulness": 4},
              "B": {"plausibility": 2, "faithfulness": 3, "helpfulness": 2}}
    for n in range(8):   # some real votes through the desk, so the Results tab has tables
        rater = Rater(f"anon:visitor-rater-{n:02d}", "anon", None)
        for _ in range(2):
            item = desk.issue(rater)
            desk.cast(Ballot(item["ticket"], rater.rater_id, "AB"[n % 2], scores), rater)
    demo = build_app(service, desk)
    url = launch_local(demo)
    try:
        yield url, service, Client(url, verbose=False)
    finally:
        demo.close()
        for student in service.students.values():   # a run in flight ends before llama.cpp is freed
            with student.explainer.backend.lock:
                pass


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        context = chromium(p, tmp_path_factory.mktemp("chromium-profile"))
        yield context
        context.close()


def new_page(browser, width):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": 1000 if width > 500 else 844})
    return page


def open_page(browser, url, width):
    page = new_page(browser, width)
    page.goto(url, wait_until="load", timeout=60_000)
    page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
    return page


def no_error_shown(page) -> None:
    toasts = page.locator('[data-testid="toast-body"], .toast-body')
    assert toasts.count() == 0, toasts.all_inner_texts()
    body = page.locator("body").inner_text()
    for raw in ("not in the list of choices", "Traceback", "Error", "upstream app"):
        assert raw not in body, raw


def test_dataset_switch_and_run_while_the_model_is_busy(app, browser):
    from gradio_client.utils import Status
    url, service, client = app
    page = open_page(browser, url, 1400)
    shot(page, "explain_1400_before")
    page.evaluate(WATCH)
    lock = service.student("ml1m").explainer.backend.lock
    lock.acquire()   # another visitor's explanation holds the model...
    try:
        other = client.submit("ml1m", "", "", None, "", 8, api_name="/explain")
        deadline = time.time() + 60
        while other.status().code not in (Status.PROCESSING, Status.ITERATING):
            assert time.time() < deadline, other.status()
            time.sleep(0.05)
        # ... while this visitor switches to Fashion and back (each switch queues a warm-up)
        page.get_by_label("Amazon Fashion").check()
        page.locator("#rr-authors .rr-authors").wait_for(timeout=30_000)
        page.get_by_label("MovieLens-1M").check()
        page.locator("#rr-authors").get_by_text("did not release").wait_for(timeout=30_000)
        page.locator("#rr-run").click()     # and presses Run behind them
        page.locator("#rr-status").get_by_text("Waiting for the model").wait_for(timeout=30_000)
        time.sleep(HELD_S)                  # the model stays busy this long after the click
        # one status line, with the queue position, while Run waits
        page.locator("#rr-status").get_by_text(re.compile(r"queue: \d+/\d+")).wait_for(timeout=10_000)
        shot(page, "explain_1400_waiting")
    finally:
        lock.release()
    page.locator("#rr-status").get_by_text("Done").wait_for(timeout=300_000)
    assert other.result()["done"]
    no_error_shown(page)
    # the answer is for the dataset on the page, and the timing line counts from the click
    assert page.locator("#rr-authors").get_by_text("did not release").is_visible()
    line = page.locator("#rr-student .rr-prediction").inner_text()
    first_token = float(re.search(r"first token ([\d.]+) s after it", line).group(1))
    waited = float(re.search(r"([\d.]+) s of it waiting for the model", line).group(1))
    seen = page.evaluate("(window.rr.firstText - window.rr.click) / 1000")
    # consistency, not speed: the model was busy HELD_S after the click, so the first token
    # came later than that; the server saw the click after the browser and the token before
    # the browser drew it, so its figure is within the browser's own measure
    assert HELD_S <= waited <= first_token <= seen + 0.02, (waited, first_token, seen)
    # one status line shows the wait; the panels themselves never carry a progress overlay
    rr = page.evaluate("window.rr")
    assert rr["busyTeacher"] == 0 and rr["busyStudent"] == 0, rr
    text = page.locator("#rr-explanation .rr-explanation").inner_text().strip()
    assert re.search(r"([.!?][\"')\]]*|…)$", text), text     # a full sentence or a marked cut
    shot(page, "explain_1400_after")
    page.close()


def test_narrow_screen_shows_the_answer_above_the_history_editor(app, browser):
    url, service, _ = app
    page = open_page(browser, url, 390)
    page.get_by_label("Amazon Fashion").check()
    page.locator("#rr-authors .rr-authors").wait_for(timeout=30_000)
    page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
    # Fashion items are told apart: id (and brand/price where known) under each title
    user = service.pool.users["fashion"][0]
    first_id = user.sample.history[0].item_id
    assert page.locator("#rr-history .rr-item-details").first.inner_text().startswith(f"id {first_id}")
    shot(page, "explain_390_before")
    page.locator("#rr-run").click()
    page.locator("#rr-status").get_by_text("Done").wait_for(timeout=300_000)
    top = lambda sel: page.locator(sel).bounding_box()["y"]   # noqa: E731
    assert top("#rr-run") < top("#rr-student") < top("#rr-history") < top("#rr-teacher")
    # nothing sticks out sideways, and a dropdown's text ends before its arrow
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for dropdown in ("#rr-user", "#rr-candidate"):
        gap = page.evaluate(f"""() => {{
            const input = document.querySelector('{dropdown} input');
            const arrow = document.querySelector('{dropdown} .icon-wrap, {dropdown} svg');
            const pad = parseFloat(getComputedStyle(input).paddingRight);
            return arrow.getBoundingClientRect().left - (input.getBoundingClientRect().right - pad);
        }}""")
        assert gap >= 0, (dropdown, gap)
    evidence = page.locator("#rr-evidence").inner_text()
    assert "users who purchased it" in evidence
    assert not re.search(r"\d+%(?! of)", evidence)      # every share says how many it rests on
    no_error_shown(page)
    shot(page, "explain_390_after")
    page.close()


BROKEN_WORDS = """() => {
  // every word in the Results tables renders on one line (a Range over a word that wraps
  // inside itself has more than one client rect)
  const broken = [];
  for (const cell of document.querySelectorAll('#rr-results th, #rr-results td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[^\\s\\-\u2013\u2014\\/]+/g)) {   // a hyphen may break
        const range = document.createRange();
        range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("width", [1400, 390])
def test_rate_and_results_tabs_read_whole(app, browser, width):
    url, _, _ = app
    page = new_page(browser, width)
    page.goto(url, wait_until="load", timeout=60_000)
    page.get_by_role("tab", name="Rate").click()
    page.locator("#rr-rater").get_by_text("Rating anonymously").wait_for(timeout=60_000)
    page.locator("#rr-rate-next").click()
    page.locator("#rr-rate-text-a .rr-side").wait_for(timeout=60_000)
    shot(page, f"rate_{width}")
    page.get_by_role("tab", name="Results").click()
    page.locator("#rr-results table").first.wait_for(timeout=120_000)
    page.locator("#rr-results-plot img").wait_for(timeout=60_000)
    assert page.evaluate(BROKEN_WORDS) == []
    # the plot is shown whole: not squeezed or cropped, every part reachable (on a phone by
    # scrolling it sideways, at its readable size)
    fit = page.evaluate("""() => {
        const img = document.querySelector('#rr-results-plot img');
        const r = img.getBoundingClientRect(), frame = img.parentElement;
        return {ratio: r.width / r.height, natural: img.naturalWidth / img.naturalHeight,
                width: r.width, reach: frame.scrollWidth, frame: frame.clientWidth,
                scrolls: getComputedStyle(frame).overflowX};
    }""")
    assert abs(fit["ratio"] - fit["natural"]) < 0.02 * fit["natural"], fit
    assert fit["reach"] >= fit["width"] - 1, fit
    assert fit["width"] <= fit["frame"] + 1 or fit["scrolls"] in ("auto", "scroll"), fit
    if width < 500:
        assert fit["width"] >= 600, fit          # readable, not shrunk to the phone's width
    no_error_shown(page)
    shot(page, f"results_{width}")
    page.close()


def test_an_explanation_the_loop_stop_ended_says_so_under_it(browser):
    """With the card's own length cap (256 tokens), a Fashion pool user's explanation that the
    loop stop ends carries a muted "Ended here: ..." line under it; the first Fashion user's,
    which ends by itself, none. Screenshot: fashion_1400_loop_stopped."""
    from reasoningrec.ui import build_app
    from reasoningrec.ui.run import LOOP_STOPPED_NOTE
    from reasoningrec.ui.service import AppService
    service = AppService.start()
    users = service.pool.users["fashion"]
    stopped = loop_stopped_user(service.pool, True)
    assert users[0].user_id != stopped
    demo = build_app(service)
    try:
        page = open_page(browser, launch_local(demo), 1400)
        page.get_by_label("Amazon Fashion").check()
        page.locator("#rr-authors .rr-authors").wait_for(timeout=30_000)
        page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
        for uid in (users[0].user_id, stopped):
            if uid != users[0].user_id:     # pick the user, wait for its own prompt
                page.evaluate(CLEAR_STATUS)
                page.locator("#rr-user input").click()
                page.locator("#rr-user input").fill(f"user {uid} ·")
                page.get_by_role("option").filter(has_text=f"user {uid} ·").first.click()
                page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
            page.evaluate(CLEAR_STATUS)
            page.locator("#rr-run").click()
            page.locator("#rr-status").get_by_text("Done").wait_for(timeout=180_000)
            ended = page.locator("#rr-explanation .rr-ended")
            if uid == stopped:
                assert ended.inner_text() == LOOP_STOPPED_NOTE
            else:
                assert ended.count() == 0
        no_error_shown(page)
        shot(page, "fashion_1400_loop_stopped")
        page.close()
    finally:
        demo.close()
