"""The Gradio app, assembled from one module per tab (no model logic here):

    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    demo = build_app(AppService.start())
    demo.queue(default_concurrency_limit=1, max_size=16).launch()

Tabs: explain.py (the product), rate.py (blind ratings) and results.py (their statistics);
api.py adds the named endpoints /predict, /explain, /rate_item and /vote. The ratings store
opens from the environment (reasoningrec/ratings/config.py) unless a RatingDesk is passed.
"""
from __future__ import annotations

import logging

import gradio as gr

from ..demo_pool import LABELS
from ..ratings import RatingDesk
from .api import api_endpoints, rating_endpoints
from .explain import explain_tab
from .layout import page_style
from .rate import rate_tab
from .results import results_tab
from .service import AppService


def intro(service: AppService) -> str:
    """The page's first lines: what each column is, true for the pool and students served."""
    ours = sorted({s.title for s in service.students.values()})
    authors = [LABELS.get(n, n) for n, systems in service.pool.systems.items() if "authors" in systems]
    paper_student = (f", and ({' and '.join(authors)}) the released output of **the paper's own "
                     "Llama-2-7B student**" if authors else "")
    return ("# ReasoningRec\nWill this user like this item? **Our student** "
            f"({'; '.join(ours)}) answers and explains why, live on this machine. Beside it, "
            "for each user's real test item: the rationale of **Mixtral-8x7B-Instruct, the "
            f"paper's teacher, told the true answer**{paper_student}. Pick a user from the "
            "demo pool (real MovieLens-1M and Amazon Fashion test users) or edit their profile, "
            "history and candidate, then press **Run**; the **Rate** tab compares the systems' "
            "explanations blind. [Paper](https://arxiv.org/abs/2410.23180)")


QUEUE_SIZE = 16
log = logging.getLogger(__name__)


def open_ratings(service: AppService) -> RatingDesk:
    """The ratings desk from the environment; with HF_TOKEN + REASONINGREC_RATINGS_REPO an
    empty store is first restored from the dataset's shards and new votes are pushed."""
    from ..ratings.sync import start_sync
    desk = RatingDesk.from_service(service)
    try:
        start_sync(desk.store, desk.settings)
    except Exception:  # the Hub may be unreachable: rate locally rather than not at all
        log.exception("ratings sync to %s could not start", desk.settings.repo_id)
    return desk


def build_app(service: AppService, ratings: RatingDesk | None = None) -> gr.Blocks:
    desk = ratings or open_ratings(service)
    with gr.Blocks(title="ReasoningRec", analytics_enabled=False) as demo:
        page_style()
        gr.Markdown(intro(service), elem_id="rr-intro")
        with gr.Tabs():
            explain_tab(demo, service)
            rate_tab(demo, desk)
            results_tab(demo, desk)
        api_endpoints(service)
        rating_endpoints(desk)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    return demo
