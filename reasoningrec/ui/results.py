"""The Results tab: what the collected ratings say, computed from the store on demand.

    results_tab(demo, desk)      # inside gr.Blocks; `reasoningrec ratings report` prints the same

Vote counts, win rates with bootstrap intervals, Bradley-Terry scores (once more than two
systems were rated), Likert means with intervals per criterion and system, Krippendorff's
alpha per criterion, and a plot. Only blind votes of raters who passed their attention checks
count (ratings/stats.py); the counts say how many were left out. Votes per address (salted IP
hash) and signed-in vs anonymous votes show when a result leans on few machines. Every stored
value is escaped before it is shown (report.text). A line above them says where the votes are
kept and the state of their Hub sync (ratings/hubsync.py): connected, retrying (with the last
error) or off.
"""
from __future__ import annotations

from html import escape

import gradio as gr

from ..ratings.desk import RatingDesk
from ..ratings.hubsync import HubSync
from ..ratings.report import build_report, report_figure, report_markdown

N_BOOT = 1000   # bootstrap resamples for the page (the CLI defaults to 2,000)


def sync_line(desk: RatingDesk, sync: HubSync | None) -> str:
    """Where the votes are kept: the Hub sync's state, or this machine's folder."""
    where = "Votes are stored in this app's SQLite database"
    if sync is None:
        return where + "."
    return f"{where}. {escape(sync.describe())}"


def results_tab(demo: gr.Blocks, desk: RatingDesk | None, sync: HubSync | None = None) -> None:
    with gr.Tab("Results", id="results") as tab:
        gr.Markdown("### Results\nBlind ratings so far of three systems' explanations: Mixtral "
                    "(the paper's teacher, told the true answer), the paper's Llama-2-7B student "
                    "(Fashion) and our student, ranked by Bradley–Terry strength.")
        if desk is None:
            gr.Markdown("Ratings are switched off in this app.")
            return
        refresh = gr.Button("Refresh", size="sm", elem_id="rr-results-refresh")
        state = gr.Markdown(sync_line(desk, sync), elem_id="rr-sync-state")
        summary = gr.Markdown(elem_id="rr-results")
        plot = gr.Plot(show_label=False, elem_id="rr-results-plot")

    def update():
        rows = desk.store.votes()
        if not rows:
            return sync_line(desk, sync), "No ratings yet: cast the first one in the **Rate** tab.", None
        report = build_report(rows, n_boot=N_BOOT, ids_per_address=desk.settings.ids_per_address)
        try:
            figure = report_figure(report) if report["votes"]["counted"] else None
        except ImportError:  # the slim Space image may lack matplotlib: tables still work
            figure = None
        return sync_line(desk, sync), report_markdown(report), figure

    hidden = {"api_visibility": "undocumented", "concurrency_id": "results", "concurrency_limit": 1}
    refresh.click(update, None, [state, summary, plot], **hidden)
    tab.select(update, None, [state, summary, plot], **hidden)
