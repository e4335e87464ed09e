"""``byom sim``: a provider simulator on loopback that every byom test talks to.

One HTTP server (standard library only, HTTP/1.1 keep-alive) speaks five wire formats:

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
Gemini         ``/v1beta/models/<m>:generateContent``,                ``<base>``
               ``…:streamGenerateContent?alt=sse``, ``/v1beta/models``
=============  =====================================================  =======================

Gemini's own ways (key header and its refusals, error bodies, thought signatures, streams
without an end marker) are described in ``byom.sim._gemini``; the rules below hold for it too.

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
Tools
    Offered tools: OpenAI-style ``tools`` (OpenRouter, OpenAI, Ollama's ``/v1`` and
    ``/api/chat``) ``{"type": "function", "function": {"name", "parameters"?}}``; Anthropic
    ``tools`` entries whose ``type`` is absent or ``"custom"`` (``name`` and ``input_schema``
    required). Anthropic server tools (``type`` like ``web_search_20250305``) are accepted and
    never called. Names match ``^[A-Za-z0-9_-]{1,64}$``. A malformed tool, ``tool_choice``,
    ``parallel_tool_calls``, ``response_format`` or Ollama ``format``, or a choice naming a tool
    that is not offered, answers 400 (so an adapter speaking the wrong shape is caught).
    Choice: OpenAI-style ``tool_choice`` ``"auto"`` (default), ``"none"``, ``"required"`` or
    ``{"type": "function", "function": {"name": N}}``; Anthropic ``{"type": "auto" | "any" |
    "tool" (with ``name``) | "none"}``; Ollama has none (auto). Forced: ``"required"``, a named
    function, Anthropic ``any`` or ``tool``.
    Step ``k`` = the number of earlier assistant messages carrying tool calls (a non-empty
    ``tool_calls`` list; Anthropic: a ``tool_use`` content block). The reply is a tool-call
    turn when tools are offered, the choice is not none, and the choice is forced or
    ``k < tool_steps`` (config, default 1); otherwise a text answer as above (or structured
    output, below).
    Calls per turn: ``parallel_tool_calls`` (config, default 1); 1 when the request sends
    ``parallel_tool_calls: false`` or Anthropic ``disable_parallel_tool_use: true``, or names
    the tool. Call ``i`` (from 0) calls the named tool; else config ``tool_name`` when set
    (offered or not — not offered, its arguments are ``{}``); else offered tool
    ``(k + i) % len(tools)``.
    Call ids: ``call_<n>_<i>`` (OpenRouter, OpenAI), ``toolu_<n>_<i>`` (Anthropic), none
    (Ollama native), ``n`` being the request's serial (the ``n`` of its reply id).
Tool arguments
    ``fit(schema, salt=k + i)`` of the tool's ``parameters`` / ``input_schema``, written as
    compact JSON (``dumps``: ASCII, exact decimals); ``tool_arguments`` computes it
    (``fit_schema`` for structured output). ``fit``: scalar leaves, in depth-first order, are
    numbered ``j = salt, salt + 1, …``; ``const`` → it, ``enum`` → its first value; ``anyOf`` /
    ``oneOf`` / ``allOf`` → the first; a local ``$ref`` (``#/…``) is followed; ``type`` a list →
    its first entry other than ``"null"``; no ``type``: object if ``properties`` or
    ``required``, array if ``items``, else string. object → every ``properties`` entry in
    order, then each ``required`` name missing from them (as a string); array →
    ``max(1, minItems)`` items (≤ ``maxItems``, ≤ 100) of ``items``; string → ``WORDS[j % 64]``
    (more words, one space apart, up to ``minLength``; cut at ``maxLength``); integer →
    ``j % 10``; number → ``j % 10 + 0.5``; both moved into ``minimum`` / ``maximum`` (and the
    exclusive bounds); boolean → ``j % 2 == 0``; null → ``null``; deeper than 32 levels →
    ``null``. At the top level, anything but an object (an absent or unknown schema) gives
    ``{}``.
    ``tool_argument_bytes`` N: the first string value with no ``maxLength`` (and not an enum or
    const) is lengthened with ``" amber anchor apple …"`` (the word list, cycled, cut) until the
    arguments text is ``max(N, its length)`` bytes; with no such string nothing is padded.
    ``malformed_tool_arguments``: the arguments text loses its last character (so is not JSON).
Tool-call replies
    OpenRouter/OpenAI: ``message.tool_calls`` ``[{id, "type": "function", "function": {name,
    arguments}}]`` (arguments: the text), ``content`` null (OpenRouter ``""``),
    ``finish_reason: "tool_calls"``. Anthropic: ``content`` is one ``tool_use`` block ``{type,
    id, name, input}`` per call, ``stop_reason: "tool_use"``. Ollama: ``message.tool_calls``
    ``[{"function": {name, arguments}}]``, ``content: ""``, ``done_reason: "stop"``. Anthropic
    ``input`` and Ollama ``arguments`` are the object — or, for malformed or cut arguments, the
    text, as a string. Generation records carry the normalised ``finish_reason``
    (``"tool_calls"``).
Tool streams
    OpenRouter/OpenAI: a first delta ``{"role": "assistant", "content": null}``; per call ``i``
    a start delta ``tool_calls: [{"index": i, id, "type": "function", "function": {name,
    "arguments": ""}}]`` and fragment deltas ``tool_calls: [{"index": i, "function":
    {"arguments": F}}]``, the arguments text in fragments of 8 characters, interleaved: in round
    ``r`` each call, in order, sends its start (``r == 0``) then its fragment ``r``; then an
    empty delta with ``finish_reason: "tool_calls"``, usage and ``[DONE]`` as for text.
    Anthropic: ``message_start``, ``ping``, then per call ``content_block_start`` (``tool_use``,
    ``input: {}``), ``content_block_delta`` ``input_json_delta`` ``partial_json`` fragments
    (8 characters), ``content_block_stop``; then ``message_delta`` (``stop_reason:
    "tool_use"``, output tokens) and ``message_stop``. Ollama: one line with the whole calls
    (``done: false``), then the final ``done: true`` line (``done_reason: "stop"``, counts).
    Each of these events (Ollama: the calls line) is a stream piece for ``stream_delay``,
    ``stream_hold_after`` and ``midstream_error`` (which sends half of them; Ollama none).
    ``stream_cut_in_tool_arguments`` (unless a fault was taken for the request): the stream
    sends the first ``ceil(C / 2)`` argument characters (``C``: all of them, in send order; a
    fragment may be split), then the connection closes — no finish, usage or end marker; Ollama
    sends the first half of the bytes of its calls line. It is recorded as cancelled.
Structured output
    When the reply is not a tool-call turn: OpenAI-style ``response_format`` ``{"type":
    "json_schema", "json_schema": {"name", "schema"}}`` or ``{"type": "json_object"}`` (schema
    ``{}``), or Ollama ``format`` (a schema, or ``"json"``: ``{}``) → the content is
    ``dumps(fit(schema, salt=0))``, cut at ``max_tokens`` and streamed like any reply text.
    Anthropic structured output is a forced tool (``tool_choice`` ``{"type": "tool", "name":
    N}``): the ``tool_use`` input fits N's ``input_schema``, as for any call.
    ``malformed_output``: that JSON loses its last character (Anthropic: the forced tool's
    input, sent as a string).
Billing tool turns
    ``completion_tokens = tokens(B)``, ``B = [{"name":N,"arguments":A},…]`` with each call's
    arguments text ``A`` inserted verbatim (for valid arguments: the compact JSON of the names
    and argument objects). When ``tokens(B) > max_tokens``, ``B`` is cut to fit (as for a
    reply) and the finish is ``"length"`` (Anthropic ``"max_tokens"``, Ollama ``done_reason:
    "length"``): each call keeps what of its arguments is left in the cut ``B``, and a call
    whose arguments begin past the cut is dropped (the first call always stays, perhaps with
    ``""``). Cost as for text (OpenRouter). A cut or errored tool stream bills ``tokens(B)``
    over the calls started, with the argument characters sent (Ollama: 0);
    ``cut_before_usage``: all of it.

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
    (``?since=<mark>``: only the requests after a mark) → ``[{id, format, model, tokens_prompt,
    tokens_completion, tokens_reasoning, cost (string or null), finish_reason, cancelled,
    streamed, created_at}]`` · ``GET /_sim/mark`` → ``{"mark": n}`` · ``POST /_sim/keys/revoke
    {"key": …}`` · ``POST /_sim/release`` (ends the waits and holds of the requests that have
    arrived).
    Config: ``generation_delay`` (s, default 0.5), ``reply_words`` (40),
    ``routed_price_multiplier`` ("1"), ``unavailable_models`` ([] → 502 "model down"),
    ``reject_stream_options`` (false; OpenAI format → 400), ``key_limit`` ("10" or null),
    ``enforce_key_limit`` (false; true → 402 ``openrouter_key_limit`` once usage ≥ limit),
    ``stream_delay`` (s between pieces, 0), ``stream_chunk_words`` (4), ``stream_hold_after``
    (null; N → every stream sends N content pieces, or all if fewer, then nothing more until the
    client hangs up, which records the cut, or until ``release``), ``extra_models``
    ([{id, prompt, completion, context_length?, max_completion_tokens?}] added to the OpenRouter
    catalog and answered like its own models),
    ``tool_steps`` (1), ``tool_name`` (null), ``parallel_tool_calls`` (1),
    ``tool_argument_bytes`` (null), ``malformed_tool_arguments`` (false),
    ``stream_cut_in_tool_arguments`` (false), ``malformed_output`` (false) — see Tools above,
    ``web_search_requests`` (0; N → Anthropic replies report ``usage.server_tool_use:
    {"web_search_requests": N}``, in a stream in ``message_delta``; no search is run);
    ``ollama_origins`` (null; a list → Ollama's paths answer a request whose ``Origin`` is not
    listed with a 403 and no CORS headers, as a real Ollama does for origins outside
    ``OLLAMA_ORIGINS``).

Pages (CORS)
    Every answer carries ``Access-Control-Allow-Origin: *`` and preflights are answered, as the
    cloud providers do — except Anthropic: a request with ``anthropic-version`` and an
    ``Origin`` (a page's call) but without ``anthropic-dangerous-direct-browser-access: true``
    gets a 401 without CORS headers, as api.anthropic.com answers it.

What was charged
    ``Simulator.mark()`` returns the latest request serial; ``generations(since=mark)`` lists
    the records of the requests after it, and ``charged(since=mark, prices=None)`` sums what
    they cost as a ``Decimal``: OpenRouter's reported ``cost``; for the other formats
    ``tokens_prompt × prompt price + tokens_completion × completion price`` with per-token
    prices from ``prices[model]`` or byom's bundled OpenAI / Anthropic price snapshot (Ollama's
    models: free). Cut and errored generations count by the tokens that were sent.

The simulator never logs and never writes request bodies or keys anywhere.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any, Final

from byom.sim._rules import (
    OLLAMA_MODELS,
    pkce_challenge,
    prompt_tokens,
    reply_text,
    structure_tokens,
    tokens,
    truncate,
)
from byom.sim._server import SimServer
from byom.sim._state import SimConfig, SimError, SimState
from byom.sim._tools import fit_schema, tool_arguments

_OLLAMA_MODEL_IDS: Final = frozenset(m[0] for m in OLLAMA_MODELS)
#: What ``connect``'s ``base_url`` adds to the simulator's address, per provider kind.
_KIND_SUFFIX: Final = {
    "openrouter": "/api/v1",
    "openai": "/v1",
    "anthropic": "",
    "gemini": "",
    "ollama": "",
    "compatible": "/v1",
}

__all__ = [
    "SimConfig",
    "SimError",
    "Simulator",
    "fit_schema",
    "pkce_challenge",
    "prompt_tokens",
    "reply_text",
    "structure_tokens",
    "tokens",
    "tool_arguments",
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

    def base_url_for(self, kind: str) -> str:
        """The ``base_url`` to pass to ``App.connect(kind, ...)`` to reach this simulator:
        ``openrouter`` → ``<base>/api/v1``, ``openai`` and ``compatible`` → ``<base>/v1``,
        ``anthropic``, ``gemini`` and ``ollama`` → ``<base>``. ``SimError`` for another kind."""
        suffix = _KIND_SUFFIX.get(kind)
        if suffix is None:
            raise SimError(f"the simulator serves no provider kind {kind[:40]!r}")
        return self.base_url + suffix

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

    def generations(self, since: int = 0) -> list[dict[str, object]]:
        """Generation records, as ``GET /_sim/generations``; with ``since`` (a :meth:`mark`),
        only those of the requests that came after it."""
        return [g.as_json() for g in self._state.generations(since)]

    def mark(self) -> int:
        """A point in the request sequence, for ``generations(since=)`` and ``charged(since=)``.

        Every chat request the simulator answers gets the next serial when it is planned (after
        its key, body and model were accepted); a mark is the latest serial handed out, so the
        requests made after ``mark()`` returns are exactly those "since" it.
        """
        return self._state.mark()

    def charged(
        self, since: int = 0, prices: Mapping[str, tuple[Decimal, Decimal]] | None = None
    ) -> Decimal:
        """What the simulator charged for the requests since ``since`` (a :meth:`mark`), in USD.

        Every recorded generation counts — cut and errored ones by the completion tokens that
        were sent. OpenRouter's is the ``cost`` it reported. The other formats carry no cost:
        theirs is ``tokens_prompt × prompt price + tokens_completion × completion price`` with
        the per-token prices of ``prices[model]`` (``(prompt, completion)``) when given, else of
        byom's bundled price snapshot for OpenAI and Anthropic models; Ollama's models (native or
        on ``/v1``) are free. A model with no known price raises ``SimError``.
        """
        total = Decimal(0)
        for generation in self._state.generations(since):
            if generation.cost is not None:
                total += generation.cost
                continue
            prompt, completion = _price_of(generation.format, generation.model, prices)
            total += generation.tokens_prompt * prompt + generation.tokens_completion * completion
        return total

    def release(self) -> None:
        """End the ``slow_first_byte`` wait and ``stream_hold_after`` hold of every request that
        has arrived (counted in ``counts()``), now or when it gets there; they carry on. Requests
        arriving later wait and hold as usual."""
        self._state.release()

    def revoke_key(self, key: str) -> None:
        """Make ``key`` answer 401 from now on (until ``reset``)."""
        self._state.revoke(key)


def _price_of(
    fmt: str, model: str, prices: Mapping[str, tuple[Decimal, Decimal]] | None
) -> tuple[Decimal, Decimal]:
    """Per-token (prompt, completion) prices of a model the simulator served without a cost."""
    if prices is not None and model in prices:
        prompt, completion = prices[model]
        return Decimal(prompt), Decimal(completion)
    if fmt == "ollama" or model in _OLLAMA_MODEL_IDS:
        return Decimal(0), Decimal(0)
    if fmt in ("openai", "anthropic", "gemini"):
        from byom.catalogs import bundled  # the shell's snapshot: loaded only when asked

        entry = bundled(fmt).get(model)
        if entry is not None and entry.price is not None:
            return entry.price.prompt, entry.price.completion
    raise SimError(f"no price for {fmt} model {model}: pass prices={{model: (prompt, completion)}}")
