"""A small static server for a built site: loopback only, ``_headers`` applied as HTTP headers.

Used by ``byom demo``, the browser tests and ``byom audit DIR`` (which audits what would be
deployed). It serves files below one directory and nothing else: no listings, no paths outside the
root, no dot-files, never ``_headers`` or ``_redirects`` (hosts read them, they don't serve them).
``/x/`` serves ``/x/index.html``; ``/x`` also tries ``/x.html`` and ``/x/index.html`` (clean URLs);
a miss gets the site's ``404.html`` if it has one. Files carry an ETag (a matching
``If-None-Match`` gets a 304). Requests are not logged (a URL may carry an OAuth code).

The headers are :func:`byom.web.headers.headers_for` the request path. Hosts differ when several
matching rules set the same header: Cloudflare Pages sends every value (comma-joined; for
``Content-Security-Policy`` that is every policy, all enforced), Netlify's dev server keeps the
last. ``repeated="all"`` is the first — the audit's choice, so no policy a host may send goes
unchecked; ``repeated="last"`` (the default) the second. ``byom web build`` writes rules that
never set one header twice for a path, so both give the same answer for its sites.
"""

from __future__ import annotations

import hashlib
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from byom.web.headers import Rule, headers_for, parse_headers

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".zip": "application/zip",
    ".whl": "application/zip",
    ".tar": "application/x-tar",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".toml": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
#: Files a static host reads as its configuration and never serves.
HIDDEN_NAMES = frozenset({"_headers", "_redirects"})

Repeated = Literal["all", "last"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: SiteServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path) or "/"
        headers = self.server.headers(path)
        target = self.server.resolve(path)
        if target is None:
            page = self.server.file("/404.html")
            if page is None:
                body, kind = b"404 Not Found\n", "text/plain; charset=utf-8"
            else:
                body, kind = self.server.read(page)[0], CONTENT_TYPES[".html"]
            self._send(HTTPStatus.NOT_FOUND, [*headers, ("Content-Type", kind)], body, head)
            return
        body, etag = self.server.read(target)
        if self.headers.get("If-None-Match") == etag:
            self._send(HTTPStatus.NOT_MODIFIED, [*headers, ("ETag", etag)], None, head)
            return
        self.server.count("/" + target.relative_to(self.server.root).as_posix(), len(body))
        kind = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        self._send(HTTPStatus.OK, [*headers, ("Content-Type", kind), ("ETag", etag)], body, head)

    def _send(
        self,
        status: HTTPStatus,
        headers: list[tuple[str, str]],
        body: bytes | None,
        head: bool,
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body is not None and not head:
            self.wfile.write(body)


class SiteServer(ThreadingHTTPServer):
    """Serves ``root`` with its ``_headers``; ``served`` counts the 200s per site path."""

    daemon_threads = True

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        repeated: Repeated = "last",
    ) -> None:
        self.root = root.resolve()
        headers_file = self.root / "_headers"
        self.rules: list[Rule] = (
            parse_headers(headers_file.read_text("utf-8")) if headers_file.is_file() else []
        )
        self.repeated = repeated
        self._cache: dict[Path, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self.served: dict[str, int] = {}
        super().__init__((host, port), _Handler)

    def headers(self, path: str) -> list[tuple[str, str]]:
        """The ``_headers`` headers for request ``path``, ``repeated`` ones as configured."""
        found = headers_for(self.rules, path)
        return list(dict(found).items()) if self.repeated == "last" else found

    def file(self, path: str) -> Path | None:
        """The file at site path ``path``, or ``None`` if there is none that may be served."""
        try:
            target = (self.root / path.lstrip("/")).resolve()
            parts = target.relative_to(self.root).parts  # ValueError: outside the root
            if not target.is_file():
                return None
        except (OSError, ValueError):  # also a NUL byte or an over-long name
            return None
        if target.name in HIDDEN_NAMES or any(part.startswith(".") for part in parts):
            return None
        return target

    def resolve(self, path: str) -> Path | None:
        """The file a request for ``path`` gets (``index.html`` for a folder, clean URLs)."""
        if path.endswith("/"):
            return self.file(path + "index.html")
        for candidate in (path, path + ".html", path + "/index.html"):
            if (target := self.file(candidate)) is not None:
                return target
        return None

    def read(self, path: Path) -> tuple[bytes, str]:
        """The file's bytes and ETag (read once, then kept)."""
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
        return f"http://{host!s}:{port}/"


class Site:
    """A running :class:`SiteServer` in a daemon thread (a context manager)."""

    def __init__(
        self,
        root: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        repeated: Repeated = "last",
    ) -> None:
        self.server = SiteServer(root, host, port, repeated=repeated)
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def root(self) -> Path:
        return self.server.root

    @property
    def url(self) -> str:
        """The site's root URL, ``http://127.0.0.1:PORT/``."""
        return self.server.url

    @property
    def base_url(self) -> str:
        """:attr:`url` without its final ``/``, to append a path to."""
        return self.server.url.removesuffix("/")

    def start(self) -> Site:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() would wait forever on a server never started
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
