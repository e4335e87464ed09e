"""The adapter contract and the plain-data HTTP request it produces.

An adapter is created for one base URL; its :attr:`Adapter.origin` is the only origin its
requests may go to, and transports enforce that (R2.4).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import urlsplit

from byom.core.catalog import Catalog, Price
from byom.core.errors import ByomError, InvalidRequest
from byom.core.secret import Secret
from byom.core.usage import ChatResult, Delta, GenerationInfo, KeyInfo, Usage


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped.

    Raises :class:`InvalidRequest` for anything but http(s) URLs with a host, or URLs carrying
    credentials.
    """
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
        """All headers with secrets revealed — for the transport, at the moment of sending."""
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
        return self._generation_id

    @property
    def complete(self) -> bool:
        return self._done

    def _result(self, usage: Usage | None, cost: Decimal | None = None) -> ChatResult:
        return ChatResult(
            text="".join(self._text),
            reasoning="".join(self._reasoning),
            usage=usage,
            cost=cost,
            generation_id=self._generation_id,
            finish_reason=self._finish,
            model=self._model,
        )


class StreamDecoder(Protocol):
    """Incremental parser of a streamed response body."""

    def feed(self, data: bytes) -> list[Delta]:
        """Consume bytes; return text deltas. Raises a :class:`ByomError` on a mid-stream error."""
        ...

    def close(self) -> ChatResult:
        """The body ended. Return the result; ``usage`` is ``None`` when it never arrived."""
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
        """What has arrived so far (used when the stream fails)."""
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
