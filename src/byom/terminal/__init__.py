"""byom in the terminal (the ``terminal`` extra, built on ``rich``).

An app author writes::

    from byom.terminal import Terminal

    term = Terminal(app)                      # nothing happens yet: no screen, no network
    reply = term.run("summarize", messages)   # first use: the wizard, then the reply + its cost
    result = term.run_agent("ask", messages, tools=[search_notes], max_cost="0.05")  # App.run

(``Terminal(app, provider="ollama")`` for another provider kind: each kind has its own wizard
path) and a first-time key holder gets the whole contract: the wizard in the right order
(R5.2, R5.3), OAuth PKCE instead of copy-paste (R5.4), a live cost line with a session total
(R4.1), a Ctrl-C guard while paid work is in flight (R4.5) and errors in plain words, in English
or Dutch (R5.6).
A run shows as one run: its steps, the tools each asked for (by name only), its cost against
its ceiling, and why it stopped; Ctrl-C asks before abandoning it, between steps too.
The ``byom`` command (``byom status``, ``model``, ``budget``, ``key``, ``history``) is the
connection surface that stays reachable afterwards (R5.5).

Importing this package is cheap; ``rich`` loads when something is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from byom.app import App
    from byom.terminal.errors import describe_error
    from byom.terminal.live import CostLine, CtrlCGuard, Terminal, guard
    from byom.terminal.wizard import Wizard

_LAZY = {
    "Terminal": "byom.terminal.live",
    "CostLine": "byom.terminal.live",
    "CtrlCGuard": "byom.terminal.live",
    "guard": "byom.terminal.live",
    "Wizard": "byom.terminal.wizard",
    "describe_error": "byom.terminal.errors",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'byom.terminal' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def connect(app: App, feature: str, **options: Any) -> bool:
    """Run the connection wizard for ``feature`` (e.g. on :class:`byom.errors.NotConnected`).

    Returns True when the app is connected afterwards. Without a terminal it prints how to
    connect and returns False instead of waiting for input. ``options`` are those of
    :class:`Terminal` (``lang``, ``base_url``, ``opener`` …).
    """
    from byom.terminal.live import Terminal

    with Terminal(app, **options) as term:
        return term.connect(feature, then_run=False)


__all__ = [
    "CostLine",
    "CtrlCGuard",
    "Terminal",
    "Wizard",
    "connect",
    "describe_error",
    "guard",
]
