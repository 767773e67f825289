"""The app in a real browser: Debian's headless Chromium driven by Playwright opens the page,
runs an explanation for a pool user beside Mixtral's rationale, tries HTML in the profile,
edits a history, shows a Fashion user's third view (the paper's 7B student), and saves
screenshots to reports/ (app_explain.png, app_html_profile.png, app_edited.png,
app_fashion_1400.png, app_fashion_390.png) for a person to look at.

    .venv/bin/python -m pytest tests/test_app_browser.py -q      # needs /usr/bin/chromium
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import chromium, launch_local

REPORTS = Path(__file__).resolve().parent.parent / "reports"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def app_url():
    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    demo = build_app(AppService.start(max_new_tokens=32))
    try:
        yield launch_local(demo)
    finally:
        demo.close()


@pytest.fixture(scope="module")
def page(app_url, tmp_path_factory):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = chromium(p, tmp_path_factory.mktemp("chromium-profile"), 1500, 1100)
        pg = browser.new_page()
        pg.dialogs = []
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
        pg.goto(app_url, wait_until="load", timeout=60_000)
        yield pg
        browser.close()


def run_and_wait(page) -> None:
    # drop the last run's messages first, so that waiting for "Done" waits for this run
    page.evaluate("document.querySelectorAll('#rr-status .rr-msg').forEach(e => e.remove())")
    page.locator("#rr-run").click()
    page.locator("#rr-status").get_by_text("Done").wait_for(timeout=180_000)


def test_explain_a_pool_user_in_the_browser(page):
    profile = page.locator("#rr-profile textarea")
    profile.wait_for(timeout=60_000)
    page.wait_for_function("document.querySelector('#rr-profile textarea').value.length > 0",
                           timeout=60_000)
    page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
    assert page.locator("#rr-history tr").count() >= 2           # the history table is shown
    run_and_wait(page)
    assert page.locator("#rr-student .rr-prediction").get_by_text("Prediction:").is_visible()
    p_yes = float(page.locator("#rr-student .rr-pyes").inner_text())
    assert 0 <= p_yes <= 1
    assert page.locator("#rr-student").get_by_text("first token").is_visible()
    assert page.locator("#rr-explanation .rr-explanation").inner_text().strip()
    from reasoningrec.demo_pool import DemoPool
    teacher = DemoPool.load().users["ml1m"][0].candidates[0].teacher   # the page's first user
    panel = page.locator("#rr-teacher .rr-teacher")               # Mixtral's stored rationale
    assert panel.get_by_text("Mixtral-8x7B-Instruct, the paper's teacher, told the true answer, "
                             "without a user profile").is_visible()
    assert teacher.text.split("\n")[0][:80] in panel.inner_text()
    assert page.locator("#rr-authors").get_by_text("did not release").is_visible()   # ML-1M
    assert page.locator("#rr-legend").get_by_text("the probability our student gives").is_visible()
    assert page.locator("#rr-agree .rr-agree-yes, #rr-agree .rr-agree-no").count() == 1
    evidence = page.locator("#rr-evidence #rr-evidence-table")  # beside the explanation
    assert evidence.get_by_text("users who watched it", exact=True).is_visible()
    assert evidence.get_by_text("matrix-factorisation P(like)").is_visible()
    REPORTS.mkdir(exist_ok=True)
    page.screenshot(path=str(REPORTS / "app_explain.png"), full_page=True)


def test_html_in_the_profile_is_shown_as_text(page):
    page.locator("#rr-profile textarea").fill('<script>alert("x")</script><b>bold</b> likes noir')
    run_and_wait(page)
    assert page.locator("#rr-status").get_by_text("treated as plain text").is_visible()
    assert page.locator("#rr-teacher").get_by_text("You edited the profile or history").is_visible()
    assert page.dialogs == []                                     # no script ran
    assert page.locator("#rr-status b").count() == 0
    page.screenshot(path=str(REPORTS / "app_html_profile.png"), full_page=True)


def choose(page, dropdown_id: str, text: str) -> None:
    """Pick the first option of a Gradio dropdown whose label contains `text`."""
    page.locator(f"#{dropdown_id} input").click()
    page.locator(f"#{dropdown_id} input").fill(text)
    page.get_by_role("option").filter(has_text=text).first.click()


def test_edit_the_history_then_run(page):
    count = "document.querySelector('#rr-history table.rr-history').tBodies[0].rows.length"
    rows = lambda: page.evaluate(count)  # noqa: E731
    page.locator("#rr-history table.rr-history").wait_for(timeout=60_000)
    before = rows()
    choose(page, "rr-pick", "1.")
    page.locator("#rr-remove").click()
    page.wait_for_function(f"{count} == {before - 1}")
    choose(page, "rr-pick", "1.")
    first_row = page.locator("#rr-history table.rr-history tbody tr").first
    first_rating = first_row.locator("td").nth(2).inner_text()
    page.locator("#rr-toggle").click()
    flipped = "Disliked" if first_rating == "Liked" else "Liked"
    first_row.get_by_text(flipped, exact=True).wait_for()
    from reasoningrec.demo_pool import DemoPool
    pool = DemoPool.load()
    user = pool.users["ml1m"][0]                              # the page's first user
    shown = {h.item_id for h in user.sample.history}
    new = next(i.id for i in pool.catalogue("ml1m") if i.id not in shown)
    choose(page, "rr-add-item", f"[{new}]")                   # options end with "[item id]"
    page.evaluate("document.querySelectorAll('#rr-status .rr-msg').forEach(e => e.remove())")
    page.locator("#rr-add").click()
    page.wait_for_function(f"{count} == {before}")
    # the edited prompt is read again at once, so Run reuses all of it
    page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
    run_and_wait(page)
    reused = re.search(r"(\d+)/(\d+) prompt tokens reused",
                       page.locator("#rr-student .rr-prediction").inner_text())
    assert reused and reused.group(1) == reused.group(2), reused
    assert page.locator("#rr-teacher").get_by_text("You edited the profile or history").is_visible()
    assert page.locator("#rr-student .rr-prediction").is_visible()
    # the edited history keeps the item's figures and drops the user's (not recomputable here)
    page.locator("#rr-evidence").get_by_text("not recomputed").wait_for(timeout=30_000)
    assert page.locator("#rr-evidence").get_by_text("users who watched it", exact=True).is_visible()
    assert page.locator("#rr-evidence").get_by_text("matrix-factorisation").count() == 0
    page.screenshot(path=str(REPORTS / "app_edited.png"), full_page=True)


def test_a_fashion_user_shows_the_papers_student(page):
    from reasoningrec.demo_pool import DemoPool
    user = DemoPool.load().users["fashion"][0]
    target = user.candidates[0]
    page.get_by_label("Amazon Fashion").check()
    panel = page.locator("#rr-authors .rr-authors")
    panel.wait_for(timeout=60_000)
    assert panel.get_by_text("Llama-2-7B-chat + LoRA, the paper's student (K=256, lr 1e-4)").is_visible()
    assert float(panel.locator(".rr-pyes").inner_text()) == round(target.texts["authors"].p_yes, 3)
    assert target.texts["authors"].text.split(". ")[0][:60] in panel.inner_text()
    teacher = page.locator("#rr-teacher .rr-teacher")
    assert teacher.get_by_text("Mixtral-8x7B-Instruct, the paper's teacher, told the true answer",
                               exact=True).is_visible()                     # with a profile
    page.locator("#rr-status").get_by_text("Prompt ready").wait_for(timeout=180_000)
    run_and_wait(page)
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.screenshot(path=str(REPORTS / "app_fashion_1400.png"), full_page=True)
    choose(page, "rr-candidate", f"[{user.candidates[1].item_id}]")   # another candidate
    page.locator("#rr-authors").get_by_text("only for each user's test target").wait_for(timeout=30_000)
    assert page.locator("#rr-teacher").get_by_text("only for each user's test target").is_visible()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(REPORTS / "app_fashion_390.png"), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1100})
