"""The Rate tab (placeholder): people will rate student vs teacher explanations here.

Ratings have their own issue (storage in SQLite, sync to a dataset, statistics); this module
only reserves the tab so the app's layout does not change when they land.
"""
from __future__ import annotations

import gradio as gr


def rate_tab() -> None:
    with gr.Tab("Rate", id="rate"):
        gr.Markdown("### Rate explanations\nComing with the ratings issue: blind side-by-side "
                    "ratings of student and teacher explanations. Nothing is stored yet.")
