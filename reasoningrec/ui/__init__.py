"""The Gradio app, assembled from one module per tab (no model logic here):

    from reasoningrec.ui import build_app
    from reasoningrec.ui.service import AppService
    demo = build_app(AppService.start())
    demo.queue(default_concurrency_limit=1, max_size=16).launch()

Tabs: explain.py (the product), rate.py and results.py (placeholders: ratings have their own
issue); api.py adds the named endpoints /predict and /explain.
"""
from __future__ import annotations

import gradio as gr

from .api import api_endpoints
from .explain import explain_tab
from .rate import rate_tab
from .results import results_tab
from .service import AppService

INTRO = ("# ReasoningRec\nWill this user like this item? A small **student** LLM predicts and "
         "explains; a large **teacher**'s rationale is shown beside it. Pick a user from the demo "
         "pool (real MovieLens-1M and Amazon Fashion users), or edit their profile, history and "
         "candidate, then press **Run**. [Paper](https://arxiv.org/abs/2410.23180)")
QUEUE_SIZE = 16


def build_app(service: AppService) -> gr.Blocks:
    with gr.Blocks(title="ReasoningRec", analytics_enabled=False) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs():
            explain_tab(demo, service)
            rate_tab()
            results_tab()
        api_endpoints(service)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    return demo
