"""ReasoningRec demo app: `python app.py`, then open http://localhost:7860.

    python app.py                         # each dataset's default student + assets/demo_pool, offline
    python app.py --model student-evidence    # one student for every dataset (here the hybrid)
    python app.py --model smollm2 --max-tokens 96
    python app.py --mcp                   # + MCP tools predict / explain / rank at /gradio_api/mcp/
    python app.py --backend transformers  # the ZeroGPU Space's path (transformers in @spaces.GPU)
    GRADIO_SERVER_NAME=0.0.0.0 GRADIO_SERVER_PORT=7860 CPU_CORES=2 python app.py

`reasoningrec app` takes the same flags (reasoningrec/commands/app.py holds them and the launch).
Environment: GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (where to listen), CPU_CORES (llama.cpp
threads), REASONINGREC_BACKEND (--backend's default), REASONINGREC_TEACHER (a model spec for a
live teacher on edited inputs), HF_TOKEN + REASONINGREC_RATINGS_REPO (push the ratings to a Hub
dataset; without both, the Hub is off: HF_HUB_OFFLINE=1), REASONINGREC_MAX_BODY_BYTES (request
body cap, 1 MiB; reasoningrec/ui/guard.py), the ratings' REASONINGREC_RATINGS_* and
REASONINGREC_TRUSTED_PROXY_HOPS (reasoningrec/ratings/config.py); a Space's space.json
(scripts/build_space.py) sets defaults. Analytics are off. The tabs live in reasoningrec/ui/;
this file only starts them.
"""
import time
from pathlib import Path

from reasoningrec.commands.app import app_parser, build_demo, prepare_env, serve

started = time.perf_counter()
args = app_parser().parse_args()
prepare_env(Path(__file__).with_name("space.json"))   # before gradio is imported
service, demo = build_demo(args)   # `demo`: the Blocks, at module level as in Gradio's demos

if __name__ == "__main__":
    serve(service, demo, args, started)
