"""``byom sim``: run the provider simulator in the foreground.

The first line on stdout is the base URL (so a parent process can read it and connect); a short
human line goes to stderr; the server runs until SIGINT or SIGTERM, then the command returns 0.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``sim`` sub-command (imports stay cheap: the server loads in the handler)."""
    parser = subparsers.add_parser(
        "sim",
        help="run the provider simulator (OpenRouter, OpenAI, Anthropic, Gemini, Ollama)",
        description=(
            "Serve simulated OpenRouter (/api/v1), OpenAI (/v1), Anthropic (/v1/messages), "
            "Gemini (/v1beta) and Ollama (/api) endpoints for tests. Prints the base URL as the "
            "first line of stdout."
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
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns 0."""
    from byom.sim import Simulator

    config: dict[str, object] = {}
    if args.generation_delay is not None:
        config["generation_delay"] = args.generation_delay
    if args.reply_words is not None:
        config["reply_words"] = args.reply_words
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    sim = Simulator(args.host, args.port, **config).start()
    try:
        sys.stdout.write(sim.base_url + "\n")
        sys.stdout.flush()
        sys.stderr.write(
            f"byom sim: serving simulated providers on {sim.base_url} "
            f"(OpenRouter at {sim.openrouter_base}); Ctrl-C to stop\n"
        )
        sys.stderr.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
