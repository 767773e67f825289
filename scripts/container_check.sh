#!/usr/bin/env bash
# Build the Space image (Dockerfile) with podman, start it, and ask it for an explanation on
# port 7860. Prints build time, image size, startup time and the answer. Needs root (apt-get,
# podman); follows the recipe in ../shared/NOTES-containers.md (no Docker engine, no registry:
# the debian:bookworm-slim base is made with debootstrap from the apt mirror).
#
#   bash scripts/container_check.sh            # reuse the llama-cpp-python wheel built by setup.sh
#   NO_WHEEL=1 bash scripts/container_check.sh # compile llama-cpp-python in the image, as a Space does
#   KEEP=1 bash scripts/container_check.sh     # keep /tmp/ctr (base image, layers) for a rerun
set -euo pipefail
cd "$(dirname "$0")/.."
W=${CTR_DIR:-/tmp/ctr}
IMAGE=localhost/reasoningrec:check
NAME=reasoningrec-check
WHEELS=${REASONINGREC_WHEELS:-${XDG_CACHE_HOME:-$HOME/.cache}/reasoningrec/wheels}
PY=${PYTHON:-.venv/bin/python}
log() { printf '\n[container] %s\n' "$*"; }

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
  log "installing podman, debootstrap, runc"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman debootstrap \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends runc
fi
mkdir -p "$W/tmp"
cat > "$W/storage.conf" <<EOC
[storage]
driver = "overlay"
runroot = "$W/runroot"
graphroot = "$W/storage"
EOC
cat > "$W/containers.conf" <<'EOC'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOC
export CONTAINERS_STORAGE_CONF=$W/storage.conf CONTAINERS_CONF=$W/containers.conf TMPDIR=$W/tmp

if ! podman image exists docker.io/library/debian:bookworm-slim; then
  log "making the debian:bookworm-slim base with debootstrap"
  MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  [[ -f $W/base.tar ]] || {
    debootstrap --variant=minbase bookworm "$W/rootfs" "$MIRROR" >/dev/null
    rm -rf "$W"/rootfs/var/cache/apt/archives/*.deb "$W"/rootfs/var/lib/apt/lists/*
    tar --numeric-owner -C "$W/rootfs" -cf "$W/base.tar" .
  }
  podman import "$W/base.tar" localhost/debian-base:bookworm >/dev/null
  podman tag localhost/debian-base:bookworm docker.io/library/debian:bookworm-slim
fi

FIND_LINKS=""
SERVER_PID=""
cleanup() {
  podman rm -f "$NAME" >/dev/null 2>&1 || true
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -n ${KEEP:-} ]] || rm -rf "$W"
}
trap cleanup EXIT
if [[ -z ${NO_WHEEL:-} ]] && ls "$WHEELS"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  python3 -m http.server 8765 --bind 127.0.0.1 --directory "$WHEELS" >/dev/null 2>&1 &
  SERVER_PID=$!
  FIND_LINKS=http://127.0.0.1:8765/
  log "offering the prebuilt llama-cpp-python wheel from $WHEELS"
fi

log "building $IMAGE"
start=$(date +%s)
# the host's CA bundle goes in too: pip must trust a TLS-inspecting proxy the host trusts
podman build --network host --build-arg PIP_FIND_LINKS="$FIND_LINKS" \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/host-ca.crt:ro --build-arg PIP_CERT=/etc/host-ca.crt \
  -t "$IMAGE" . 2>&1 | tail -n 5
[[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "podman build failed"; exit 1; }
build_s=$(( $(date +%s) - start ))
size_mb=$(( $(podman image inspect "$IMAGE" --format '{{.Size}}') / 1000000 ))

log "starting the container on port 7860"
podman rm -f "$NAME" >/dev/null 2>&1 || true
start=$(date +%s.%N)
podman run -d --network host --name "$NAME" -e CPU_CORES="${CPU_CORES:-2}" "$IMAGE" >/dev/null
for _ in $(seq 1 240); do
  curl -sf http://127.0.0.1:7860/gradio_api/info >/dev/null && break
  podman ps --filter "name=$NAME" --format '{{.Status}}' | grep -q Up || { podman logs "$NAME"; exit 1; }
  sleep 0.25
done
startup_s=$(python3 -c "import time; print(round(time.time() - $start, 1))")
podman exec "$NAME" id -u | grep -qx 1000 || { echo "the container does not run as uid 1000"; exit 1; }

log "asking /explain"
"$PY" - <<'EOP'
from gradio_client import Client
c = Client("http://127.0.0.1:7860", verbose=False)
out = c.predict("ml1m", "", "", None, "", 48, api_name="/explain")
assert out["done"] and out["prediction"] in ("Yes", "No"), out
print(f"{out['sample_id']}: {out['prediction']} (P(Yes) {out['p_yes']:.3f}), "
      f"first token {out['stats'].get('ttft_s', 0):.2f} s: {out['explanation'][:160]!r}")
EOP
podman logs "$NAME" 2>&1 | tail -n 3
printf '\n[container] build %s s, image %s MB, answered on :7860 %s s after start\n' \
  "$build_s" "$size_mb" "$startup_s"
