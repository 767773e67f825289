"""The Gradio app, assembled from one module per tab (no model logic here):

    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    demo = build_app(AppService.start())
    demo.queue(default_concurrency_limit=1, max_size=16).launch()

Tabs: explain.py (the product; its "Top 10 for this user" section is top10.py), rate.py
(blind ratings) and results.py (their statistics); api.py adds the named endpoints /predict,
/explain, /rank, /rate_item and /vote; guard.py caps request bodies, turns uploads off and
answers refusals with 4xx (GuardedBlocks.launch installs it).
The ratings store and its Hub sync open from the environment (reasoningrec/ratings/config.py,
hubsync.py) unless a RatingDesk is passed; on a Space without sync a banner says the ratings
are local.
"""
from __future__ import annotations

import logging
import os

import gradio as gr

from ..demo_pool import LABELS
from ..ratings import RatingDesk
from ..ratings.hubsync import LOCAL_ONLY, HubSync
from .api import api_endpoints, rating_endpoints
from .explain import explain_tab
from .guard import GuardedBlocks
from .layout import page_style
from .rate import rate_tab, rater_state
from .results import results_tab
from .service import AppService


def intro(service: AppService) -> str:
    """The page's first lines: what each column is, true for the pool and students served."""
    served = len({s.title for s in service.students.values()})
    ours = "one per dataset" if served > 1 else "one model"
    authors = [LABELS.get(n, n) for n, systems in service.pool.systems.items() if "authors" in systems]
    paper_student = (f", and ({' and '.join(authors)}) the released output of **the paper's own "
                     "Llama-2-7B student**" if authors else "")
    return ("# ReasoningRec\nWill this user like this item? **Our student** "
            f"({ours}, named in its column with its teacher) answers and explains why, live on "
            "this machine. Beside it, "
            "for each user's real test item: the rationale of **Mixtral-8x7B-Instruct, the "
            f"paper's teacher, told the true answer**{paper_student}. Pick a user from the "
            "demo pool (real MovieLens-1M and Amazon Fashion test users) or edit their profile, "
            "history and candidate, then press **Run**, or let our student rank a **top 10** "
            "for the user and explain the one you pick; the **Rate** tab compares the systems' "
            "explanations blind. [Paper](https://arxiv.org/abs/2410.23180)")


QUEUE_SIZE = 16
log = logging.getLogger(__name__)


def open_ratings(service: AppService) -> tuple[RatingDesk, HubSync]:
    """The ratings desk from the environment and its Hub sync: with HF_TOKEN +
    REASONINGREC_RATINGS_REPO the dataset's votes are merged in and new ones pushed, retried in
    the background while the Hub is unreachable (ratings/hubsync.py)."""
    desk = RatingDesk.from_service(service)
    return desk, HubSync(desk.store, desk.settings).start()


def local_banner(sync: HubSync | None) -> str:
    """On a Space (SPACE_ID is set) whose votes are not pushed to a dataset: say so on top."""
    if not os.environ.get("SPACE_ID") or (sync is not None and sync.status()["state"] != "off"):
        return ""
    return (f"**⚠ On this Space {LOCAL_ONLY}**: the owner has not set the `HF_TOKEN` secret "
            "and the `REASONINGREC_RATINGS_REPO` variable (see the README's *Hosting*).")


def build_app(service: AppService, ratings: RatingDesk | None = None,
              sync: HubSync | None = None) -> gr.Blocks:
    if ratings is None:
        ratings, sync = open_ratings(service)
    desk = ratings
    with GuardedBlocks(title="ReasoningRec", analytics_enabled=False) as demo:
        page_style()
        gr.Markdown(intro(service), elem_id="rr-intro")
        if banner := local_banner(sync):
            gr.Markdown(banner, elem_id="rr-local-banner")
        browser_id = rater_state(desk)
        with gr.Tabs():
            explain_tab(demo, service)
            rate_tab(demo, desk, browser_id)
            results_tab(demo, desk, sync)
        api_endpoints(service)
        rating_endpoints(desk)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    return demo
