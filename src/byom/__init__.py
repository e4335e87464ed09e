"""byom — bring your own model.

Apps whose model features run on the user's own key: the key stays on the device and goes only to
the provider; a budget guard stops runaway spend; the real cost of every request is shown and
kept in a local history.

    import byom
    app = byom.App("Paper digest", app_id="paper-digest",
                   features=[byom.Feature("summarize", "worker", "Summary")])
    app.connect("openrouter", key="sk-or-...")
    reply = app.chat("summarize", [{"role": "user", "content": "..."}], max_tokens=300)
    print(byom.format_money(reply.cost))    # "$0.000064", or "unknown" when cost is None

``import byom`` is cheap and does no I/O: the HTTP client and the store load on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: ``byom --help`` does not import typing
if TYPE_CHECKING:
    from typing import Any

    from byom import errors
    from byom.app import App
    from byom.core.events import (
        Failed,
        Landed,
        Pending,
        Refused,
        RunFinished,
        RunStarted,
        StepLanded,
    )
    from byom.core.features import Feature
    from byom.core.ledger import Allowance
    from byom.core.money import format_money
    from byom.core.run import RunDone, RunResult
    from byom.core.secret import Secret
    from byom.core.tools import Tool
    from byom.core.usage import Delta, Done, Reply, ToolCall, Usage

_LAZY = {
    "App": "byom.app",
    "Feature": "byom.core.features",
    "Secret": "byom.core.secret",
    "Reply": "byom.core.usage",
    "Usage": "byom.core.usage",
    "Delta": "byom.core.usage",
    "Done": "byom.core.usage",
    "Allowance": "byom.core.ledger",
    "Pending": "byom.core.events",
    "Landed": "byom.core.events",
    "Refused": "byom.core.events",
    "Failed": "byom.core.events",
    "RunStarted": "byom.core.events",
    "StepLanded": "byom.core.events",
    "RunFinished": "byom.core.events",
    "RunDone": "byom.core.run",
    "RunResult": "byom.core.run",
    "Tool": "byom.core.tools",
    "ToolCall": "byom.core.usage",
    "format_money": "byom.core.money",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "errors":  # the submodule, also on first use (``byom --help`` needs none of it)
        value: Any = importlib.import_module("byom.errors")
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'byom' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Allowance",
    "App",
    "Delta",
    "Done",
    "Failed",
    "Feature",
    "Landed",
    "Pending",
    "Refused",
    "Reply",
    "RunDone",
    "RunFinished",
    "RunResult",
    "RunStarted",
    "Secret",
    "StepLanded",
    "Tool",
    "ToolCall",
    "Usage",
    "__version__",
    "errors",
    "format_money",
]
