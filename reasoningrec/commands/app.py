"""`reasoningrec app`: start the Gradio demo app; `python app.py` runs the same code and flags.

    reasoningrec app                            # each dataset's default student, assets/demo_pool
    reasoningrec app --model student-evidence --max-tokens 96
    reasoningrec app --mcp --no-warm            # + MCP tools at /gradio_api/mcp/
    reasoningrec app --backend transformers     # the ZeroGPU Space's path
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860 reasoningrec app

The flags live here (add_app_args); app.py parses them, builds the Blocks (build_demo) at
module level and serves them (serve). prepare_env runs before gradio, torch or the Hub client
is imported: analytics off, a Space's space.json settings (the environment wins), and
HF_HUB_OFFLINE=1 unless HF_TOKEN and REASONINGREC_RATINGS_REPO let the ratings sync.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from ..config import BACKENDS, PROJECT_ROOT
from ..demo_pool import POOL_DIR
from . import positive_int


def add_app_args(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--model", default=None,
                        help="one student for every dataset: a shipped short name (student, "
                             "student-evidence) or any LLM spec; default: each dataset's "
                             "default student (scoring.registry.default_student), else the "
                             "base SmolLM2")
    parser.add_argument("--pool", default=str(POOL_DIR), help="demo pool folder")
    parser.add_argument("--max-tokens", type=positive_int, default=None,
                        help="explanation length cap in tokens, for every student (default: "
                             "each student's own, student.json \"decode\", else 160)")
    parser.add_argument("--backend", choices=BACKENDS, default=None,
                        help="what runs the students: llamacpp, or transformers inside "
                             "@spaces.GPU (the ZeroGPU path; on a CPU the decorator does "
                             "nothing); auto (default, or REASONINGREC_BACKEND): transformers "
                             "on a ZeroGPU Space, else llamacpp")
    parser.add_argument("--mcp", action="store_true",
                        help="also serve /predict, /explain and /rank as MCP tools over "
                             "Streamable HTTP at /gradio_api/mcp/ (needs the mcp package; "
                             "GRADIO_MCP_SERVER=true too)")
    parser.add_argument("--no-warm", action="store_true",
                        help="do not cache the first user's prompt in the background at startup")
    return parser


def app_parser() -> argparse.ArgumentParser:
    """app.py's parser: the same flags as `reasoningrec app`."""
    return add_app_args(argparse.ArgumentParser(description="Start the ReasoningRec Gradio app."))


def register(sub) -> None:
    p = sub.add_parser("app", help="start the Gradio demo app (the same as `python app.py`)",
                       description="Start the ReasoningRec Gradio app.")
    add_app_args(p)
    p.set_defaults(func=run)


def prepare_env(settings: Path = PROJECT_ROOT / "space.json") -> None:
    """Environment defaults, before gradio and huggingface_hub are imported."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if settings.is_file():   # a Space's non-secret settings (scripts/build_space.py)
        for key, value in json.loads(settings.read_text(encoding="utf-8")).get("env", {}).items():
            os.environ.setdefault(key, str(value))
    if not (os.environ.get("HF_TOKEN") and os.environ.get("REASONINGREC_RATINGS_REPO")):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")   # nothing to reach; with ratings sync: online


def build_demo(args):
    """(service, Blocks) for parsed app flags; the models load here."""
    import logging
    from .. import zerogpu  # noqa: F401  (imports `spaces` before torch, as ZeroGPU needs)
    from ..ui import build_app
    from ..ui.service import AppService
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("reasoningrec").setLevel(logging.INFO)   # sync state, warm-up, ...
    backend = args.backend or os.environ.get("REASONINGREC_BACKEND", "auto")
    service = AppService.start(args.pool, args.model, args.max_tokens, backend)
    return service, build_app(service)


def serve(service, demo, args, started: float) -> None:
    """Launch the Blocks, warm the first user's prompt and block until stopped; `started`: the
    time.perf_counter() before build_demo, for the ready line."""
    import threading
    import time
    from ..ui.mcp import restrict_tools
    if not args.no_warm:  # the first visitor's first Run then streams at once
        threading.Thread(target=service.warm_default, name="warm", daemon=True).start()
    demo.launch(prevent_thread_lock=True, mcp_server=True if args.mcp else None)
    if demo.mcp_server_obj is not None:
        print(f"MCP tools {', '.join(restrict_tools(demo))} at {demo.local_url}gradio_api/mcp/",
              flush=True)
    print(f"ReasoningRec ready in {time.perf_counter() - started:.1f} s "
          f"(student: {service.student_name}; backend: {service.backend})", flush=True)
    demo.block_thread()


def run(args) -> None:
    import time
    started = time.perf_counter()
    prepare_env()
    service, demo = build_demo(args)
    serve(service, demo, args, started)
