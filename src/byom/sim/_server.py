"""HTTP side of the simulator: a keep-alive ``ThreadingHTTPServer`` speaking five wire formats
(Gemini's in :mod:`byom.sim._gemini`).

Handlers are lean (one write per non-stream response, chunked transfer for streams) so benchmarks
can push thousands of requests through it. Nothing here logs: request bodies and keys never reach
a console or a log line (``log_message`` is silenced).
"""

from __future__ import annotations

import hashlib
import html
import re
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, quote, unquote, urlsplit

from byom.sim import _gemini as gemini
from byom.sim import _rules as rules
from byom.sim import _tools as tools
from byom.sim._state import (
    Generation,
    SimConfig,
    SimError,
    SimState,
    key_fingerprint,
    now_iso,
)

OPENROUTER: Final = "openrouter"
OPENAI: Final = "openai"
ANTHROPIC: Final = "anthropic"
OLLAMA: Final = "ollama"
GEMINI: Final = gemini.GEMINI

MAX_BODY: Final = 64 * 1024 * 1024

CORS_HEADERS: Final = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Expose-Headers", "X-Generation-Id, Retry-After"),
)
PREFLIGHT_HEADERS: Final = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
    (
        "Access-Control-Allow-Headers",
        "authorization, content-type, http-referer, x-title, x-openrouter-title, x-api-key, "
        "anthropic-version, anthropic-dangerous-direct-browser-access, x-goog-api-key",
    ),
    ("Access-Control-Max-Age", "600"),
)

# Generic messages per status: they never contain the prompt or the key.
STATUS_MESSAGES: Final[Mapping[int, str]] = {
    400: "Bad request",
    401: "User not found.",
    402: "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
    403: "Input flagged by moderation",
    404: "Not found",
    408: "Request timed out",
    413: "Request too large",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Provider returned error",
    503: "Service unavailable",
    529: "Overloaded",
}
OPENAI_ERROR_TYPES: Final[Mapping[int, tuple[str, str | None]]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    402: ("insufficient_quota", "insufficient_quota"),
    403: ("permission_error", "permission_denied"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", "timeout"),
    413: ("invalid_request_error", "request_too_large"),
    429: ("requests", "rate_limit_exceeded"),
    500: ("server_error", None),
    502: ("server_error", "bad_gateway"),
    503: ("server_error", "service_unavailable"),
    529: ("server_error", "overloaded"),
}
ANTHROPIC_ERROR_TYPES: Final[Mapping[int, str]] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
FINISH_ANTHROPIC: Final = {
    "stop": "end_turn", "length": "max_tokens", "error": "refusal", "tool_calls": "tool_use",
}  # fmt: skip
#: Ollama ends a tool-call turn with ``done_reason: "stop"`` (the calls are in the message).
FINISH_OLLAMA: Final = {"tool_calls": "stop"}
#: Wire style of tool fields, and the id prefix of tool calls, per format.
TOOL_STYLE: Final[Mapping[str, tools.Style]] = {
    "openrouter": "openai", "openai": "openai", "anthropic": "anthropic", "ollama": "ollama",
}  # fmt: skip
TOOL_ID_PREFIX: Final[Mapping[str, str | None]] = {
    "openrouter": "call", "openai": "call", "anthropic": "toolu", "ollama": None, "gemini": None,
}  # fmt: skip

_BASE_CATALOG: Final = {m.id: m for m in rules.OPENROUTER_MODELS}
_OPENAI_IDS: Final = frozenset(rules.OPENAI_MODELS) | {m[0] for m in rules.OLLAMA_MODELS}
_ANTHROPIC_IDS: Final = frozenset(m[0] for m in rules.ANTHROPIC_MODELS)
_OLLAMA_IDS: Final = frozenset(m[0] for m in rules.OLLAMA_MODELS)
_CHALLENGE_RE: Final = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_ENDPOINTS_RE: Final = re.compile(r"^/api/v1/models/(.+)/endpoints$")


class RequestError(Exception):
    """A request the simulator refuses: becomes an error body in the endpoint's format."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        metadata: Mapping[str, object] | None = None,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.metadata = dict(metadata or {})
        self.headers = tuple(headers)


def error_payload(
    fmt: str, status: int, message: str, metadata: Mapping[str, object] | None = None
) -> dict[str, object]:
    """The error body of ``status`` in the wire format ``fmt``."""
    if fmt == OPENAI:
        err_type, code = OPENAI_ERROR_TYPES.get(status, ("server_error", None))
        return {"error": {"message": message, "type": err_type, "param": None, "code": code}}
    if fmt == ANTHROPIC:
        return {
            "type": "error",
            "error": {"type": ANTHROPIC_ERROR_TYPES.get(status, "api_error"), "message": message},
        }
    if fmt == OLLAMA:
        return {"error": message}
    if fmt == GEMINI:
        return gemini.error_payload(status, message, metadata or {})
    return {"error": {"code": status, "message": message, "metadata": dict(metadata or {})}}


def status_fault_error(status: int, retry_after: int) -> RequestError:
    """The refusal a ``{"status": N}`` fault produces."""
    metadata: dict[str, object] = {}
    headers: list[tuple[str, str]] = []
    if status == 402:
        metadata["limit_source"] = "openrouter_credits"
    elif status == 403:
        metadata.update(
            {"reasons": ["sim"], "flagged_input": "(redacted by sim)", "provider_name": "Sim"}
        )
    elif status == 429:
        headers.append(("Retry-After", str(retry_after)))
    elif status in (502, 503):
        metadata["provider_name"] = "Sim"
    return RequestError(status, STATUS_MESSAGES[status], metadata=metadata, headers=headers)


@dataclass(slots=True)
class Chat:
    """A chat request, normalized across the four formats."""

    fmt: str
    model: str
    texts: list[str]
    max_tokens: int | None
    stream: bool
    include_usage: bool
    key_fp: str | None
    prompt_price: Decimal = Decimal(0)
    completion_price: Decimal = Decimal(0)
    #: Tokens for tools, tool calls, tool results and schemas (``rules.structure_tokens``).
    extra_tokens: int = 0
    #: The tools offered, the tool choice and any structured-output schema.
    request: tools.ToolRequest = tools.NO_TOOLS


@dataclass(slots=True)
class Plan:
    """What to answer: the reply text and every figure derived from it."""

    chat: Chat
    gen_id: str
    created: int
    text: str
    reasoning_only: bool
    prompt_tokens: int
    completion_tokens: int
    finish: str  # "stop" | "length" | "error" | "tool_calls"
    fault: str | None
    error_code: int
    serial: int = 0
    #: The tool calls of a tool-call turn (then ``text`` is ""); empty for a text answer.
    calls: tuple[tools.PlannedCall, ...] = ()
    #: Server-side web searches the reply reports (Anthropic ``usage.server_tool_use``).
    web_searches: int = 0

    def cost(self, completion_tokens: int | None = None) -> Decimal | None:
        if self.chat.fmt != OPENROUTER:
            return None
        done = self.completion_tokens if completion_tokens is None else completion_tokens
        return rules.cost(
            self.prompt_tokens, done, self.chat.prompt_price, self.chat.completion_price
        )


class SimServer(ThreadingHTTPServer):
    """The listening server; holds the shared ``SimState`` and the open connections."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], state: SimState) -> None:
        self.state = state
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SimHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet on dropped connections; other errors print frames only (never the message,
        which could quote a request)."""
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, OSError):
            return
        _report_bug(exc)

    def track(self, conn: socket.socket, alive: bool) -> None:
        with self._connections_lock:
            if alive:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        """Shut every open keep-alive connection (used by ``Simulator.stop``)."""
        with self._connections_lock:
            conns = list(self._connections)
            self._connections.clear()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


_P = TypeVar("_P")


class _Cut(Exception):
    """The client went away while a stream was being written."""


class SimHandler(BaseHTTPRequestHandler):
    """One connection; ``_dispatch`` routes every request."""

    protocol_version = "HTTP/1.1"
    server_version = "byom-sim"
    sys_version = ""
    server: SimServer
    _releases_at_arrival = 0  # state.releases() when the current request arrived

    # ------------------------------------------------------------------ plumbing

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        try:
            super().finish()
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the simulator never logs (requests may carry keys and prompts)."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_OPTIONS(self) -> None:
        path = urlsplit(self.path).path
        self._read_body()
        self.server.state.count(f"OPTIONS {path}")
        if self._origin_refused(path):
            self._respond(403, b"", content_type=None, cors=False)
            return
        self._respond(204, b"", content_type=None, headers=PREFLIGHT_HEADERS, cors=False)

    def _origin_refused(self, path: str) -> bool:
        """A page's request the real provider would refuse by its origin: Ollama answers only
        the origins in ``OLLAMA_ORIGINS`` (403, no CORS headers — the page's fetch fails)."""
        allowed = self.server.state.config.ollama_origins
        origin = self.headers.get("Origin")
        return (
            allowed is not None
            and origin is not None
            and _format_for(path.rstrip("/") or "/") == OLLAMA
            and origin not in allowed
        )

    def _browser_access_refused(self) -> bool:
        """Anthropic answers a call made from a web page (it carries ``Origin``) only when it
        opts in with ``anthropic-dangerous-direct-browser-access: true``; otherwise a 401 without
        ``Access-Control-Allow-Origin``, so the page's fetch fails. Source: ``curl -H "Origin:
        …"`` against api.anthropic.com, recorded in open-pencil/open-pencil issue #436."""
        return (
            self.headers.get("anthropic-version") is not None
            and self.headers.get("Origin") is not None
            and self.headers.get("anthropic-dangerous-direct-browser-access", "").lower() != "true"
        )

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise RequestError(413, "Request too large")
                parts.append(self.rfile.read(size))
                self.rfile.readline(16)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise RequestError(413, "Request too large")
        return self.rfile.read(length) if length > 0 else b""

    def _respond(
        self,
        status: int,
        body: bytes,
        *,
        content_type: str | None = "application/json",
        headers: Sequence[tuple[str, str]] = (),
        cors: bool = True,
    ) -> None:
        head = [f"HTTP/1.1 {status} {_reason(status)}\r\nServer: byom-sim\r\n"]
        if content_type is not None:
            head.append(f"Content-Type: {content_type}\r\n")
        head.append(f"Content-Length: {len(body)}\r\n")
        if cors:
            head.extend(f"{k}: {v}\r\n" for k, v in CORS_HEADERS)
        head.extend(f"{k}: {v}\r\n" for k, v in headers)
        if self.close_connection:
            head.append("Connection: close\r\n")
        head.append("\r\n")
        self.wfile.write("".join(head).encode("latin-1") + body)

    def _json(self, status: int, payload: object, headers: Sequence[tuple[str, str]] = ()) -> None:
        self._respond(status, rules.dumpb(payload), headers=headers)

    def _error(self, fmt: str, err: RequestError) -> None:
        payload = error_payload(fmt, err.status, err.message, err.metadata)
        self._json(err.status, payload, err.headers)

    def _start_stream(self, content_type: str, headers: Sequence[tuple[str, str]] = ()) -> None:
        head = [
            "HTTP/1.1 200 OK\r\nServer: byom-sim\r\n",
            f"Content-Type: {content_type}\r\n",
            "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n",
        ]
        head.extend(f"{k}: {v}\r\n" for k, v in CORS_HEADERS)
        head.extend(f"{k}: {v}\r\n" for k, v in headers)
        head.append("\r\n")
        self._write("".join(head).encode("latin-1"))

    def _write(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
        except OSError as exc:
            self.close_connection = True
            raise _Cut from exc

    def _chunk(self, data: bytes) -> None:
        if data:
            self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _end_stream(self) -> None:
        self._write(b"0\r\n\r\n")

    def _wait_for_hangup(self, seconds: float | None) -> bool:
        """Wait up to ``seconds`` (``None``: for ever) for the client to hang up; True if it did.

        A ``Simulator.release()`` since the request arrived ends the wait (False), and so does
        ``Simulator.stop`` (which shuts the socket: True). Bytes the client sends meanwhile (a
        pipelined request) are left unread; only the timeout or a release ends the wait then.
        """
        state = self.server.state
        releases = self._releases_at_arrival
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            left = 0.05 if deadline is None else min(0.05, deadline - time.monotonic())
            if left <= 0 or state.releases() != releases:
                return False
            try:
                readable, _, _ = select.select([self.connection], [], [], left)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return True
            except (OSError, ValueError):  # reset by the peer, or already closed
                return True
            if readable:  # data, not a hang-up: let the time pass without spinning
                time.sleep(left)

    def _cut_connection(self) -> None:
        """Drop the connection abruptly (no terminating chunk, no more bytes)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # ------------------------------------------------------------------ routing

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.rstrip("/") or "/"
        state = self.server.state
        control = path.startswith("/_sim/")
        if not control:
            # Seen together with the count, so a release() after the count shows this request
            # ends its wait even if the wait has not begun yet.
            self._releases_at_arrival = state.releases()
            state.count(path)
        fmt = _format_for(path)
        try:
            body = self._read_body()
            if control:
                self._control(method, path, body, parse_qs(split.query))
                return
            if self._origin_refused(path):
                self._respond(403, b"", content_type=None, cors=False)
                return
            if self._browser_access_refused():
                message = (
                    "CORS requests must set 'anthropic-dangerous-direct-browser-access' header"
                )
                error = {"type": "authentication_error", "message": message}
                payload = {"type": "error", "error": error}
                self._respond(401, rules.dumpb(payload), cors=False)
                return
            query = parse_qs(split.query)
            route = _ROUTES.get((method, path))
            if route is not None:
                route(self, body, query)
                return
            match = _ENDPOINTS_RE.match(path)
            if method == "GET" and match is not None:
                self._openrouter_endpoints(unquote(match.group(1)))
                return
            if fmt == GEMINI and gemini.route(self, method, path, body, query):
                return
            raise RequestError(404, "Not found")
        except RequestError as err:
            self._error(fmt, err)
        except _Cut:
            pass
        except SimError as err:
            self._json(400, {"error": {"code": 400, "message": str(err)}})
        except OSError:
            self.close_connection = True
        except Exception as exc:  # a simulator bug: answer 500, report without the message
            _report_bug(exc)
            self.close_connection = True
            try:
                self._error(fmt, RequestError(500, "Internal server error"))
            except OSError:
                pass

    # ------------------------------------------------------------------ control

    def _control(self, method: str, path: str, body: bytes, query: Mapping[str, list[str]]) -> None:
        state = self.server.state
        key = (method, path)
        if key == ("GET", "/_sim/requests"):
            self._json(200, state.counts())
        elif key == ("POST", "/_sim/reset"):
            state.reset()
            self._json(200, {"ok": True})
        elif key == ("GET", "/_sim/faults"):
            self._json(200, {"faults": state.faults()})
        elif key == ("POST", "/_sim/faults"):
            data = _parse_control(body)
            faults = data.get("faults")
            if not isinstance(faults, list):
                raise SimError('expected {"faults": [...]}')
            pending = state.push_faults(faults)
            self._json(200, {"queued": pending, "faults": state.faults()})
        elif key == ("GET", "/_sim/config"):
            self._json(200, state.config.as_json())
        elif key == ("POST", "/_sim/config"):
            self._json(200, state.configure(_parse_control(body)).as_json())
        elif key == ("GET", "/_sim/generations"):
            since = (query.get("since") or ["0"])[0]
            if not since.isdigit():
                raise SimError("since: expected a mark (a non-negative integer)")
            self._json(200, [g.as_json() for g in state.generations(int(since))])
        elif key == ("GET", "/_sim/mark"):
            self._json(200, {"mark": state.mark()})
        elif key == ("POST", "/_sim/release"):
            state.release()
            self._json(200, {"ok": True})
        elif key == ("POST", "/_sim/keys/revoke"):
            revoked = _parse_control(body).get("key")
            if not isinstance(revoked, str) or not revoked:
                raise SimError('expected {"key": "..."}')
            state.revoke(revoked)
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": {"code": 404, "message": "Not found"}})

    # ------------------------------------------------------------------ auth

    def _bearer(self) -> str | None:
        header = self.headers.get("Authorization")
        if header is None:
            return None
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return ""
        return token.strip()

    def _require_key(self, fmt: str) -> str:
        """The request's key fingerprint; raises 401 for a missing, bad or revoked key."""
        if fmt == ANTHROPIC:
            key = self.headers.get("x-api-key")
            if key is None:
                key = self._bearer()
        else:
            key = self._bearer()
        if key is None or key == "":
            if fmt == OPENAI:
                raise RequestError(401, "You didn't provide an API key.")
            if fmt == ANTHROPIC:
                raise RequestError(401, "x-api-key header is required")
            raise RequestError(401, "No auth credentials found")
        if not self.server.state.key_valid(key):
            if fmt == OPENAI:
                raise RequestError(401, "Incorrect API key provided.")
            if fmt == ANTHROPIC:
                raise RequestError(401, "invalid x-api-key")
            raise RequestError(401, "User not found.")
        return key_fingerprint(key)

    def _optional_key(self, fmt: str) -> None:
        """Listing endpoints need no key, but a bad one that is sent is refused."""
        has = self.headers.get("Authorization") is not None
        if fmt == ANTHROPIC:
            has = has or self.headers.get("x-api-key") is not None
        if has:
            self._require_key(fmt)

    # ------------------------------------------------------------------ OpenRouter misc

    def _openrouter_models(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._json(200, {"data": [m.entry() for m in _catalog(self.server.state.config).values()]})

    def _openrouter_endpoints(self, model_id: str) -> None:
        config = self.server.state.config
        model = _catalog(config).get(model_id)
        if model is None:
            raise RequestError(404, "Model not found")
        entry = model.entry()
        tiers = [("Sim", Decimal(1))]
        if config.routed_price_multiplier != 1:
            tiers.append(("Sim Premium", config.routed_price_multiplier))
        endpoints = []
        for name, factor in tiers:
            pricing = dict(entry["pricing"])  # type: ignore[call-overload]
            pricing["prompt"] = rules.decimal_text(model.prompt * factor)
            pricing["completion"] = rules.decimal_text(model.completion * factor)
            endpoints.append(
                {
                    "name": f"{name} | {model.id}",
                    "model_name": model.name,
                    "context_length": model.context_length,
                    "pricing": pricing,
                    "provider_name": name,
                    "tag": name.lower().replace(" ", "-"),
                    "quantization": "unknown",
                    "max_completion_tokens": model.max_completion_tokens,
                    "max_prompt_tokens": None,
                    "supported_parameters": entry["supported_parameters"],
                    "status": 0,
                    "uptime_last_30m": 100,
                }
            )
        data = {k: entry[k] for k in ("id", "name", "created", "description", "architecture")}
        data["endpoints"] = endpoints
        self._json(200, {"data": data})

    def _openrouter_generation(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        key_fp = self._require_key(OPENROUTER)
        gen_id = (query.get("id") or [""])[0]
        if not gen_id:
            raise RequestError(400, "id is required")
        generation = self.server.state.lookup_generation(gen_id, key_fp)
        if generation is None:
            raise RequestError(404, "Generation not found")
        total = generation.cost if generation.cost is not None else Decimal(0)
        self._json(
            200,
            {
                "data": {
                    "id": generation.id,
                    "upstream_id": generation.id,
                    "total_cost": total,
                    "usage": total,
                    "cache_discount": None,
                    "upstream_inference_cost": None,
                    "is_byok": False,
                    "created_at": generation.created_at,
                    "model": generation.model,
                    "app_id": None,
                    "streamed": generation.streamed,
                    "cancelled": generation.cancelled,
                    "provider_name": "Sim",
                    "latency": 0,
                    "moderation_latency": None,
                    "generation_time": 0,
                    "finish_reason": generation.finish_reason,
                    "native_finish_reason": generation.finish_reason,
                    "tokens_prompt": generation.tokens_prompt,
                    "tokens_completion": generation.tokens_completion,
                    "native_tokens_prompt": generation.tokens_prompt,
                    "native_tokens_completion": generation.tokens_completion,
                    "native_tokens_reasoning": generation.tokens_reasoning,
                    "native_tokens_cached": 0,
                    "num_media_prompt": None,
                    "num_media_completion": None,
                    "num_search_results": None,
                    "origin": "",
                }
            },
        )

    def _openrouter_key(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        key_fp = self._require_key(OPENROUTER)
        state = self.server.state
        usage = state.key_usage(key_fp)
        limit = state.config.key_limit
        remaining = None if limit is None else limit - usage
        self._json(
            200,
            {
                "data": {
                    "label": f"sk-or-v1-sim…{key_fp[:6]}",
                    "limit": limit,
                    "limit_remaining": remaining,
                    "limit_reset": None,
                    "include_byok_in_limit": False,
                    "usage": usage,
                    "usage_daily": usage,
                    "usage_weekly": usage,
                    "usage_monthly": usage,
                    "byok_usage": 0,
                    "byok_usage_daily": 0,
                    "byok_usage_weekly": 0,
                    "byok_usage_monthly": 0,
                    "is_free_tier": False,
                    "is_provisioning_key": False,
                    "expires_at": None,
                    "rate_limit": {"requests": -1, "interval": "10s"},
                }
            },
        )

    def _oauth_authorize(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        callback = (query.get("callback_url") or [""])[0]
        challenge = (query.get("code_challenge") or [""])[0]
        method = (query.get("code_challenge_method") or ["plain"])[0]
        parts = urlsplit(callback)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RequestError(400, "callback_url must be an http(s) URL")
        if method not in ("S256", "plain"):
            raise RequestError(400, "code_challenge_method must be S256 or plain")
        if not _CHALLENGE_RE.match(challenge):
            raise RequestError(400, "code_challenge is missing or malformed")
        code = self.server.state.new_code(challenge, method)
        joiner = "&" if parts.query else "?"
        target = f"{callback}{joiner}code={quote(code)}"
        if (query.get("interactive") or ["0"])[0] in ("1", "true"):
            page = (
                '<!doctype html><html><head><meta charset="utf-8">'
                "<title>byom sim: authorize</title></head><body>"
                "<h1>Simulated OpenRouter</h1><p>An app asks for a key.</p>"
                f'<a id="authorize" href="{html.escape(target, quote=True)}">Authorize</a>'
                "</body></html>"
            ).encode()
            self._respond(200, page, content_type="text/html; charset=utf-8")
            return
        self._respond(302, b"", content_type=None, headers=(("Location", target),))

    def _oauth_exchange(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        data = _parse_json(body)
        code = data.get("code")
        verifier = data.get("code_verifier")
        if not isinstance(code, str) or not code:
            raise RequestError(400, "code is required")
        state = self.server.state
        entry = state.peek_code(code)
        if entry is None:
            raise RequestError(400, "Invalid code")
        challenge, method = entry
        sent_method = data.get("code_challenge_method", method)
        if sent_method != method:
            raise RequestError(400, "code_challenge_method does not match")
        if not isinstance(verifier, str) or not verifier:
            raise RequestError(400, "code_verifier is required")
        expected = rules.pkce_challenge(verifier) if method == "S256" else verifier
        if expected != challenge:
            raise RequestError(403, "Invalid code_verifier")
        if not state.consume_code(code):
            raise RequestError(400, "Invalid code")
        key = "sk-or-v1-sim-" + hashlib.sha256(f"key:{code}".encode()).hexdigest()
        self._json(200, {"key": key, "user_id": "user_sim"})

    # ------------------------------------------------------------------ other listings

    def _v1_models(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        anthropic = "anthropic-version" in self.headers or "x-api-key" in self.headers
        if anthropic:
            self._optional_key(ANTHROPIC)
            data = [
                {"type": "model", "id": mid, "display_name": name, "created_at": created}
                for mid, name, created in rules.ANTHROPIC_MODELS
            ]
            self._json(
                200,
                {
                    "data": data,
                    "has_more": False,
                    "first_id": data[0]["id"],
                    "last_id": data[-1]["id"],
                },
            )
            return
        self._optional_key(OPENAI)
        listed: list[dict[str, object]] = [
            {"id": mid, "object": "model", "created": rules.OPENAI_CREATED, "owned_by": "openai"}
            for mid in rules.OPENAI_MODELS
        ]
        listed += [
            {"id": m[0], "object": "model", "created": rules.OPENAI_CREATED, "owned_by": "library"}
            for m in rules.OLLAMA_MODELS
        ]
        self._json(200, {"object": "list", "data": listed})

    def _ollama_tags(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": rules.OLLAMA_MODIFIED_AT,
                "size": size,
                "digest": hashlib.sha256(name.encode()).hexdigest(),
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": family,
                    "families": [family],
                    "parameter_size": params,
                    "quantization_level": quant,
                },
            }
            for name, size, family, params, quant in rules.OLLAMA_MODELS
        ]
        self._json(200, {"models": models})

    def _count_tokens(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._require_key(ANTHROPIC)
        if "anthropic-version" not in self.headers:
            raise RequestError(400, "anthropic-version: header is required")
        data = _parse_json(body)
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise RequestError(400, "model: Field required")
        if model not in _ANTHROPIC_IDS:
            raise RequestError(404, f"model: {model}")
        texts = _anthropic_texts(data)
        total = rules.prompt_tokens(texts) + rules.structure_tokens(data)
        self._json(200, {"input_tokens": total})

    # ------------------------------------------------------------------ chat

    def _chat(self, fmt: str, body: bytes) -> None:
        state = self.server.state
        fault = state.pop_fault()
        kind = None if fault is None else str(fault["kind"])
        if fault is not None and kind == "status":
            raise status_fault_error(
                _fault_int(fault, "status", 500), _fault_int(fault, "retry_after", 1)
            )
        if fault is not None and kind == "slow_first_byte":
            # The wait ends early when the client hangs up: the outcome is the same (the reply
            # goes nowhere), only sooner, so an abandoned request is not recorded much later.
            seconds = fault.get("seconds", 0)
            self._wait_for_hangup(float(seconds) if isinstance(seconds, int | float) else 0.0)
            kind = None
        config = state.config
        chat = self._parse_chat(fmt, body, config)
        plan = self._plan(chat, config, kind, fault)
        if chat.stream:
            _STREAMERS[fmt](self, plan, config)
        else:
            self._reply_whole(plan)

    def _parse_chat(self, fmt: str, body: bytes, config: SimConfig) -> Chat:
        key_fp = None if fmt == OLLAMA else self._require_key(fmt)
        if fmt == ANTHROPIC and "anthropic-version" not in self.headers:
            raise RequestError(400, "anthropic-version: header is required")
        data = _parse_json(body)
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise RequestError(
                400, "model is required" if fmt != ANTHROPIC else "model: Field required"
            )
        messages = data.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
            raise RequestError(400, "messages must be a list of message objects")
        if not messages and fmt != OLLAMA:
            raise RequestError(400, "messages must not be empty")
        texts = [rules.content_text(m.get("content")) for m in messages]
        stream = data.get("stream", fmt == OLLAMA)
        if not isinstance(stream, bool):
            raise RequestError(400, "stream must be a boolean")
        max_tokens: int | None = None
        include_usage = False
        chat = Chat(fmt, model, texts, None, stream, False, key_fp)
        chat.extra_tokens = rules.structure_tokens(data)
        if fmt in (OPENROUTER, OPENAI):
            for name in ("max_tokens", "max_completion_tokens"):
                if data.get(name) is not None:
                    value = _int_field(data[name], name, 1 if fmt == OPENAI else 0)
                    max_tokens = value if max_tokens is None else min(max_tokens, value)
            options = data.get("stream_options")
            if fmt == OPENAI and options is not None and config.reject_stream_options:
                raise RequestError(400, "Unrecognized request argument supplied: stream_options")
            if isinstance(options, Mapping):
                include_usage = options.get("include_usage") is True
        elif fmt == ANTHROPIC:
            if data.get("max_tokens") is None:
                raise RequestError(400, "max_tokens: Field required")
            max_tokens = _int_field(data["max_tokens"], "max_tokens", 1)
            chat.texts = _anthropic_texts(data)
        else:
            options = data.get("options")
            if isinstance(options, Mapping) and options.get("num_predict") is not None:
                value = _int_field(options["num_predict"], "num_predict", -2)
                max_tokens = None if value < 0 else value
        chat.max_tokens = max_tokens
        chat.include_usage = include_usage
        try:
            chat.request = tools.parse_request(TOOL_STYLE[fmt], data)
        except tools.ToolRequestError as exc:
            raise RequestError(400, str(exc)) from exc
        self._check_model(chat, data, config)
        return chat

    def _check_model(self, chat: Chat, data: Mapping[str, Any], config: SimConfig) -> None:
        model = chat.model
        entry: rules.OpenRouterModel | None = None
        if chat.fmt == OPENROUTER:
            entry = _catalog(config).get(model)
            if entry is None:
                raise RequestError(400, f"{model} is not a valid model ID")
        elif chat.fmt == OPENAI:
            if model not in _OPENAI_IDS:
                raise RequestError(
                    404, f"The model `{model}` does not exist or you do not have access to it."
                )
        elif chat.fmt == ANTHROPIC:
            if model not in _ANTHROPIC_IDS:
                raise RequestError(404, f"model: {model}")
        elif model not in _OLLAMA_IDS:
            raise RequestError(404, f'model "{model}" not found, try pulling it first')
        if model in config.unavailable_models:
            raise RequestError(502, "model down", metadata={"provider_name": "Sim"})
        if entry is None:
            return
        prompt_price = entry.prompt * config.routed_price_multiplier
        completion_price = entry.completion * config.routed_price_multiplier
        provider = data.get("provider")
        max_price = provider.get("max_price") if isinstance(provider, Mapping) else None
        if isinstance(max_price, Mapping):
            bounds = {
                name: _price_bound(max_price.get(name), name) for name in ("prompt", "completion")
            }
            too_dear = (
                bounds["prompt"] is not None and entry.prompt * rules.MILLION > bounds["prompt"]
            ) or (
                bounds["completion"] is not None
                and entry.completion * rules.MILLION > bounds["completion"]
            )
            if too_dear:
                raise RequestError(503, "No endpoints found matching your data policy / max price")
            prompt_price, completion_price = entry.prompt, entry.completion
        chat.prompt_price, chat.completion_price = prompt_price, completion_price
        limit = config.key_limit
        if config.enforce_key_limit and limit is not None and chat.key_fp is not None:
            if self.server.state.key_usage(chat.key_fp) >= limit:
                raise RequestError(
                    402,
                    "Key limit exceeded",
                    metadata={"limit_source": "openrouter_key_limit"},
                )

    def _plan(
        self, chat: Chat, config: SimConfig, kind: str | None, fault: Mapping[str, object] | None
    ) -> Plan:
        serial = self.server.state.next_serial()
        digest = hashlib.sha256(f"{chat.fmt}:{serial}:{chat.model}".encode()).hexdigest()
        gen_id = {
            OPENROUTER: f"gen-{serial}-{digest[:20]}",
            OPENAI: f"chatcmpl-sim{serial}{digest[:20]}",
            ANTHROPIC: f"msg_sim{serial}{digest[:20]}",
            OLLAMA: f"ollama-{serial}-{digest[:20]}",
            GEMINI: gemini.response_id(serial, chat.model),
        }[chat.fmt]
        request = chat.request
        calls: tuple[tools.PlannedCall, ...] = ()
        reasoning_only = False
        if tools.is_tool_turn(request, config.tool_steps):
            turn = tools.plan_turn(
                request,
                serial=serial,
                id_prefix=TOOL_ID_PREFIX[chat.fmt],
                parallel_tool_calls=config.parallel_tool_calls,
                tool_name=config.tool_name,
                argument_bytes=config.tool_argument_bytes,
                malformed=config.malformed_tool_arguments
                or (
                    config.malformed_output and chat.fmt == ANTHROPIC and request.named is not None
                ),
                max_tokens=chat.max_tokens,
            )
            text, calls, completion = "", turn.calls, turn.completion_tokens
            finish = "length" if turn.truncated else "tool_calls"
        else:
            if request.structured:
                full = tools.structured_text(request.output_schema, config.malformed_output)
            else:
                full = rules.reply_text(chat.texts, config.reply_words)
                reasoning_only = chat.fmt in (OPENROUTER, OPENAI) and rules.has_reasoning_marker(
                    chat.texts
                )
            text, truncated = rules.truncate(full, chat.max_tokens)
            completion = rules.tokens(text)
            finish = "length" if truncated else "stop"
        if kind == "finish_error":
            finish = "error"
        code = 502 if fault is None else _fault_int(fault, "code", 502)
        return Plan(
            chat=chat,
            gen_id=gen_id,
            created=int(time.time()),
            text=text,
            reasoning_only=reasoning_only,
            prompt_tokens=rules.prompt_tokens(chat.texts) + chat.extra_tokens,
            completion_tokens=completion,
            finish=finish,
            fault=kind,
            error_code=code,
            serial=serial,
            calls=calls,
            web_searches=config.web_search_requests if chat.fmt == ANTHROPIC else 0,
        )

    def _record(
        self,
        plan: Plan,
        *,
        completion_tokens: int | None = None,
        finish: str | None = "",
        cancelled: bool = False,
    ) -> None:
        done = plan.completion_tokens if completion_tokens is None else completion_tokens
        self.server.state.record(
            Generation(
                id=plan.gen_id,
                format=plan.chat.fmt,
                model=plan.chat.model,
                tokens_prompt=plan.prompt_tokens,
                tokens_completion=done,
                tokens_reasoning=done if plan.reasoning_only else 0,
                cost=plan.cost(done),
                finish_reason=plan.finish if finish == "" else finish,
                cancelled=cancelled,
                streamed=plan.chat.stream,
                created_at=now_iso(),
                finished_at=time.monotonic(),
                key_fp=plan.chat.key_fp,
                serial=plan.serial,
            )
        )

    def _id_headers(self, plan: Plan) -> tuple[tuple[str, str], ...]:
        return (("X-Generation-Id", plan.gen_id),) if plan.chat.fmt == OPENROUTER else ()

    # ------------------------------------------------------------------ non-stream

    def _reply_whole(self, plan: Plan) -> None:
        fmt = plan.chat.fmt
        if plan.fault == "midstream_error":
            self._record(plan, completion_tokens=0, finish="error")
            if fmt == OPENROUTER:
                payload = _openrouter_whole(plan, error=True)
                self._json(200, payload, self._id_headers(plan))
                return
            code = plan.error_code
            message = "upstream error"
            self._json(code, error_payload(fmt, code, message))
            return
        self._send_whole(plan, rules.dumpb(_WHOLE[fmt](plan)), self._id_headers(plan))

    def _send_whole(
        self, plan: Plan, body: bytes, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """Deliver a whole (non-stream) reply ``body`` as ``plan``'s fault says, and record
        it: cut after the headers (``cut_before_usage``), half a body (``malformed_json``),
        or whole. Every wire format's whole replies end here."""
        if plan.fault == "cut_before_usage":
            self._record(plan, completion_tokens=0, finish=None, cancelled=True)
            head = [
                "HTTP/1.1 200 OK\r\nServer: byom-sim\r\nContent-Type: application/json\r\n",
                f"Content-Length: {len(body)}\r\n",
            ]
            head.extend(f"{k}: {v}\r\n" for k, v in (*CORS_HEADERS, *headers))
            head.append("\r\n")
            try:
                self.wfile.write("".join(head).encode("latin-1"))
            except OSError:
                pass
            self._cut_connection()
            return
        self._record(plan)
        if plan.fault == "malformed_json":
            body = body[: len(body) // 2]
        self._respond(200, body, headers=headers)

    # ------------------------------------------------------------------ streams

    def _pieces(self, plan: Plan, config: SimConfig) -> list[str]:
        return rules.split_pieces(plan.text, config.stream_chunk_words)

    def _send_pieces(
        self,
        plan: Plan,
        config: SimConfig,
        pieces: Sequence[_P],
        emit: Callable[[_P], None],
        bill: Callable[[Sequence[_P]], int] | None = None,
    ) -> int:
        """Emit ``pieces`` (all, or half for a midstream error); returns how many were sent.

        A client that goes away mid-stream gets its generation recorded as cancelled, billed
        ``bill(pieces sent)`` completion tokens (default: the tokens of the text pieces sent).
        With ``stream_hold_after`` N, the stream stops after N pieces (or all, if fewer) and sends
        nothing more until the client hangs up (or ``release()``).
        """
        limit = len(pieces)
        if plan.fault == "midstream_error":
            limit = max(1, len(pieces) // 2) if pieces else 0
        hold = config.stream_hold_after
        sent = 0
        try:
            for piece in pieces[:limit]:
                if sent == hold:
                    self._hold_until_hangup()
                if config.stream_delay:
                    time.sleep(config.stream_delay)
                emit(piece)
                sent += 1
            if hold is not None and sent <= hold:
                self._hold_until_hangup()
        except _Cut:
            if bill is None:
                self._record_cut(plan, pieces[:sent])  # type: ignore[arg-type]
            else:
                self._record(
                    plan, completion_tokens=bill(pieces[:sent]), finish=None, cancelled=True
                )
            raise
        return sent

    def _hold_until_hangup(self) -> None:
        """Send nothing until the client hangs up (``_Cut``) or ``release()`` (carry on)."""
        if self._wait_for_hangup(None):
            self.close_connection = True
            raise _Cut

    def _record_cut(self, plan: Plan, sent: Sequence[str]) -> None:
        self._record(
            plan, completion_tokens=rules.tokens("".join(sent)), finish=None, cancelled=True
        )

    def _stream_openai_like(self, plan: Plan, config: SimConfig) -> None:
        openrouter = plan.chat.fmt == OPENROUTER
        base = self._openai_base(plan)

        def event(
            choices: list[dict[str, object]], extra: Mapping[str, object] | None = None
        ) -> None:
            payload = dict(base)
            payload["choices"] = choices
            if not openrouter:
                payload["usage"] = None
            if extra:
                payload.update(extra)
            self._chunk(b"data: " + rules.dumpb(payload) + b"\n\n")

        def choice(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
            out: dict[str, object] = {"index": 0, "delta": delta, "finish_reason": finish}
            if openrouter:
                out["native_finish_reason"] = finish
            out["logprobs"] = None
            return out

        self._start_stream("text/event-stream", self._id_headers(plan))
        if openrouter:
            self._chunk(b": OPENROUTER PROCESSING\n\n")
        try:
            event([choice({"role": "assistant", "content": None if plan.calls else ""})])
        except _Cut:
            self._record_cut(plan, [])
            return
        if plan.fault == "malformed_json":
            self._record(plan)
            self._chunk(b'data: {"id": "' + plan.gen_id.encode() + b'", "choices": [{"delt\n\n')
            self._end_stream()
            return
        if plan.calls:
            self._stream_openai_tools(plan, config, event, choice)
            return
        pieces = [] if plan.reasoning_only and not openrouter else self._pieces(plan, config)
        first = True

        def emit(piece: str) -> None:
            nonlocal first
            if plan.reasoning_only:
                event([choice({"content": "", "reasoning": piece})])
            else:
                event([choice({"content": piece})])
            if first and openrouter:
                self._chunk(b": OPENROUTER PROCESSING\n\n")
            first = False

        sent = self._send_pieces(plan, config, pieces, emit)
        try:
            if plan.fault == "midstream_error":
                self._record_partial(plan, pieces[:sent], "error")
                self._openai_like_error(plan, event, choice)
                return
            if plan.fault == "cut_before_usage":
                self._record_cut(plan, pieces)
                self._cut_connection()
                return
            self._record(plan)
            event([choice({"content": ""}, plan.finish)])
            self._openai_like_tail(plan, base)
        except _Cut:
            return

    def _openai_like_error(
        self,
        plan: Plan,
        event: Callable[[list[dict[str, object]], Mapping[str, object] | None], None],
        choice: Callable[[dict[str, object], str | None], dict[str, object]],
    ) -> None:
        """The error event of a ``midstream_error`` stream, then the end of the stream."""
        if plan.chat.fmt == OPENROUTER:
            error: dict[str, object] = {
                "code": plan.error_code,
                "message": "upstream error",
                "metadata": {"provider_name": "Sim"},
            }
            event([choice({"content": ""}, "error")], {"error": error})
        else:
            payload = error_payload(OPENAI, plan.error_code, "upstream error")
            self._chunk(b"data: " + rules.dumpb(payload) + b"\n\n")
        self._end_stream()

    def _openai_like_tail(self, plan: Plan, base: Mapping[str, object]) -> None:
        """The usage event (always on OpenRouter; OpenAI when asked), ``[DONE]``, the end."""
        openrouter = plan.chat.fmt == OPENROUTER
        if openrouter or plan.chat.include_usage:
            usage_event: dict[str, object] = dict(base)
            usage_event["choices"] = []
            usage_event["usage"] = _openrouter_usage(plan) if openrouter else _openai_usage(plan)
            self._chunk(b"data: " + rules.dumpb(usage_event) + b"\n\n")
        self._chunk(b"data: [DONE]\n\n")
        self._end_stream()

    def _stream_openai_tools(
        self,
        plan: Plan,
        config: SimConfig,
        event: Callable[[list[dict[str, object]], Mapping[str, object] | None], None],
        choice: Callable[[dict[str, object], str | None], dict[str, object]],
    ) -> None:
        """A tool-call turn, OpenAI-style: per call index a start delta (id, type, name, empty
        arguments), then argument fragments, interleaved across calls (``openai_schedule``)."""
        calls = plan.calls
        steps = tools.openai_schedule(calls)
        cut = config.stream_cut_in_tool_arguments and plan.fault is None
        if cut:
            steps = tools.cut_schedule(steps)

        def emit(step: tools.StreamStep) -> None:
            kind, index, text = step
            entry: dict[str, object]
            if kind == "start":
                call = calls[index]
                function = {"name": call.name, "arguments": ""}
                entry = {"index": index, "id": call.id, "type": "function", "function": function}
            else:
                entry = {"index": index, "function": {"arguments": text}}
            event([choice({"tool_calls": [entry]}, None)], None)

        def bill(sent: Sequence[tools.StreamStep]) -> int:
            return tools.billed_steps(calls, sent)

        sent = self._send_pieces(plan, config, steps, emit, bill)
        try:
            if cut:
                self._record(plan, completion_tokens=bill(steps), finish=None, cancelled=True)
                self._cut_connection()
                return
            if plan.fault == "midstream_error":
                self._record(plan, completion_tokens=bill(steps[:sent]), finish="error")
                self._openai_like_error(plan, event, choice)
                return
            if plan.fault == "cut_before_usage":
                self._record(plan, finish=None, cancelled=True)
                self._cut_connection()
                return
            self._record(plan)
            event([choice({}, plan.finish)], None)
            self._openai_like_tail(plan, self._openai_base(plan))
        except _Cut:
            return

    def _openai_base(self, plan: Plan) -> dict[str, object]:
        """The fields every OpenAI-style stream event carries besides ``choices``."""
        openrouter = plan.chat.fmt == OPENROUTER
        base: dict[str, object] = {"id": plan.gen_id}
        if openrouter:
            base["provider"] = "Sim"
        base.update(
            {"model": plan.chat.model, "object": "chat.completion.chunk", "created": plan.created}
        )
        if not openrouter:
            base["system_fingerprint"] = "fp_sim"
        return base

    def _record_partial(self, plan: Plan, sent: Sequence[str], finish: str) -> None:
        self._record(plan, completion_tokens=rules.tokens("".join(sent)), finish=finish)

    def _stream_anthropic(self, plan: Plan, config: SimConfig) -> None:
        chat = plan.chat

        def event(name: str, payload: Mapping[str, object]) -> None:
            self._chunk(b"event: " + name.encode() + b"\ndata: " + rules.dumpb(payload) + b"\n\n")

        self._start_stream("text/event-stream; charset=utf-8", (("request-id", "req_sim"),))
        start_usage = _anthropic_usage(plan.prompt_tokens, 1)
        message: dict[str, object] = {
            "id": plan.gen_id,
            "type": "message",
            "role": "assistant",
            "model": chat.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        try:
            event("message_start", {"type": "message_start", "message": message})
            if plan.fault == "malformed_json":
                self._record(plan)
                self._chunk(b'event: content_block_delta\ndata: {"type": "content_block_del\n\n')
                self._end_stream()
                return
            if plan.calls:
                event("ping", {"type": "ping"})
            else:
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": 0,
                     "content_block": {"type": "text", "text": ""}},
                )  # fmt: skip
                event("ping", {"type": "ping"})
        except _Cut:
            self._record_cut(plan, [])
            return
        if plan.calls:
            sent, cut, bill, steps = self._anthropic_tool_blocks(plan, config, event)
            partial = bill(steps[:sent])
        else:
            pieces = self._pieces(plan, config)

            def emit(piece: str) -> None:
                event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": 0,
                     "delta": {"type": "text_delta", "text": piece}},
                )  # fmt: skip

            sent = self._send_pieces(plan, config, pieces, emit)
            cut, partial = False, rules.tokens("".join(pieces[:sent]))
        try:
            if cut:
                self._record(plan, completion_tokens=partial, finish=None, cancelled=True)
                self._cut_connection()
                return
            if plan.fault == "midstream_error":
                self._record(plan, completion_tokens=partial, finish="error")
                event(
                    "error",
                    {
                        "type": "error",
                        "error": {"type": "overloaded_error", "message": "Overloaded"},
                    },
                )
                self._end_stream()
                return
            if plan.fault == "cut_before_usage":
                self._record(plan, finish=None, cancelled=True)
                self._cut_connection()
                return
            self._record(plan)
            if not plan.calls:
                event("content_block_stop", {"type": "content_block_stop", "index": 0})
            event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": FINISH_ANTHROPIC[plan.finish], "stop_sequence": None},
                    "usage": _anthropic_delta_usage(plan),
                },
            )
            event("message_stop", {"type": "message_stop"})
            self._end_stream()
        except _Cut:
            return

    def _anthropic_tool_blocks(
        self,
        plan: Plan,
        config: SimConfig,
        event: Callable[[str, Mapping[str, object]], None],
    ) -> tuple[int, bool, Callable[[Sequence[tools.StreamStep]], int], list[tools.StreamStep]]:
        """Send the ``tool_use`` blocks of a tool-call turn (start with ``input: {}``,
        ``input_json_delta`` fragments, stop); returns (steps sent, cut, bill, steps)."""
        calls = plan.calls
        steps = tools.anthropic_schedule(calls)
        cut = config.stream_cut_in_tool_arguments and plan.fault is None
        if cut:
            steps = tools.cut_schedule(steps)

        def emit(step: tools.StreamStep) -> None:
            kind, index, text = step
            if kind == "start":
                call = calls[index]
                block: dict[str, object] = {
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.name,
                    "input": {},
                }
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": block},
                )
            elif kind == "args":
                delta = {"type": "input_json_delta", "partial_json": text}
                event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": delta},
                )
            else:
                event("content_block_stop", {"type": "content_block_stop", "index": index})

        def bill(sent: Sequence[tools.StreamStep]) -> int:
            return tools.billed_steps(calls, sent)

        sent = self._send_pieces(plan, config, steps, emit, bill)
        return sent, cut, bill, steps

    def _stream_ollama(self, plan: Plan, config: SimConfig) -> None:
        chat = plan.chat

        def line(payload: Mapping[str, object]) -> None:
            self._chunk(rules.dumpb(payload) + b"\n")

        self._start_stream("application/x-ndjson")
        if plan.fault == "malformed_json":
            self._record(plan)
            try:
                self._chunk(b'{"model": "' + chat.model.encode() + b'", "message": {"rol\n')
                self._end_stream()
            except _Cut:
                pass
            return
        if plan.calls:
            self._stream_ollama_tools(plan, config)
            return
        pieces = self._pieces(plan, config)

        def emit(piece: str) -> None:
            line(
                {
                    "model": chat.model,
                    "created_at": now_iso(),
                    "message": {"role": "assistant", "content": piece},
                    "done": False,
                }
            )

        try:
            sent = self._send_pieces(plan, config, pieces, emit)
        except _Cut:
            return
        try:
            if plan.fault == "midstream_error":
                self._record_partial(plan, pieces[:sent], "error")
                line({"error": "upstream error"})
                self._end_stream()
                return
            if plan.fault == "cut_before_usage":
                self._record_cut(plan, pieces)
                self._cut_connection()
                return
            self._record(plan)
            line(_ollama_final(plan))
            self._end_stream()
        except _Cut:
            return

    def _stream_ollama_tools(self, plan: Plan, config: SimConfig) -> None:
        """A tool-call turn, Ollama-style: the whole calls in one line, then the final line."""
        calls_line = rules.dumpb(
            {
                "model": plan.chat.model,
                "created_at": now_iso(),
                "message": _ollama_message(plan),
                "done": False,
            }
        )
        if config.stream_cut_in_tool_arguments and plan.fault is None:
            # The calls travel whole, so "the middle of the arguments" is half that line.
            self._record(plan, completion_tokens=0, finish=None, cancelled=True)
            try:
                self._chunk(calls_line[: len(calls_line) // 2])
            except _Cut:
                return
            self._cut_connection()
            return
        billed = plan.completion_tokens

        def emit(data: bytes) -> None:
            self._chunk(data + b"\n")

        try:
            if plan.fault == "midstream_error":
                self._record(plan, completion_tokens=0, finish="error")
                emit(b'{"error":"upstream error"}')
                self._end_stream()
                return
            self._send_pieces(plan, config, [calls_line], emit, lambda s: billed if s else 0)
            if plan.fault == "cut_before_usage":
                self._record(plan, finish=None, cancelled=True)
                self._cut_connection()
                return
            self._record(plan)
            emit(rules.dumpb(_ollama_final(plan)))
            self._end_stream()
        except _Cut:
            return

    # ------------------------------------------------------------------ route table glue

    def _route_openrouter_chat(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._chat(OPENROUTER, body)

    def _route_openai_chat(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._chat(OPENAI, body)

    def _route_anthropic_chat(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._chat(ANTHROPIC, body)

    def _route_ollama_chat(self, body: bytes, query: Mapping[str, list[str]]) -> None:
        self._chat(OLLAMA, body)


# ---------------------------------------------------------------------- payload builders


def _openrouter_usage(plan: Plan) -> dict[str, object]:
    reasoning = plan.completion_tokens if plan.reasoning_only else 0
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "cost": plan.cost(),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _openai_usage(plan: Plan) -> dict[str, object]:
    reasoning = plan.completion_tokens if plan.reasoning_only else 0
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _anthropic_usage(
    input_tokens: int, output_tokens: int, web_searches: int = 0
) -> dict[str, object]:
    usage: dict[str, object] = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    if web_searches:
        usage["server_tool_use"] = {"web_search_requests": web_searches}
    return usage


def _anthropic_delta_usage(plan: Plan) -> dict[str, object]:
    """The usage of a stream's ``message_delta``: output tokens, and the server-side tool use
    (cumulative, as Anthropic sends it there) when the reply made web searches."""
    usage: dict[str, object] = {"output_tokens": plan.completion_tokens}
    if plan.web_searches:
        usage["server_tool_use"] = {"web_search_requests": plan.web_searches}
    return usage


def _ollama_durations(plan: Plan) -> dict[str, object]:
    load = 1_000_000
    prompt_eval = plan.prompt_tokens * 100_000
    evaluation = plan.completion_tokens * 10_000_000
    return {
        "total_duration": load + prompt_eval + evaluation,
        "load_duration": load,
        "prompt_eval_count": plan.prompt_tokens,
        "prompt_eval_duration": prompt_eval,
        "eval_count": plan.completion_tokens,
        "eval_duration": evaluation,
    }


def _openai_tool_calls(plan: Plan) -> list[dict[str, object]]:
    return [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": call.arguments},
        }
        for call in plan.calls
    ]


def _openrouter_whole(plan: Plan, error: bool = False) -> dict[str, object]:
    message: dict[str, object] = {"role": "assistant", "content": plan.text, "refusal": None}
    if plan.calls:
        message["tool_calls"] = _openai_tool_calls(plan)
    if plan.reasoning_only:
        message["content"] = ""
        message["reasoning"] = plan.text
    finish = plan.finish
    payload: dict[str, object] = {
        "id": plan.gen_id,
        "provider": "Sim",
        "model": plan.chat.model,
        "object": "chat.completion",
        "created": plan.created,
    }
    if error:
        message = {"role": "assistant", "content": ""}
        finish = "error"
        payload["error"] = {
            "code": plan.error_code,
            "message": "upstream error",
            "metadata": {"provider_name": "Sim"},
        }
    payload["choices"] = [
        {
            "logprobs": None,
            "finish_reason": finish,
            "native_finish_reason": finish,
            "index": 0,
            "message": message,
        }
    ]
    if not error:
        payload["usage"] = _openrouter_usage(plan)
    return payload


def _openai_whole(plan: Plan) -> dict[str, object]:
    content: str | None = "" if plan.reasoning_only else plan.text
    message: dict[str, object] = {"role": "assistant", "content": content}
    if plan.calls:
        message["content"] = None
        message["tool_calls"] = _openai_tool_calls(plan)
    message.update({"refusal": None, "annotations": []})
    return {
        "id": plan.gen_id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.chat.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": plan.finish,
            }
        ],
        "usage": _openai_usage(plan),
        "service_tier": "default",
        "system_fingerprint": "fp_sim",
    }


def _anthropic_whole(plan: Plan) -> dict[str, object]:
    content: list[dict[str, object]] = [{"type": "text", "text": plan.text}]
    if plan.calls:
        content = [
            {"type": "tool_use", "id": call.id, "name": call.name, "input": call.wire_arguments}
            for call in plan.calls
        ]
    return {
        "id": plan.gen_id,
        "type": "message",
        "role": "assistant",
        "model": plan.chat.model,
        "content": content,
        "stop_reason": FINISH_ANTHROPIC[plan.finish],
        "stop_sequence": None,
        "usage": _anthropic_usage(plan.prompt_tokens, plan.completion_tokens, plan.web_searches),
    }


def _ollama_message(plan: Plan) -> dict[str, object]:
    """The assistant message of a whole reply (with ``tool_calls`` for a tool-call turn)."""
    message: dict[str, object] = {"role": "assistant", "content": plan.text}
    if plan.calls:
        message["tool_calls"] = [
            {"function": {"name": call.name, "arguments": call.wire_arguments}}
            for call in plan.calls
        ]
    return message


def _ollama_final(plan: Plan) -> dict[str, object]:
    """The last line of an Ollama stream: empty content, ``done: true``, counts, durations."""
    final: dict[str, object] = {
        "model": plan.chat.model,
        "created_at": now_iso(),
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": FINISH_OLLAMA.get(plan.finish, plan.finish),
    }
    final.update(_ollama_durations(plan))
    return final


def _ollama_whole(plan: Plan) -> dict[str, object]:
    payload: dict[str, object] = {
        "model": plan.chat.model,
        "created_at": now_iso(),
        "message": _ollama_message(plan),
        "done_reason": FINISH_OLLAMA.get(plan.finish, plan.finish),
        "done": True,
    }
    payload.update(_ollama_durations(plan))
    return payload


_WHOLE: Final[Mapping[str, Callable[[Plan], dict[str, object]]]] = {
    OPENROUTER: _openrouter_whole,
    OPENAI: _openai_whole,
    ANTHROPIC: _anthropic_whole,
    OLLAMA: _ollama_whole,
}
_STREAMERS: Final[Mapping[str, Callable[[SimHandler, Plan, SimConfig], None]]] = {
    OPENROUTER: SimHandler._stream_openai_like,
    OPENAI: SimHandler._stream_openai_like,
    ANTHROPIC: SimHandler._stream_anthropic,
    OLLAMA: SimHandler._stream_ollama,
}
_Route = Callable[[SimHandler, bytes, Mapping[str, list[str]]], None]
_ROUTES: Final[Mapping[tuple[str, str], _Route]] = {
    ("POST", "/api/v1/chat/completions"): SimHandler._route_openrouter_chat,
    ("GET", "/api/v1/models"): SimHandler._openrouter_models,
    ("GET", "/api/v1/generation"): SimHandler._openrouter_generation,
    ("GET", "/api/v1/key"): SimHandler._openrouter_key,
    ("GET", "/api/v1/auth/key"): SimHandler._openrouter_key,
    ("POST", "/api/v1/auth/keys"): SimHandler._oauth_exchange,
    ("GET", "/auth"): SimHandler._oauth_authorize,
    ("POST", "/v1/chat/completions"): SimHandler._route_openai_chat,
    ("GET", "/v1/models"): SimHandler._v1_models,
    ("POST", "/v1/messages"): SimHandler._route_anthropic_chat,
    ("POST", "/v1/messages/count_tokens"): SimHandler._count_tokens,
    ("POST", "/api/chat"): SimHandler._route_ollama_chat,
    ("GET", "/api/tags"): SimHandler._ollama_tags,
}


# ---------------------------------------------------------------------- helpers


def _report_bug(exc: BaseException) -> None:
    frames = "".join(traceback.format_tb(exc.__traceback__))
    sys.stderr.write(f"byom sim: unexpected {type(exc).__name__}\n{frames}")


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _format_for(path: str) -> str:
    if path.startswith(gemini.PREFIX):
        return GEMINI
    if path in ("/v1/messages", "/v1/messages/count_tokens"):
        return ANTHROPIC
    if path.startswith("/v1/"):
        return OPENAI
    if path.startswith("/api/") and not path.startswith("/api/v1/"):
        return OLLAMA
    return OPENROUTER


def _catalog(config: SimConfig) -> dict[str, rules.OpenRouterModel]:
    if not config.extra_models:
        return _BASE_CATALOG
    catalog = dict(_BASE_CATALOG)
    catalog.update((m.id, m) for m in config.extra_models)
    return catalog


def _parse_json(body: bytes) -> Mapping[str, Any]:
    try:
        data = rules.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestError(400, "Request body is not valid JSON") from exc
    if not isinstance(data, Mapping):
        raise RequestError(400, "Request body must be a JSON object")
    return data


def _parse_control(body: bytes) -> Mapping[str, Any]:
    if not body.strip():
        return {}
    try:
        data = rules.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SimError("control body is not valid JSON") from exc
    if not isinstance(data, Mapping):
        raise SimError("control body must be a JSON object")
    return data


def _fault_int(fault: Mapping[str, object], name: str, default: int) -> int:
    value = fault.get(name, default)
    return value if isinstance(value, int) else default


def _int_field(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise RequestError(400, f"{name} must be an integer")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise RequestError(400, f"{name} must be an integer")
    number = int(value)
    if number < minimum:
        raise RequestError(400, f"{name} must be >= {minimum}")
    return number


def _price_bound(value: object, name: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise RequestError(400, f"provider.max_price.{name} must be a number")
    try:
        return Decimal(value)
    except ArithmeticError as exc:
        raise RequestError(400, f"provider.max_price.{name} must be a number") from exc


def _anthropic_texts(data: Mapping[str, Any]) -> list[str]:
    messages = data.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, Mapping) for m in messages):
        raise RequestError(400, "messages: Input should be a valid list")
    texts = [rules.content_text(m.get("content")) for m in messages]
    system = data.get("system")
    if system is not None:
        texts.insert(0, rules.content_text(system))
    return texts
