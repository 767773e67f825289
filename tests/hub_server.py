"""A small local stand-in for the Hugging Face Hub's HTTP API: enough of it for huggingface_hub
to create a dataset repo, download its files (snapshot_download) and commit small files
(create_commit, "regular" uploads), all kept in memory. A real HTTP server on localhost, so
huggingface_hub runs unchanged against it (HfApi(endpoint=...) / HF_ENDPOINT).

    hub = LocalHub().start()           # hub.endpoint == "http://127.0.0.1:<port>"
    hub.files["me/votes"] = {"shards/a.jsonl": b"..."}
    hub.commits                        # [(repo_id, {path: bytes}), ...] in order
    hub.stop()                         # the port is closed: the Hub is "down"
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse


class LocalHub:
    def __init__(self, port: int = 0):
        self.port = port
        self.files: dict[str, dict[str, bytes]] = {}
        self.commits: list[tuple[str, dict[str, bytes]]] = []
        self.requests: list[str] = []
        self._server = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sha(self, repo: str) -> str:
        digest = hashlib.sha1(repr(sorted(self.files.get(repo, {}).items())).encode())
        return digest.hexdigest()

    def start(self) -> "LocalHub":
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, body, status=200, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self):
                path = urlparse(self.path).path
                hub.requests.append(f"POST {path}")
                body = self._body()
                if path == "/api/repos/create":
                    req = json.loads(body)
                    repo = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                    hub.files.setdefault(repo, {})
                    return self._json({"url": f"{hub.endpoint}/datasets/{repo}", "name": repo})
                parts = path.split("/")     # /api/datasets/<owner>/<name>/<action>/<rev>
                repo, action = f"{parts[3]}/{parts[4]}", parts[5]
                if action == "preupload":
                    files = json.loads(body)["files"]
                    return self._json({"files": [{"path": f["path"], "uploadMode": "regular",
                                                  "shouldIgnore": False} for f in files]})
                if action == "commit":
                    added = {}
                    for line in body.decode().splitlines():
                        op = json.loads(line)
                        if op["key"] == "file":
                            added[op["value"]["path"]] = base64.b64decode(op["value"]["content"])
                    hub.files.setdefault(repo, {}).update(added)
                    hub.commits.append((repo, added))
                    sha = hub.sha(repo)
                    return self._json({"commitUrl": f"{hub.endpoint}/datasets/{repo}/commit/{sha}",
                                       "commitOid": sha, "pullRequestUrl": None})
                self._json({"error": "not found"}, 404)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                url = urlparse(self.path)
                path = unquote(url.path)
                hub.requests.append(f"{self.command} {path}")
                parts = path.split("/")
                if path.startswith("/api/datasets/") and parts[5] == "revision":
                    repo = f"{parts[3]}/{parts[4]}"
                    if repo not in hub.files:
                        return self._json({"error": "Repository not found"}, 404,
                                          {"X-Error-Code": "RepoNotFound"})
                    return self._json({"id": repo, "sha": hub.sha(repo), "private": True,
                                       "siblings": [{"rfilename": p} for p in hub.files[repo]]})
                if path.startswith("/api/datasets/") and parts[5] == "tree":
                    repo = f"{parts[3]}/{parts[4]}"
                    return self._json([{"type": "file", "path": p, "size": len(d),
                                        "oid": hashlib.sha1(d).hexdigest()}
                                       for p, d in sorted(hub.files.get(repo, {}).items())])
                if path.startswith("/datasets/") and parts[4] == "resolve":
                    repo, name = f"{parts[2]}/{parts[3]}", "/".join(parts[6:])
                    data = hub.files.get(repo, {}).get(name)
                    if data is None:
                        return self._json({"error": "Entry not found"}, 404,
                                          {"X-Error-Code": "EntryNotFound"})
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
                    self.send_header("X-Repo-Commit", hub.sha(repo))
                    self.end_headers()
                    if self.command == "GET":
                        self.wfile.write(data)
                    return
                self._json({"error": "not found"}, 404)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
