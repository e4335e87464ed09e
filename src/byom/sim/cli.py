"""``byom sim``: run the provider simulator in the foreground, with its faults and scripting.

The first line on stdout is the base URL (so a parent process can read it and connect); a short
human line goes to stderr with the base URL to give each provider kind; the server runs until
SIGINT or SIGTERM, then the command returns 0.

Faults make the simulator answer the next chat requests, in order, with an error or a broken
reply, so a developer can test their own error handling: ``--fault 401`` (bad key), ``402`` (out
of credit), ``403`` (moderation), ``429`` (rate limited), ``500``/``502``/``503``/``529``, ``cut``
(the stream stops before usage), ``midstream`` (an error event halfway through a stream),
``slow:SECONDS`` (no first byte for that long), ``malformed`` (a body that is not JSON),
``finish-error`` (a reply that ends with an error). ``SPEC*N`` queues it N times. The config
options (``--stream-delay``, ``--unavailable-model``, ``--tool-steps`` …) hold for every request.

``--push URL`` changes a simulator that is already running (its control endpoints) instead of
starting one: queue faults or change the config, print the queue, and exit.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType
from typing import Any

#: The fault words of ``--fault``, and the fault each one queues (see ``byom.sim``'s Faults).
FAULT_WORDS: dict[str, dict[str, object]] = {
    "cut": {"kind": "cut_before_usage"},
    "midstream": {"kind": "midstream_error", "code": 502},
    "malformed": {"kind": "malformed_json"},
    "finish-error": {"kind": "finish_error"},
}
#: Most faults one ``SPEC*N`` may queue.
MAX_REPEAT = 10_000


def parse_fault(spec: str) -> list[dict[str, object]]:
    """``"429"`` → ``[{"status": 429}]``; ``"cut*2"`` → two ``cut_before_usage`` faults;
    ``"slow:2.5"`` → ``[{"kind": "slow_first_byte", "seconds": 2.5}]``; ``"429:7"`` → a 429 with
    ``Retry-After: 7``. Raises ``ValueError`` with a readable reason for anything else."""
    text, _, times = spec.strip().partition("*")
    count = 1
    if times:
        if not times.isdigit() or not 1 <= int(times) <= MAX_REPEAT:
            raise ValueError(f"{spec!r}: the count after * must be 1 to {MAX_REPEAT}")
        count = int(times)
    word, _, argument = text.partition(":")
    fault: dict[str, object]
    if word.isdigit():
        fault = {"status": int(word)}
        if argument:
            if int(word) != 429 or not argument.isdigit():
                raise ValueError(f"{spec!r}: only 429 takes a wait, in whole seconds (429:7)")
            fault["retry_after"] = int(argument)
    elif word == "slow":
        try:
            seconds = float(argument or "1")
        except ValueError:
            raise ValueError(f"{spec!r}: slow takes seconds, e.g. slow:2.5") from None
        fault = {"kind": "slow_first_byte", "seconds": seconds}
    elif word == "midstream" and argument:
        if not argument.isdigit():
            raise ValueError(f"{spec!r}: midstream takes an HTTP status, e.g. midstream:502")
        fault = {"kind": "midstream_error", "code": int(argument)}
    elif word in FAULT_WORDS and not argument:
        fault = dict(FAULT_WORDS[word])
    else:
        words = ", ".join(["401", "402", "403", "429", "429:SECONDS", "500", "502", "503", "529"])
        raise ValueError(
            f"unknown fault {spec!r}; use a status ({words}), cut, midstream[:STATUS], "
            "slow:SECONDS, malformed or finish-error, optionally followed by *N"
        )
    from byom.sim._state import SimError, normalize_fault

    try:
        normal = normalize_fault(fault)
    except SimError as error:
        raise ValueError(f"{spec!r}: {error}") from None
    return [dict(normal) for _ in range(count)]


def _fault(spec: str) -> list[dict[str, object]]:
    try:
        return parse_fault(spec)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _extra_model(spec: str) -> dict[str, object]:
    """``ID:PROMPT:COMPLETION[:CONTEXT]`` with per-token USD prices."""
    parts = spec.rsplit(":", 3)
    if not (len(parts) == 4 and _number(parts[1]) and parts[3].isdigit()):
        parts = spec.rsplit(":", 2)  # an id may hold colons itself (llama3.2:3b)
    if len(parts) not in (3, 4) or not parts[0] or not all(_number(p) for p in parts[1:3]):
        raise argparse.ArgumentTypeError(
            f"{spec!r}: use ID:PROMPT:COMPLETION[:CONTEXT] (USD per token)"
        )
    model: dict[str, object] = {"id": parts[0], "prompt": parts[1], "completion": parts[2]}
    if len(parts) == 4:
        if not parts[3].isdigit():
            raise argparse.ArgumentTypeError(f"{spec!r}: the context length is a whole number")
        model["context_length"] = int(parts[3])
    return model


def register(subparsers: Any) -> None:
    """Add the ``sim`` sub-command (imports stay cheap: the server loads in the handler)."""
    parser = subparsers.add_parser(
        "sim",
        help=(
            "run the provider simulator (OpenRouter, OpenAI, Anthropic, Gemini, Ollama) on loopback"
        ),
        description=(
            "Serve simulated OpenRouter (/api/v1), OpenAI (/v1), Anthropic (/v1/messages), "
            "Gemini (/v1beta) and Ollama (/api) endpoints for tests. Prints the base URL as the "
            "first line of stdout. Base URL to connect with, per provider kind: openrouter "
            "BASE/api/v1, openai BASE/v1, anthropic BASE, gemini BASE, ollama BASE, compatible "
            "BASE/v1."
        ),
        epilog=(
            "faults (answered by the next chat requests, in order): 401 bad key · 402 out of "
            "credit · 403 moderation · 429[:SECONDS] rate limited · 500 502 503 529 provider "
            "down · cut: the stream stops before usage · midstream[:STATUS]: an error halfway "
            "through a stream · slow:SECONDS: no first byte for that long · malformed: a body "
            "that is not JSON · finish-error: a reply that ends with an error. SPEC*N repeats "
            "one. Example: byom sim --fault 429 --fault cut --stream-delay 0.2"
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument(
        "--generation-delay",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds before /generation finds a finished generation (default 0.5)",
    )
    parser.add_argument(
        "--reply-words", type=int, default=None, metavar="N", help="words per reply (default 40)"
    )
    faults = parser.add_argument_group("faults and scripting")
    faults.add_argument(
        "--fault",
        dest="faults",
        action="append",
        type=_fault,
        default=[],
        metavar="SPEC",
        help="queue a fault for the next chat request (repeatable; see below)",
    )
    faults.add_argument(
        "--stream-delay",
        type=float,
        default=None,
        metavar="SECONDS",
        help="a slow reply: seconds between the pieces of every stream (default 0)",
    )
    faults.add_argument(
        "--stream-chunk-words", type=int, default=None, metavar="N", help="words per stream piece"
    )
    faults.add_argument(
        "--stream-hold-after",
        type=int,
        default=None,
        metavar="N",
        help="every stream sends N pieces, then waits until the client hangs up",
    )
    faults.add_argument(
        "--unavailable-model",
        dest="unavailable_models",
        action="append",
        default=None,
        metavar="ID",
        help="answer 502 (model down) for this model (repeatable)",
    )
    faults.add_argument(
        "--ollama-origin",
        dest="ollama_origins",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="the simulated Ollama answers only pages from this origin, as a real Ollama "
        "answers only those in OLLAMA_ORIGINS (repeatable; default: every origin)",
    )
    faults.add_argument(
        "--reject-stream-options",
        action="store_true",
        default=None,
        help="the OpenAI format answers 400 to stream_options (as some compatible servers do)",
    )
    faults.add_argument(
        "--key-limit", default=None, metavar="USD", help="the key's credit limit /key reports"
    )
    faults.add_argument(
        "--enforce-key-limit",
        action="store_true",
        default=None,
        help="answer 402 once the key's usage reaches its limit",
    )
    faults.add_argument(
        "--routed-price-multiplier",
        default=None,
        metavar="X",
        help="OpenRouter charges the listed price times X (routing to a dearer provider)",
    )
    faults.add_argument(
        "--extra-model",
        dest="extra_models",
        action="append",
        type=_extra_model,
        default=None,
        metavar="ID:PROMPT:COMPLETION[:CONTEXT]",
        help="add a model to the OpenRouter list (USD per token; repeatable)",
    )
    faults.add_argument(
        "--tool-steps", type=int, default=None, metavar="N", help="tool-call turns before answering"
    )
    faults.add_argument("--tool-name", default=None, metavar="NAME", help="the tool always called")
    faults.add_argument(
        "--parallel-tool-calls", type=int, default=None, metavar="N", help="tool calls per turn"
    )
    faults.add_argument(
        "--tool-argument-bytes", type=int, default=None, metavar="N", help="pad tool arguments"
    )
    faults.add_argument(
        "--web-search-requests",
        type=int,
        default=None,
        metavar="N",
        help="Anthropic replies report N server-side web searches in their usage",
    )
    for flag, text in (
        ("--malformed-tool-arguments", "tool arguments that are not JSON"),
        ("--stream-cut-in-tool-arguments", "streams stop halfway through tool arguments"),
        ("--malformed-output", "structured output that is not JSON"),
    ):
        faults.add_argument(flag, action="store_true", default=None, help=text)
    faults.add_argument(
        "--revoke-key",
        dest="revoke_keys",
        action="append",
        default=[],
        metavar="KEY",
        help="answer 401 for this key from now on (repeatable)",
    )
    faults.add_argument(
        "--push",
        metavar="URL",
        default=None,
        help="change the simulator already running at URL (faults, config) and exit",
    )
    faults.add_argument(
        "--reset",
        action="store_true",
        help="with --push: first back to the config it started with, no faults",
    )
    faults.add_argument(
        "--release",
        action="store_true",
        help="with --push: let held requests (slow:, --stream-hold-after) carry on",
    )
    parser.set_defaults(func=run)


_CONFIG_ARGS = (
    "generation_delay",
    "reply_words",
    "stream_delay",
    "stream_chunk_words",
    "stream_hold_after",
    "unavailable_models",
    "reject_stream_options",
    "key_limit",
    "enforce_key_limit",
    "routed_price_multiplier",
    "extra_models",
    "tool_steps",
    "tool_name",
    "parallel_tool_calls",
    "tool_argument_bytes",
    "malformed_tool_arguments",
    "stream_cut_in_tool_arguments",
    "malformed_output",
    "web_search_requests",
    "ollama_origins",
)


def config_of(args: argparse.Namespace) -> dict[str, object]:
    """The simulator config the options ask for (only those given)."""
    return {
        name: getattr(args, name) for name in _CONFIG_ARGS if getattr(args, name, None) is not None
    }


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM (or, with ``--push``, change a running one); returns 0."""
    from byom.sim import SimError, Simulator

    config = config_of(args)
    faults = [fault for group in args.faults for fault in group]
    if args.push:
        return _push(
            args.push, config, faults, args.revoke_keys, reset=args.reset, release=args.release
        )
    if args.reset or args.release:
        sys.stderr.write("byom sim: --reset and --release go with --push URL\n")
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        sim = Simulator(args.host, args.port, **config)
    except SimError as error:
        sys.stderr.write(f"byom sim: {error}\n")
        return 2
    previous: dict[signal.Signals, Any] = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    sim.start()
    try:
        sim.push_faults(faults)
        for key in args.revoke_keys:
            sim.revoke_key(key)
        sys.stdout.write(sim.base_url + "\n")
        sys.stdout.flush()
        base = sim.base_url
        queued = f"; {len(faults)} fault(s) queued" if faults else ""
        sys.stderr.write(
            f"byom sim: serving simulated providers on {base}{queued}; Ctrl-C to stop\n"
            f"  connect with base_url= openrouter {sim.base_url_for('openrouter')} · "
            f"openai {sim.base_url_for('openai')} · anthropic {sim.base_url_for('anthropic')} "
            f"· gemini {sim.base_url_for('gemini')} · ollama {sim.base_url_for('ollama')} · "
            "compatible "
            f"{sim.base_url_for('compatible')}\n"
        )
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _push(
    url: str,
    config: dict[str, object],
    faults: list[dict[str, object]],
    revoke: list[str],
    *,
    reset: bool = False,
    release: bool = False,
) -> int:
    """Send config, faults and revocations to a running simulator's control endpoints."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write("byom sim --push: give the simulator's http://127.0.0.1:PORT address\n")
        return 2
    base = f"http://{parts.netloc}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(path: str, body: object) -> Any:
        request = urllib.request.Request(  # noqa: S310 (http on loopback, checked above)
            base + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with opener.open(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    try:
        if reset:
            post("/_sim/reset", {})
        if release:
            post("/_sim/release", {})
        if config:
            post("/_sim/config", config)
        for key in revoke:
            post("/_sim/keys/revoke", {"key": key})
        queue = post("/_sim/faults", {"faults": faults}) if faults else None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        sys.stderr.write(f"byom sim --push: the simulator at {base} refused: {reason}\n")
        return 1
    if queue is not None:
        sys.stdout.write(json.dumps(queue) + "\n")
    return 0
