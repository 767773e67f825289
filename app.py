"""ReasoningRec demo app: `python app.py`, then open http://localhost:7860.

    python app.py                         # each dataset's default student + assets/demo_pool, offline
    python app.py --model student-evidence    # one student for every dataset (here the hybrid)
    python app.py --model smollm2 --max-tokens 96
    python app.py --mcp                   # + MCP tools predict / explain / rank at /gradio_api/mcp/
    python app.py --backend transformers  # the ZeroGPU Space's path (transformers in @spaces.GPU)
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860 CPU_CORES=2 python app.py

Environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (where to listen), CPU_CORES (llama.cpp
threads), REASONINGREC_TEACHER (a model spec for a live teacher on edited inputs), HF_TOKEN +
REASONINGREC_RATINGS_REPO (push the ratings to a Hub dataset; without both, the Hub is off:
HF_HUB_OFFLINE=1), REASONINGREC_MAX_BODY_BYTES (request body cap, 1 MiB; reasoningrec/ui/guard.py),
the ratings' REASONINGREC_RATINGS_* and REASONINGREC_TRUSTED_PROXY_HOPS
(reasoningrec/ratings/config.py). Analytics are off. The tabs live in reasoningrec/ui/; this file
only starts them.
"""
import argparse
import json
import logging
import os
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported
SPACE_SETTINGS = Path(__file__).with_name("space.json")   # written by scripts/build_space.py
if SPACE_SETTINGS.is_file():   # the Space's non-secret settings; the environment wins
    for key, value in json.loads(SPACE_SETTINGS.read_text(encoding="utf-8")).get("env", {}).items():
        os.environ.setdefault(key, str(value))
if not (os.environ.get("HF_TOKEN") and os.environ.get("REASONINGREC_RATINGS_REPO")):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")   # nothing to reach; with ratings sync: online

from reasoningrec.zerogpu import BACKENDS  # noqa: E402  (imports `spaces` before torch)
from reasoningrec.demo_pool import POOL_DIR  # noqa: E402
from reasoningrec.ui import build_app  # noqa: E402
from reasoningrec.ui.mcp import restrict_tools  # noqa: E402
from reasoningrec.ui.service import AppService  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Start the ReasoningRec Gradio app.")
    ap.add_argument("--model", default=None,
                    help="one student for every dataset: a shipped short name (student, "
                         "student-evidence) or any LLM spec; default: each dataset's default "
                         "student (scorers.default_student), else the base SmolLM2")
    ap.add_argument("--pool", default=str(POOL_DIR), help="demo pool folder")
    ap.add_argument("--max-tokens", type=int, default=160, help="explanation length cap (tokens)")
    ap.add_argument("--backend", choices=BACKENDS,
                    default=os.environ.get("REASONINGREC_BACKEND", "auto"),
                    help="what runs the students: llamacpp, or transformers inside @spaces.GPU "
                         "(the ZeroGPU path; on a CPU the decorator does nothing); auto "
                         "(default, or REASONINGREC_BACKEND): transformers on a ZeroGPU Space, "
                         "else llamacpp")
    ap.add_argument("--mcp", action="store_true",
                    help="also serve /predict, /explain and /rank as MCP tools over Streamable HTTP "
                         "at /gradio_api/mcp/ (needs the mcp package; GRADIO_MCP_SERVER=true too)")
    ap.add_argument("--no-warm", action="store_true",
                    help="do not cache the first user's prompt in the background at startup")
    args = ap.parse_args(argv)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("reasoningrec").setLevel(logging.INFO)   # sync state, warm-up, ...
    start = time.perf_counter()
    service = AppService.start(args.pool, args.model, args.max_tokens, args.backend)
    demo = build_app(service)
    if not args.no_warm:  # the first visitor's first Run then streams at once
        threading.Thread(target=service.warm_default, name="warm", daemon=True).start()
    demo.launch(prevent_thread_lock=True, mcp_server=True if args.mcp else None)
    if demo.mcp_server_obj is not None:
        print(f"MCP tools {', '.join(restrict_tools(demo))} at {demo.local_url}gradio_api/mcp/",
              flush=True)
    print(f"ReasoningRec ready in {time.perf_counter() - start:.1f} s "
          f"(student: {service.student_name}; backend: {service.backend})", flush=True)
    demo.block_thread()


if __name__ == "__main__":
    main()
