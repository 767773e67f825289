"""What stands between the internet and the app: request bodies capped before they are read,
uploads off (the app has no file input), and refusals answered with a 4xx status.

    from reasoningrec.ui.guard import GuardedBlocks, refusal
    with GuardedBlocks(title="ReasoningRec") as demo: ...     # launch() installs the guard
    raise refusal(exc)       # a PayloadError / VoteRejected as gr.Error, answered with exc.status

GuardMiddleware (pure ASGI, so nothing is buffered before it decides):
- POST to Gradio's upload routes (/gradio_api/upload, /gradio_api/process_recording): 403;
- a body over REASONINGREC_MAX_BODY_BYTES (default 1 MiB): 413, from Content-Length before a
  byte is read, or as soon as a chunked body passes the cap; memory per request stays bounded;
- a gr.Error raised by refusal() on /gradio_api/run|api/<name> (Gradio answers 500 for every
  error there): its status (400 bad input, 409 already voted, 422 too quick, 429 rate
  limits), with Gradio's JSON body unchanged ({"error": message, ...}).
"""
from __future__ import annotations

import json
import os
import re

import gradio as gr
from starlette.middleware import Middleware

DEFAULT_MAX_BODY = 1 << 20
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
API_PATH = re.compile(r"^/gradio_api/(run|api)/")
REFUSED = re.compile(r"^Refused \((\d{3})\)$")


def max_body_bytes() -> int:
    raw = os.environ.get("REASONINGREC_MAX_BODY_BYTES", "")
    try:
        value = int(raw) if raw else DEFAULT_MAX_BODY
    except ValueError:
        raise ValueError(f"REASONINGREC_MAX_BODY_BYTES must be a whole number, got {raw!r}") from None
    if value < 1024:
        raise ValueError(f"REASONINGREC_MAX_BODY_BYTES must be at least 1024, got {raw!r}")
    return value


def refusal(exc: Exception) -> gr.Error:
    """A refusal for the API: the message as is, the HTTP status in the title."""
    return gr.Error(str(exc), title=f"Refused ({getattr(exc, 'status', 400)})",
                    print_exception=False)


async def _answer(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    def __init__(self, app, max_body: int | None = None):
        self.app, self.max_body = app, max_body or max_body_bytes()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "GET")
        if method == "POST" and path.rstrip("/") in UPLOAD_PATHS:
            return await _answer(send, 403, "Uploads are off: this app has no file input.")
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        too_big = f"The request body is over {self.max_body:,} bytes: refused unread."
        if length is not None:
            if not length.isdigit() or int(length) > self.max_body:
                return await _answer(send, 413, too_big)
        elif method in ("POST", "PUT", "PATCH"):       # chunked: read up to the cap, then replay
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                size += len(message.get("body", b""))
                if size > self.max_body:
                    return await _answer(send, 413, too_big)
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
            receive = _replay(b"".join(chunks), receive)
        if method == "POST" and API_PATH.match(path):
            send = _status_from_title(send)
        return await self.app(scope, receive, send)


def _replay(body: bytes, receive):
    """The body read ahead, then the real channel (which reports the client's disconnect)."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()
    return replay


def _status_from_title(send):
    """Holds back a 500 answer until its body shows whether it is a refusal."""
    held = None

    async def wrapped(message):
        nonlocal held
        if message["type"] == "http.response.start" and message["status"] == 500:
            held = message
            return
        if held is not None and message["type"] == "http.response.body":
            start, held = held, None
            try:
                title = json.loads(message.get("body") or b"{}").get("title") or ""
                match = REFUSED.match(title)
            except (ValueError, AttributeError):
                match = None
            if match:
                start = {**start, "status": int(match.group(1))}
            await send(start)
        await send(message)
    return wrapped


class GuardedBlocks(gr.Blocks):
    """gr.Blocks whose launch() installs GuardMiddleware and caps Gradio's own file size."""

    def launch(self, *args, **kwargs):
        app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
        app_kwargs["middleware"] = [*app_kwargs.get("middleware", []), Middleware(GuardMiddleware)]
        kwargs.setdefault("max_file_size", max_body_bytes())
        return super().launch(*args, app_kwargs=app_kwargs, **kwargs)
