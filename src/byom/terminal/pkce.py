"""Connect without copy-paste (R5.4): OpenRouter's OAuth PKCE flow from a terminal.

1. make a verifier (kept secret, in memory) and its S256 challenge;
2. listen once on a free loopback port, at a path with an unguessable token, so that no other
   page or local program can slip a code in;
3. open the browser at the provider's authorize page (or print the address when no browser
   opens);
4. receive ``?code=`` at the callback, answer with a small "you can close this tab" page, stop
   listening;
5. exchange code + verifier for a key at the provider, through the origin-locked transport.

The callback server binds 127.0.0.1 only, serves one path, logs nothing, and closes as soon as a
code arrived (or on timeout / Ctrl-C). The key never appears on screen.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from byom.core.errors import BadResponse, RequestTimeout
from byom.core.secret import Secret
from byom.providers.openrouter import OpenRouterAdapter, pkce_pair

Opener = Callable[[str], bool]


class PkceTimeout(RequestTimeout):
    default_message = "No answer came from the browser in time."


def open_browser(url: str) -> bool:
    """The default opener: the system browser (``$BROWSER`` is honoured by :mod:`webbrowser`).
    Returns False when none could be started — the caller shows the address instead."""
    try:
        return bool(webbrowser.open(url, new=1, autoraise=True))
    except Exception:
        return False


class CallbackServer:
    """A one-shot loopback HTTP server that waits for ``?code=`` at a secret path."""

    def __init__(self, *, page_title: str, page_ok: str, page_error: str) -> None:
        self._path = "/byom/" + secrets.token_urlsafe(18)
        self._done = threading.Event()
        self._code: str | None = None
        self._pages = (page_title, page_ok, page_error)
        self._server = HTTPServer(("127.0.0.1", 0), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        port = int(self._server.server_address[1])
        return f"http://127.0.0.1:{port}{self._path}"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "byom"
            sys_version = ""

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != owner._path or owner._done.is_set():
                    self._page(404, owner._pages[2])
                    return
                codes = parse_qs(parts.query).get("code") or []
                code = codes[0] if codes else ""
                if not code or len(code) > 512:
                    self._page(400, owner._pages[2])
                    return
                owner._code = code
                self._page(200, owner._pages[1])
                owner._done.set()

            def _page(self, status: int, text: str) -> None:
                title = html.escape(owner._pages[0])
                body = (
                    '<!doctype html><html><head><meta charset="utf-8">'
                    f"<title>{title}</title></head><body><p>{html.escape(text)}</p></body></html>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # never log (the URL
                return  # carries the one-time code)

        return Handler

    def start(self) -> CallbackServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="byom-pkce-callback",
            daemon=True,
        )
        self._thread.start()
        return self

    def wait(self, timeout: float) -> str | None:
        """The code, or None on timeout. Waits in short slices so Ctrl-C stays responsive."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(0.1):
            if time.monotonic() >= deadline:
                return None
        return self._code

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def exchange(
    adapter: OpenRouterAdapter,
    code: str,
    verifier: Secret,
    *,
    transport_factory: Callable[[str], Any] | None = None,
) -> Secret:
    """Trade the one-time code and the verifier for a key (``POST /auth/keys``)."""
    from byom.transport import SendFailed

    transport = _transport(adapter.origin, transport_factory)
    try:
        response = transport.send(adapter.exchange_request(code, verifier))
    except SendFailed as failure:
        raise failure.error from None
    finally:
        transport.close()
    return adapter.parse_exchange(response.status, response.headers, response.body)


def _transport(origin: str, factory: Callable[[str], Any] | None) -> Any:
    if factory is not None:
        return factory(origin)
    from byom.transport.httpx_transport import HttpxTransport

    return HttpxTransport(origin, timeout=30.0)


def browser_key(
    adapter: OpenRouterAdapter,
    *,
    opener: Opener,
    show_url: Callable[[str], None],
    page_title: str,
    page_ok: str,
    page_error: str,
    timeout: float = 300.0,
    transport_factory: Callable[[str], Any] | None = None,
) -> Secret:
    """Run the whole PKCE flow and return the key. ``show_url`` is called with the authorize
    address before the browser is opened (so it is on screen if none opens).

    Raises :class:`PkceTimeout`, a provider error from the exchange, or ``KeyboardInterrupt``.
    """
    verifier, challenge = pkce_pair()
    with CallbackServer(page_title=page_title, page_ok=page_ok, page_error=page_error) as server:
        url = adapter.authorize_url(server.url, challenge)
        show_url(url)
        opener(url)
        code = server.wait(timeout)
    if code is None:
        raise PkceTimeout()
    key = exchange(adapter, code, verifier, transport_factory=transport_factory)
    if not key:
        raise BadResponse()
    return key


__all__ = ["CallbackServer", "PkceTimeout", "browser_key", "exchange", "open_browser"]
