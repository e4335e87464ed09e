"""The adapter contract and the plain-data HTTP request it produces.

An adapter is created for one base URL; its :attr:`Adapter.origin` is the only origin its
requests may go to, and transports enforce that (R2.4).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from byom.core.catalog import Catalog, Price
from byom.core.errors import ByomError, InvalidBaseUrl, InvalidKey, InvalidRequest
from byom.core.secret import Secret, _header_safe
from byom.core.usage import (
    ChatResult,
    Delta,
    GenerationInfo,
    KeyInfo,
    RawToolCall,
    Usage,
    safe_label,
)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped.

    Raises :class:`InvalidRequest` for anything but http(s) URLs with a host, or URLs carrying
    credentials. Remembered per URL (every call checks its URL against the origin lock, twice,
    and an app sends to the same few URLs); a refusal is not remembered.
    """
    if not isinstance(url, str):
        raise InvalidRequest("A provider URL must be an http(s) URL with a host.")
    return _origin_of(url)


@functools.lru_cache(maxsize=256)
def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest("A provider URL must be an http(s) URL with a host.")
    if parts.username or parts.password:
        raise InvalidRequest("A provider URL may not carry credentials.")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise InvalidRequest("A provider URL has an invalid port.") from None
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def check_base_url(url: str) -> str:
    """A provider base URL byom can send to, or :class:`~byom.core.errors.InvalidBaseUrl`.

    Checked at connect time so that a mistyped address fails there, in plain words, instead of
    inside the HTTP client (whose ``InvalidURL`` / ``IDNAError`` / ``UnicodeError`` carry the
    request). Accepted: ``http`` or ``https``; a host that is a DNS name of letters, digits,
    hyphens and underscores (labels of 1–63 characters, no empty label: ``a..b`` is refused;
    internationalised names must be given in their ``xn--`` form), an IPv4 address or a
    bracketed IPv6 address;
    an optional port; a path of URL characters. No credentials, query, fragment, space, control
    or non-ASCII character.
    """
    if not isinstance(url, str) or not url or len(url) > 2048 or not _URL_CHARS.fullmatch(url):
        raise InvalidBaseUrl()
    parts = urlsplit(url)
    if "?" in url or "#" in url:
        raise InvalidBaseUrl("A provider address may not carry a query or a fragment.")
    try:
        origin_of(url)
    except ByomError:
        raise InvalidBaseUrl() from None
    host = (parts.hostname or "").lower()
    if not _valid_host(host):
        raise InvalidBaseUrl()
    return url


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    if not host or len(host) > 253:
        return False
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if labels[-1].isdigit():  # "999.1.1.1" is not an address, and not a name either
        return False
    return all(_LABEL.fullmatch(label) for label in labels)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as plain data. Secret headers are kept apart so that no ``repr`` shows them.

    ``repr`` shows method and URL only — never the body (it holds the prompt).
    """

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    secret_headers: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    stream: bool = False

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    def wire_headers(self) -> dict[str, str]:
        """All headers with secrets revealed — for the transport, at the moment of sending.

        Every value is checked first: one that an HTTP client could not send as it is raises
        :class:`~byom.core.errors.InvalidKey` (a secret header) or ``InvalidRequest`` here,
        before anything is revealed into a local, instead of inside the client with the whole
        header in its exception (pitfall 19).
        """
        for secret in self.secret_headers.values():
            if not _header_safe(secret.reveal()):
                raise InvalidKey()
        for value in self.headers.values():
            if not _header_safe(value):
                raise InvalidRequest("A request header holds characters HTTP cannot carry.")
        merged = dict(self.headers)
        merged.update({k: v.reveal() for k, v in self.secret_headers.items()})
        return merged


def post_json(
    url: str,
    body: Mapping[str, Any],
    *,
    stream: bool,
    secret_headers: Mapping[str, Secret] | None = None,
    headers: Mapping[str, str] | None = None,
    stream_type: str = "text/event-stream",
) -> HttpRequest:
    """A JSON ``POST`` (exact decimals), asking for ``stream_type`` when streaming."""
    from byom.providers._wire import dumps

    merged = {"Content-Type": "application/json", **(headers or {})}
    if stream:
        merged["Accept"] = stream_type
    return HttpRequest(
        "POST",
        url,
        headers=merged,
        secret_headers=dict(secret_headers or {}),
        body=dumps(body),
        stream=stream,
    )


class DecoderState:
    """What every stream decoder keeps: the text so far, the finish reason, model, generation
    id and whether the provider's end-of-stream marker arrived. Subclasses add usage."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._finish: str | None = None
        self._model: str | None = None
        self._generation_id: str | None = None
        self._done = False

    @property
    def generation_id(self) -> str | None:
        """The provider's id for this generation, when it is a safe label (else ``None``)."""
        return safe_label(self._generation_id)

    @property
    def complete(self) -> bool:
        return self._done

    def _finish_reason(self, has_calls: bool) -> str | None:
        """The finish reason as the result states it; adapters normalise tool-call stops."""
        return self._finish

    def _result(
        self,
        usage: Usage | None,
        cost: Decimal | None = None,
        tool_calls: tuple[RawToolCall, ...] = (),
    ) -> ChatResult:
        return ChatResult(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            usage=usage,
            cost=cost,
            generation_id=self._generation_id,
            finish_reason=self._finish_reason(bool(tool_calls)),
            model=self._model,
            tool_calls=tool_calls,
        )


class StreamDecoder(Protocol):
    """Incremental parser of a streamed response body."""

    def feed(self, data: bytes) -> list[Delta]:
        """Consume bytes; return text deltas. Raises a :class:`ByomError` on a mid-stream error."""
        ...

    def close(self) -> ChatResult:
        """The body ended. Return the result; ``usage`` is ``None`` when it never arrived.
        ``tool_calls`` holds the calls assembled from the stream's fragments, in order."""
        ...

    @property
    def generation_id(self) -> str | None: ...

    @property
    def complete(self) -> bool:
        """True once the provider's end-of-stream marker arrived (``[DONE]``, ``message_stop``,
        ``done: true``). A body that ends without it was cut."""
        ...

    @property
    def partial(self) -> ChatResult:
        """What has arrived so far (used when the stream fails), tool calls included — a call
        cut mid-arguments keeps the fragment it had, which then does not parse."""
        ...


class Adapter(Protocol):
    """Translate between byom and one provider's wire format. No I/O."""

    name: str
    base_url: str
    #: Whether responses carry the charged cost (else cost = tokens × catalog price).
    reports_cost: bool
    #: Whether requests carry a key at all (Ollama: no).
    needs_key: bool

    @property
    def origin(self) -> str: ...

    def chat_request(
        self,
        key: Secret | None,
        *,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        max_tokens: int,
        stream: bool,
        params: Mapping[str, Any],
        max_price: Price | None = None,
    ) -> HttpRequest: ...

    def parse_response(self, status: int, headers: Mapping[str, str], body: bytes) -> ChatResult:
        """Parse a complete non-streamed response; raise the mapped error for a failure."""
        ...

    def stream_decoder(self) -> StreamDecoder: ...

    def error_for(self, status: int, headers: Mapping[str, str], body: bytes) -> ByomError:
        """The typed error for a non-success HTTP response."""
        ...

    def generation_request(self, key: Secret | None, generation_id: str) -> HttpRequest | None:
        """A request for the real cost of a past generation, when the provider offers one."""
        ...

    def parse_generation(self, status: int, body: bytes) -> GenerationInfo | None:
        """The generation's cost; ``None`` while the provider does not know it yet (404)."""
        ...

    def key_info_request(self, key: Secret | None) -> HttpRequest | None: ...

    def parse_key_info(self, status: int, headers: Mapping[str, str], body: bytes) -> KeyInfo: ...

    def models_request(self, key: Secret | None) -> HttpRequest | None: ...

    def parse_models(self, body: bytes) -> Catalog: ...


def require_key(key: Secret | None) -> Secret:
    if key is None:
        from byom.core.errors import NotConnected

        raise NotConnected()
    return key
