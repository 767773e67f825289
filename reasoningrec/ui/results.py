"""The Results tab (placeholder): aggregated ratings (win rates with confidence intervals,
Bradley-Terry scores, agreement) will be shown here once the ratings issue lands.
"""
from __future__ import annotations

import gradio as gr


def results_tab() -> None:
    with gr.Tab("Results", id="results"):
        gr.Markdown("### Results\nComing with the ratings issue: summaries of the collected "
                    "ratings. There are no ratings yet.")
