"""ReasoningRec demo app (stub until the app issue lands): `python app.py`."""
import gradio as gr

with gr.Blocks(title="ReasoningRec") as demo:
    gr.Markdown("# ReasoningRec\nThe explanation demo is being built; see README.md.")

if __name__ == "__main__":
    demo.launch()
