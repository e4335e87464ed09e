"""Check 11, ``max-tokens``: every model request bounds its output (R7.4, pitfall 1).

A budget guard that assumes an output size the provider never enforces guards nothing: without
``max_tokens`` a reply may run to the model's whole output limit. Every model request the app
sent is read from the recorded traffic:

- OpenAI-style bodies (OpenRouter, OpenAI, compatible servers): ``max_tokens`` or
  ``max_completion_tokens``; Anthropic ``/messages``: ``max_tokens``; Ollama ``/api/chat`` and
  ``/api/generate``: ``options.num_predict``; Gemini ``…:generateContent`` and
  ``…:streamGenerateContent``: ``generationConfig.maxOutputTokens`` (the model is in the path).
- The value is a positive integer, and no larger than the model's output limit
  (``max_completion_tokens`` of the catalog, else its context length) where the catalog says.

The evidence is the body's *shape* — its keys and the types and sizes of their values, the model
id — never its content: the prompt is the user's.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from byom.audit.model import FAIL, PASS, UNCHECKED, CheckResult
from byom.audit.network import Recorded

OUTPUT_FIELDS = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True, slots=True)
class Limit:
    """What the catalog says about a model's output."""

    context_length: int | None
    max_completion_tokens: int | None

    @property
    def output(self) -> int | None:
        return self.max_completion_tokens or self.context_length


def shape(value: Any, depth: int = 0) -> Any:
    """The shape of a JSON value: keys kept; strings, numbers and lists reduced to their type
    and size (the ``model`` id is kept: it is not the user's content)."""
    if isinstance(value, Mapping):
        if depth > 3:
            return f"object, {len(value)} key(s)"
        return {
            str(k): (v if k == "model" and isinstance(v, str) else shape(v, depth + 1))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return f"list of {len(value)}"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return f"string, {len(value)} chars"
    return "null" if value is None else type(value).__name__


def bound_of(path: str, body: Mapping[str, Any]) -> tuple[str | None, Any]:
    """The field that bounds the output, and its value (``None, None``: no bound)."""
    if path.endswith((":generateContent", ":streamGenerateContent")):  # Gemini
        config = body.get("generationConfig")
        if isinstance(config, Mapping) and "maxOutputTokens" in config:
            return "generationConfig.maxOutputTokens", config["maxOutputTokens"]
        return None, None
    if path.endswith(("/api/chat", "/api/generate")):
        options = body.get("options")
        if isinstance(options, Mapping) and "num_predict" in options:
            return "options.num_predict", options["num_predict"]
        return None, None
    for name in OUTPUT_FIELDS:
        if name in body:
            return name, body[name]
    return None, None


@dataclass(frozen=True, slots=True)
class Finding:
    request: Recorded
    ok: bool
    summary: str
    shape: Any


def judge(request: Recorded, limits: Mapping[str, Limit]) -> Finding:
    """One recorded model request against the rule."""
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        body = None
    if not isinstance(body, Mapping):
        return Finding(request, False, "the body is not a JSON object", None)
    body_shape = shape(body)
    model = body.get("model") if isinstance(body.get("model"), str) else None
    if model is None and "/models/" in request.path:  # Gemini names the model in the path
        model = request.path.rsplit("/models/", 1)[1].split(":", 1)[0] or None
    name, value = bound_of(request.path, body)
    about = f"request {request.seq} ({model or 'no model'})"
    if name is None:
        missing = f"{about}: no max_tokens or max_completion_tokens"
        return Finding(request, False, missing, body_shape)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return Finding(request, False, f"{about}: {name} is not a positive integer", body_shape)
    limit = limits.get(model) if model else None
    if limit is not None and limit.output is not None and value > limit.output:
        return Finding(
            request,
            False,
            f"{about}: {name} = {value} is above the model's output limit of {limit.output}",
            body_shape,
        )
    where = f" (model limit {limit.output})" if limit is not None and limit.output else ""
    return Finding(request, True, f"{about}: {name} = {value}{where}", body_shape)


def catalog_limits(catalog: Mapping[str, Any]) -> dict[str, Limit]:
    """Model id → limits, from an OpenRouter-style ``/models`` answer."""
    out: dict[str, Limit] = {}
    for entry in catalog.get("data", []):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        top = entry.get("top_provider")
        top = top if isinstance(top, Mapping) else {}
        context = entry.get("context_length")
        completion = top.get("max_completion_tokens")
        out[entry["id"]] = Limit(
            context if isinstance(context, int) else None,
            completion if isinstance(completion, int) else None,
        )
    return out


def judge_all(
    result: CheckResult,
    requests: Sequence[Recorded],
    catalog: Mapping[str, Any],
    masked: Callable[[str], str],
) -> None:
    """Check 11 over every recorded model request: the verdict and one piece of evidence per
    distinct body shape that fails (else the first that passes). ``masked`` hides the canaries
    in URLs."""
    if not requests:
        if result.summary.startswith("not reached"):
            result.set(UNCHECKED, "could not check: the app sent no model request")
        return
    limits = catalog_limits(catalog)
    findings = [judge(r, limits) for r in requests]
    bad = [f for f in findings if not f.ok]
    shown: set[str] = set()
    for finding in bad or findings[:1]:
        key = json.dumps(finding.shape, sort_keys=True)
        if key in shown:
            continue
        shown.add(key)
        result.add(
            "request",
            f"{finding.summary}; body shape: {key[:600]}",
            {
                **finding.request.to_dict(),
                "url": masked(finding.request.url),
                "body_shape": finding.shape,
            },
        )
    if bad:
        result.set(
            FAIL,
            f"{len(bad)} of {len(findings)} model request(s) do not bound their output: "
            f"{bad[0].summary}",
        )
    else:
        result.set(PASS, f"all {len(findings)} model request(s) carry a bounded max_tokens")


def unknown_models(requests: Sequence[Recorded], catalog: Mapping[str, Any]) -> list[str]:
    """The models ``requests`` asked for that ``catalog`` (the simulator's ``/models``) does not
    list, in the order first asked: each was answered 400, which the report must say."""
    listed = {m.get("id") for m in catalog.get("data", []) if isinstance(m, Mapping)}
    asked: list[str] = []
    for req in requests:
        with contextlib.suppress(ValueError, AttributeError):
            model = json.loads(req.body).get("model")
            if isinstance(model, str) and model not in listed and model not in asked:
                asked.append(model)
    return asked
