"""``byom sim``: a provider simulator on loopback that every byom test talks to.

One HTTP server (standard library only, HTTP/1.1 keep-alive) speaks four wire formats:

=============  =====================================================  =======================
format         paths                                                  base URL for a client
=============  =====================================================  =======================
OpenRouter     ``/api/v1/chat/completions``, ``/api/v1/models``,      ``<base>/api/v1``
               ``/api/v1/models/<id>/endpoints``,
               ``/api/v1/generation?id=``, ``/api/v1/key``,
               ``/api/v1/auth/key``, ``/api/v1/auth/keys``, ``/auth``
OpenAI         ``/v1/chat/completions``, ``/v1/models``               ``<base>/v1``
Anthropic      ``/v1/messages``, ``/v1/messages/count_tokens``,       ``<base>``
               ``/v1/models`` (when ``anthropic-version`` is sent)
Ollama         ``/api/chat``, ``/api/tags`` (and ``/v1`` as OpenAI)   ``<base>``
=============  =====================================================  =======================

Deterministic rules (other byom code and tests depend on these exactly)
-----------------------------------------------------------------------
Tokens
    ``tokens(text) = ceil(len(text.encode("utf-8")) / 3)``.
    A message's text is its ``content`` when a string; when a list, the ``text`` of its
    ``{"type": "text", "text": …}`` parts concatenated with no separator; otherwise "".
    ``prompt_tokens = sum(tokens(text) + 3 for each message) + 3``. Anthropic's top-level
    ``system`` (string or text blocks) counts as one more message, placed first. Structure is
    billed too (``structure_tokens``): ``tokens()`` of the compact JSON of the top-level
    ``tools`` / ``functions`` / ``tool_choice`` / ``function_call`` / ``response_format`` /
    ``format`` present (one object), of each message's fields besides ``role`` / ``content`` /
    ``images`` (``tool_calls``, ``tool_call_id``, ``name``, …), and of each content part that is
    neither text nor an image (``tool_use``, ``tool_result``, …); images are not billed. This
    never exceeds UTF-8 bytes (text and that JSON) + 4 per message + 3. ``count_tokens`` returns
    the same figure.
Reply
    ``seed = sha256("\\n".join(message texts))`` (system first for Anthropic); block ``i`` is
    ``sha256(seed + i.to_bytes(4, "big"))``; its bytes, in order, pick ``WORDS[b % 64]`` from
    the fixed 64-word list in ``byom.sim._rules`` until ``reply_words`` (config, default 40)
    words are chosen. Reply = ``"Simulated reply: " + " ".join(words) + "."`` (with 0 words:
    ``"Simulated reply."``). The model does not change the reply; the prompt is never echoed.
    ``completion_tokens = tokens(reply)``.
max_tokens
    OpenRouter/OpenAI ``max_tokens`` or ``max_completion_tokens`` (the smaller when both),
    Anthropic ``max_tokens`` (required, ≥ 1), Ollama ``options.num_predict`` (< 0 = none).
    If ``tokens(reply) > max_tokens`` the reply loses characters from its end until
    ``tokens(reply) <= max_tokens`` and the finish is ``"length"`` (Anthropic stop_reason
    ``"max_tokens"``, Ollama ``done_reason: "length"``); otherwise ``"stop"`` / ``"end_turn"``.
Reasoning
    If any message text contains ``[[reasoning-only]]`` (OpenRouter and OpenAI formats only), the
    content is ``""``; OpenRouter carries the reply in ``message.reasoning`` (``delta.reasoning``
    when streaming); ``reasoning_tokens = completion_tokens``.
Cost (OpenRouter only; other formats carry none)
    ``cost = prompt_tokens × prompt price + completion_tokens × completion price`` as an exact
    ``Decimal`` with per-token prices. Without ``provider.max_price`` the prices are the catalog's
    × ``routed_price_multiplier`` (config, default 1: routing to a pricier provider). With
    ``provider.max_price`` (USD per million tokens) the catalog price × 1 000 000 must be ≤ each
    given bound, else 503; then the catalog price itself is charged.
    Money is written as plain JSON numbers with exact decimal text (``0.0000375``), never floats.
Stream pieces
    The reply is split on spaces into pieces of ``stream_chunk_words`` (default 4) words, the
    separating space kept at the end of a piece, so the pieces concatenate to the reply.
Ids
    OpenRouter ``gen-<n>-<hex>``, OpenAI ``chatcmpl-sim<n><hex>``, Anthropic ``msg_sim<n><hex>``
    where ``n`` counts from 1 after start or reset.

Keys
    Any non-empty key is valid except keys starting with ``sk-sim-bad`` and keys revoked through
    control; Ollama needs none. Keys are never stored or echoed: the ``/key`` label is
    ``"sk-or-v1-sim…"`` plus six hex digits of the key's SHA-256.

Faults
    A FIFO queue; each request to one of the four chat endpoints takes the head when it arrives
    (whatever happens to it afterwards). ``{"status": 400|401|402|403|404|408|413|429|500|502|
    503|529}`` (429 with ``"retry_after"``, default 1 → header ``Retry-After``),
    ``{"kind": "slow_first_byte", "seconds": S}`` (ends early when the client hangs up or on
    ``release``), ``{"kind": "cut_before_usage"}`` (stream: all
    content, then the connection drops; non-stream: headers, then it drops),
    ``{"kind": "midstream_error", "code": 502}`` (stream: half the content, then an error event on
    the HTTP 200; non-stream OpenRouter: HTTP 200 body with ``error`` and finish ``"error"``;
    other formats: that status), ``{"kind": "malformed_json"}`` (200 with a truncated JSON body,
    or a garbage stream event then the end), ``{"kind": "finish_error"}`` (finish ``"error"``;
    Anthropic ``stop_reason: "refusal"``).
    A cut or errored generation is recorded with the full prompt and the completion tokens that
    were sent (``cancelled: true`` for a cut); a client that hangs up mid-stream counts as a cut.

Control endpoints (no auth, JSON; ``Simulator`` methods mirror them)
    ``GET /_sim/requests`` → ``{path: count}`` (counted on arrival; preflights as
    ``"OPTIONS <path>"``) · ``POST /_sim/reset`` · ``POST /_sim/faults {"faults": [...]}`` →
    ``{"queued": n, "faults": [...]}`` · ``GET /_sim/faults`` → ``{"faults": [...]}`` ·
    ``POST /_sim/config {partial}`` / ``GET /_sim/config`` → full config · ``GET /_sim/generations``
    → ``[{id, format, model, tokens_prompt, tokens_completion, tokens_reasoning, cost (string or
    null), finish_reason, cancelled, streamed, created_at}]`` · ``POST /_sim/keys/revoke
    {"key": …}`` · ``POST /_sim/release`` (ends the waits and holds of the requests that have
    arrived).
    Config: ``generation_delay`` (s, default 0.5), ``reply_words`` (40),
    ``routed_price_multiplier`` ("1"), ``unavailable_models`` ([] → 502 "model down"),
    ``reject_stream_options`` (false; OpenAI format → 400), ``key_limit`` ("10" or null),
    ``enforce_key_limit`` (false; true → 402 ``openrouter_key_limit`` once usage ≥ limit),
    ``stream_delay`` (s between pieces, 0), ``stream_chunk_words`` (4), ``stream_hold_after``
    (null; N → every stream sends N content pieces, or all if fewer, then nothing more until the
    client hangs up, which records the cut, or until ``release``), ``extra_models``
    ([{id, prompt, completion, context_length?}] added to the OpenRouter catalog).

The simulator never logs and never writes request bodies or keys anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from byom.sim._rules import (
    pkce_challenge,
    prompt_tokens,
    reply_text,
    structure_tokens,
    tokens,
    truncate,
)
from byom.sim._server import SimServer
from byom.sim._state import SimConfig, SimError, SimState

__all__ = [
    "SimConfig",
    "SimError",
    "Simulator",
    "pkce_challenge",
    "prompt_tokens",
    "reply_text",
    "structure_tokens",
    "tokens",
    "truncate",
]


class Simulator:
    """A running provider simulator on loopback.

    ``Simulator(host, port=0, **config)`` binds nothing until ``start()``; keyword config sets the
    defaults that ``reset()`` returns to. Use it as a context manager::

        with Simulator() as sim:
            client = OpenAI(base_url=sim.openrouter_base, api_key="sk-or-test")
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        self._host = host
        self._port = port
        self._state = SimState(SimConfig().updated(config))
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Simulator:
        """Bind and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            return self
        server = SimServer((self._host, self._port), self._state)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="byom-sim",
            daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` (Anthropic and Ollama clients use it as is)."""
        host = self._host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def openrouter_base(self) -> str:
        """``base_url + "/api/v1"``."""
        return self.base_url + "/api/v1"

    @property
    def openai_base(self) -> str:
        """``base_url + "/v1"`` (OpenAI and Ollama's OpenAI-compatible API)."""
        return self.base_url + "/v1"

    # ------------------------------------------------------------------ control

    def reset(self) -> None:
        """Clear counters, faults, generations, key usage, revocations, codes; default config."""
        self._state.reset()

    def push_faults(self, faults: Iterable[Mapping[str, object]]) -> int:
        """Append faults to the queue (validated; ``SimError`` if bad); returns the queue length."""
        return self._state.push_faults(faults)

    def faults(self) -> list[dict[str, object]]:
        """The pending fault queue."""
        return self._state.faults()

    def counts(self) -> dict[str, int]:
        """Requests per path, as ``GET /_sim/requests``."""
        return self._state.counts()

    def config(self, **changes: Any) -> dict[str, object]:
        """Apply ``changes`` (any subset of the config) and return the full config as JSON data."""
        if changes:
            return self._state.configure(changes).as_json()
        return self._state.config.as_json()

    def generations(self) -> list[dict[str, object]]:
        """Generation records, as ``GET /_sim/generations``."""
        return [g.as_json() for g in self._state.generations()]

    def release(self) -> None:
        """End the ``slow_first_byte`` wait and ``stream_hold_after`` hold of every request that
        has arrived (counted in ``counts()``), now or when it gets there; they carry on. Requests
        arriving later wait and hold as usual."""
        self._state.release()

    def revoke_key(self, key: str) -> None:
        """Make ``key`` answer 401 from now on (until ``reset``)."""
        self._state.revoke(key)
