""""Top 10 for this user" on the Explain tab, in Debian's headless Chromium (issue #18, point 4):
the visitor ranks, sees progress while the student ranks, gets ten items best first (the
held-out test item marked), picks one, and its explanation streams into the Explain view with
the P(Yes) it was ranked by. A screenshot goes to reports/screens/ (or $REASONINGREC_SCREENS).

    nice -n 19 .venv/bin/python -m pytest tests/test_app_top10_browser.py -q   # needs chromium
"""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from browser import chromium, launch_local
from test_app_visitor_browser import no_error_shown, open_page, shot

from reasoningrec.demo_pool import DemoPool
from reasoningrec.scoring.pool_rank import CANDIDATES

# what the page showed while it ran: progress texts on the Top 10 block, explanation updates
WATCH = """() => {
  window.rr = {progress: new Set(), streamed: new Set()};
  new MutationObserver(() => {
    const block = document.querySelector('#rr-top10-status')?.closest('.block');
    const text = block ? block.innerText : '';
    const m = text.match(/\\d+\\s*\\/\\s*\\d+/);
    if (m) window.rr.progress.add(m[0].replace(/\\s/g, ''));
    const box = document.querySelector('#rr-explanation .rr-explanation');
    if (box && box.innerText.includes('▍')) window.rr.streamed.add(box.innerText);
  }).observe(document.body,
             {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def test_bad_input_gets_a_message_and_no_list():
    """No model runs before the input is checked (an empty history, a page gone stale)."""
    from reasoningrec.ui.top10 import Top10Events
    from reasoningrec.ui.views import ExplainViews
    service = SimpleNamespace(pool=DemoPool.load())
    events = Top10Events(service, ExplainViews(service))
    user = service.pool.users["ml1m"][0]
    draft = {"dataset": "ml1m", "user_id": user.user_id, "history": []}
    status, listing = events.rank("ml1m", user.user_id, draft, None, "")
    assert "Cannot rank: The history is empty" in status and listing["visible"] is False
    status, listing = events.rank("fashion", user.user_id, draft, None, "")
    assert "press the button again" in status and listing["visible"] is False


@pytest.fixture(scope="module")
def app():
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    service = AppService.start(max_new_tokens=32)
    demo = build_app(service)
    url = launch_local(demo)
    try:
        yield url, service
    finally:
        demo.close()
        for student in service.students.values():   # a run in flight ends before llama.cpp is freed
            with student.explainer.backend.lock:
                pass


@pytest.mark.browser
@pytest.mark.slow
def test_rank_top_10_pick_one_and_its_explanation_streams(app, tmp_path):
    from playwright.sync_api import sync_playwright
    url, service = app
    user = service.pool.users["ml1m"][0]
    target = service.pool.datasets["ml1m"].item(user.sample.target).title
    with sync_playwright() as p:
        context = chromium(p, tmp_path / "profile")
        page = open_page(context, url, 1400)
        page.evaluate(WATCH)
        page.locator("#rr-top10-run").click()
        page.locator("#rr-top10-status").get_by_text(
            f"ranked {CANDIDATES} candidates").wait_for(timeout=600_000)
        status = page.locator("#rr-top10-status").inner_text()
        assert "this user's 3 pool candidates" in status and f"{CANDIDATES - 3} other" in status
        # progress was shown while it ranked, counting the candidates up to all of them
        seen = page.evaluate("[...window.rr.progress]")
        assert any(re.fullmatch(rf"\d+/{CANDIDATES}", s) for s in seen), seen
        options = page.locator("#rr-top10-list label")
        assert options.count() == 10
        labels = options.all_inner_texts()
        scores = [float(re.search(r"P\(Yes\) ([\d.]+)", t).group(1)) for t in labels]
        assert scores == sorted(scores, reverse=True), labels
        marked = [t for t in labels if "held-out test item" in t]
        assert len(marked) <= 1 and all(target in t for t in marked), labels
        # pick an item that is not the held-out one: it becomes the candidate and streams
        n = next(i for i, t in enumerate(labels) if "held-out" not in t)
        title = re.match(r"\d+\. (.*) · P\(Yes\)", labels[n]).group(1)
        options.nth(n).click()
        page.locator("#rr-status").get_by_text("Done").wait_for(timeout=300_000)
        assert title in page.locator("#rr-candidate input").input_value()
        shown = float(page.locator("#rr-student .rr-pyes").inner_text())
        assert shown == pytest.approx(scores[n], abs=0.002)      # the P(Yes) it was ranked by
        text = page.locator("#rr-explanation .rr-explanation").inner_text().strip()
        assert text and len(page.evaluate("[...window.rr.streamed]")) >= 2, text
        # not the test item: the stored teacher text is not shown, and the panel says why
        assert "exists only for each user's test target" in page.locator("#rr-teacher").inner_text()
        no_error_shown(page)
        shot(page, "explain_1400_top10")
        context.close()
