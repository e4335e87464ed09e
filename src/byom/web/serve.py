"""A small static server for a built site: loopback only, ``_headers`` applied as HTTP headers.

Used by ``byom demo`` and the browser tests. It serves files below one directory and nothing
else: no listings, no paths outside the root, no ``_headers`` file itself. Requests are not
logged (a URL may carry an OAuth code).
"""

from __future__ import annotations

import hashlib
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from byom.web.headers import Rule, headers_for, parse_headers

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _deny(self, status: HTTPStatus) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        self.send_response(status)
        for name, value in headers_for(self.server.rules, "/").items():
            self.send_header(name, value)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        root = self.server.root
        target = (root / path.lstrip("/")).resolve()
        if (
            root not in target.parents
            or not target.is_file()
            or target.name == "_headers"
            or any(part.startswith(".") for part in target.relative_to(root).parts)
        ):
            self._deny(HTTPStatus.NOT_FOUND)
            return
        body, etag = self.server.read(target)
        headers = headers_for(self.server.rules, path)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(HTTPStatus.NOT_MODIFIED)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.server.count(path, len(body))
        self.send_response(HTTPStatus.OK)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header(
            "Content-Type", CONTENT_TYPES.get(target.suffix, "application/octet-stream")
        )
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        headers_file = self.root / "_headers"
        self.rules: list[Rule] = (
            parse_headers(headers_file.read_text("utf-8")) if headers_file.is_file() else []
        )
        self._cache: dict[Path, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.served: dict[str, int] = {}
        super().__init__((host, port), _Handler)

    def read(self, path: Path) -> tuple[bytes, str]:
        with self._lock:
            hit = self._cache.get(path)
        if hit is None:
            body = path.read_bytes()
            hit = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
            with self._lock:
                self._cache[path] = hit
        return hit

    def count(self, path: str, size: int) -> None:
        with self._lock:
            self.served[path] = self.served.get(path, 0) + 1

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


class Site:
    """A running :class:`SiteServer` in a daemon thread (a context manager)."""

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = SiteServer(root, host, port)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> Site:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
