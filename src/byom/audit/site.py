"""Serve a directory of static files on loopback the way a static host would.

``byom audit DIR`` audits what would be deployed, so the response headers come from the site's
own ``_headers`` file, in the format Netlify and Cloudflare Pages read::

    # a comment
    /*
      Content-Security-Policy: default-src 'self'
      X-Frame-Options: DENY
    /admin/*
      ! X-Frame-Options

A path line starts at column 0 (``*`` matches anything, ``:name`` one path segment; a full URL's
host is ignored); header lines are indented ``Name: value``; ``! Name`` removes a header set by an
earlier rule. Every matching rule applies, in file order; a header set twice is sent twice (two
``Content-Security-Policy`` headers are two policies, both enforced).

Only files below the root are served, never ``_headers``/``_redirects`` or dot-files. ``/x/``
serves ``/x/index.html``; ``/x`` also tries ``/x.html`` and ``/x/index.html`` (clean URLs).
Requests are not logged.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

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
HIDDEN_NAMES = frozenset({"_headers", "_redirects"})


@dataclass(frozen=True, slots=True)
class HeaderRule:
    pattern: str
    regex: re.Pattern[str]
    set: tuple[tuple[str, str], ...]
    remove: tuple[str, ...]


def _compile(pattern: str) -> re.Pattern[str]:
    if "://" in pattern:
        pattern = "/" + pattern.split("://", 1)[1].partition("/")[2]
    out = []
    for piece in re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", pattern):
        if piece == "*":
            out.append(".*")
        elif piece.startswith(":") and len(piece) > 1:
            out.append("[^/]+")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out) + r"/?\Z")


def parse_headers_file(text: str) -> list[HeaderRule]:
    """Parse a ``_headers`` file; malformed lines are skipped, as the hosts do."""
    rules: list[HeaderRule] = []
    pattern: str | None = None
    sets: list[tuple[str, str]] = []
    removes: list[str] = []

    def flush() -> None:
        if pattern is not None:
            rules.append(HeaderRule(pattern, _compile(pattern), tuple(sets), tuple(removes)))

    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            flush()
            pattern, sets, removes = raw.strip(), [], []
            continue
        if pattern is None:
            continue
        line = raw.strip()
        if line.startswith("!"):
            removes.append(line[1:].strip().lower())
        elif ":" in line:
            name, _, value = line.partition(":")
            sets.append((name.strip(), value.strip()))
    flush()
    return rules


def headers_for_path(rules: list[HeaderRule], path: str) -> list[tuple[str, str]]:
    """The headers every matching rule gives ``path``, in file order."""
    out: list[tuple[str, str]] = []
    for rule in rules:
        if not rule.regex.match(path):
            continue
        for name in rule.remove:
            out = [(n, v) for n, v in out if n.lower() != name]
        out.extend(rule.set)
    return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StaticSite

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _resolve(self, path: str) -> Path | None:
        root = self.server.root
        candidates = [path + "index.html"] if path.endswith("/") else [path]
        if not path.endswith("/"):
            candidates += [path + ".html", path + "/index.html"]
        for candidate in candidates:
            target = (root / candidate.lstrip("/")).resolve()
            if target != root and root not in target.parents:
                continue
            rel = target.relative_to(root).parts
            if any(p.startswith(".") for p in rel) or target.name in HIDDEN_NAMES:
                continue
            if target.is_file():
                return target
        return None

    def _serve(self, *, head: bool) -> None:
        path = unquote(urlsplit(self.path).path) or "/"
        target = self._resolve(path)
        status = HTTPStatus.OK
        if target is None:
            status = HTTPStatus.NOT_FOUND
            fallback = self.server.root / "404.html"
            body = fallback.read_bytes() if fallback.is_file() else b"404 Not Found\n"
            ctype = "text/html; charset=utf-8" if fallback.is_file() else "text/plain"
        else:
            body = target.read_bytes()
            ctype = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        self.send_response(status)
        for name, value in headers_for_path(self.server.rules, path):
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)


class StaticSite(ThreadingHTTPServer):
    """A loopback server for ``root``; ``start()`` returns the base URL."""

    daemon_threads = True

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = root.resolve()
        headers_file = self.root / "_headers"
        text = headers_file.read_text(encoding="utf-8") if headers_file.is_file() else ""
        self.rules = parse_headers_file(text)
        self.has_headers_file = headers_file.is_file()
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
