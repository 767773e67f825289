# Hugging Face Docker Space (CPU): the GGUF student served by llama.cpp behind Gradio.
#   podman build -t reasoningrec . && podman run --rm -p 7860:7860 reasoningrec
FROM debian:bookworm-slim

RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3 python3-venv python3-pip python3-dev build-essential cmake git ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# Spaces run the container as uid 1000.
RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/app/.venv/bin:$PATH \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860 \
    GRADIO_ANALYTICS_ENABLED=False \
    HF_HUB_OFFLINE=1
WORKDIR /home/user/app

# Dependencies first, so code edits do not rebuild llama.cpp.
COPY --chown=user requirements.txt requirements-dev.txt pyproject.toml README.md ./
COPY --chown=user scripts ./scripts
COPY --chown=user reasoningrec ./reasoningrec
COPY --chown=user training ./training
RUN bash scripts/setup.sh && rm -rf /home/user/.cache/pip

COPY --chown=user . .
EXPOSE 7860
CMD ["python", "app.py"]
