"""The page's own CSS and the legend of the Explain tab: how the app reads on a phone and what
its numbers mean. One <style> block rendered by `page_style()` inside gr.Blocks, so every
launch (app.py, tests, a Space) gets it without passing css= to launch().

    with gr.Blocks() as demo:
        page_style()                    # before the tabs
        gr.Markdown(LEGEND)             # the Explain tab's "What the numbers mean"

Narrow screens (< NARROW px): the Explain tab's row becomes one column in the order inputs,
our student's answer, history editor, the paper's texts (the left column dissolves with
`display: contents`, its two parts are ordered around the answer column).
"""
from __future__ import annotations

import gradio as gr

NARROW = 768
MIN_RATERS = 10   # below this many raters an evidence share is flagged as too few to mean much

CSS = f"""
@media (max-width: {NARROW - 1}px) {{
  #rr-main {{ flex-direction: column !important; flex-wrap: nowrap !important; }}
  #rr-main > #rr-left {{ display: contents !important; }}
  #rr-inputs {{ order: 0; }}
  #rr-student-col {{ order: 1; }}
  #rr-editor {{ order: 2; }}
  #rr-papers-col {{ order: 3; }}
  #rr-main > * {{ width: 100% !important; min-width: 0 !important; }}
}}
/* a dropdown's text never runs under its arrow */
#rr-user input, #rr-candidate input, #rr-pick input, #rr-add-item input {{
  padding-right: 28px !important; text-overflow: ellipsis;
}}
/* Results tab: tables scroll sideways rather than breaking words in the middle */
#rr-results table {{ display: block; overflow-x: auto; max-width: 100%; }}
#rr-results th, #rr-results td {{ word-break: normal !important; overflow-wrap: normal !important;
  hyphens: none !important; }}
#rr-results th {{ white-space: nowrap; }}
#rr-results-plot img {{ max-width: 100%; height: auto; }}
@media (max-width: {NARROW - 1}px) {{   /* a phone scrolls the plot sideways at a readable size */
  #rr-results-plot .matplotlib {{ overflow-x: auto !important; display: block !important; }}
  #rr-results-plot img {{ max-width: none !important; width: 900px !important; }}
}}
.rr-status-line {{ font-variant-numeric: tabular-nums; }}
"""

LEGEND = f"""<details class="rr-legend" open><summary><b>What the numbers mean</b></summary>

- **P(Yes)**: the probability our student gives to answering "Yes" (the user will like the
  item) rather than "No"; 0.5 or more is a Yes. The line under it says how long you waited,
  counted from your click on Run.
- **Evidence**: other users' ratings of the same item, from the training data only: how many
  rated it and the share who liked it, the same among the 20 users most similar to this one,
  and a matrix-factorisation model's P(like). A share from fewer than {MIN_RATERS} raters is
  marked *too few to mean much*.
- **Agreement with the teacher**: whether our student's Yes/No equals the answer Mixtral
  argues; for a pool user's test item that is the user's true answer.
</details>"""


def page_style() -> gr.HTML:
    """The app's CSS as a <style> element (rendered once, takes no room)."""
    return gr.HTML(f"<style>{CSS}</style>", elem_id="rr-style", padding=False, container=False)
