"""The built-in model (issue 17): a small model that runs on the user's device. Sans-I/O.

The adapter speaks OpenAI's chat-completions shape to a fixed, reserved address,
``http://builtin.invalid/v1`` (``.invalid`` never resolves: RFC 6761), and the shell answers it
from a local runtime instead of a socket — in CPython :mod:`byom.builtin` (llama.cpp in a worker
thread), in a browser a WebAssembly runtime behind the page's transport. So the call path, the
budget guard (its estimate is $0), the ledger and the history treat it like every other provider.

* No key, ever: whatever the adapter is given, no credential goes into a request.
* Cost is zero: the installed models are listed at a zero price (cost source ``"free"``); the
  tokens recorded are the runtime's own counts.
* Output is bounded by ``max_tokens``, which the runtime enforces token by token
  (``finish_reason: "length"`` exactly at the bound).
* The model list is not fetched: the shell passes the installed models (``models=``), each with
  category ``worker``, its context length and its size on disk.
* Text only: no tools, no structured output, no images (a small model could not honour them);
  asking for them is refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from byom.core.catalog import Catalog, Price
from byom.core.errors import InvalidRequest
from byom.core.secret import Secret
from byom.providers.base import HttpRequest
from byom.providers.openai import OpenAIAdapter

#: The reserved origin the built-in model answers on; never a network address.
ORIGIN: Final = "http://builtin.invalid"
BASE_URL: Final = ORIGIN + "/v1"
#: The id of the model byom ships (SmolLM2-135M-Instruct, Q4_1 GGUF).
BUILTIN_MODEL_ID: Final = "smollm2-135m-instruct"
#: What a model on the user's device costs.
FREE: Final = Price(prompt=Decimal(0), completion=Decimal(0))

#: Sampling fields the runtime understands (llama.cpp's names where they differ from OpenAI's).
PASSTHROUGH: Final = frozenset(
    {
        "temperature",
        "top_p",
        "top_k",
        "min_p",
        "seed",
        "stop",
        "repeat_penalty",
        "repetition_penalty",
        "presence_penalty",
        "frequency_penalty",
    }
)


def _text_only(message: Mapping[str, Any]) -> dict[str, Any]:
    """A message with plain-text content (text parts joined); anything else is refused."""
    role = message.get("role")
    if role not in ("system", "developer", "user", "assistant"):
        raise InvalidRequest("The built-in model takes system, user and assistant messages only.")
    if message.get("tool_calls"):
        raise InvalidRequest("The built-in model cannot call tools.")
    content = message.get("content")
    if content is None or isinstance(content, str):
        text = content or ""
    else:
        parts: list[str] = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            else:
                raise InvalidRequest("The built-in model reads text only.")
        text = "".join(parts)
    return {"role": "system" if role == "developer" else role, "content": text}


class BuiltinAdapter(OpenAIAdapter):
    """The built-in model: OpenAI-shaped requests to :data:`ORIGIN`, answered on the device."""

    name = "builtin"
    reports_cost = False
    needs_key = False
    #: The model runs in this process: a request can never be billed, so a call cut after it
    #: was sent (a cancel) settles at $0 instead of staying unreconciled (read by
    #: :func:`byom.core.call.never_bills`).
    never_bills = True
    passthrough = PASSTHROUGH

    def __init__(
        self,
        base_url: str | None = None,
        *,
        model_path: str | None = None,
        models: Catalog | None = None,
    ) -> None:
        """``model_path``: a GGUF file to run instead of the built-in model (the shell resolves
        and checks it). ``models``: the installed models, as the shell found them."""
        if base_url is not None and base_url.rstrip("/") not in (ORIGIN, BASE_URL):
            raise InvalidRequest("The built-in model has no address to set.")
        if model_path is not None and (not isinstance(model_path, str) or not model_path):
            raise InvalidRequest("model_path must be the path of a GGUF file.")
        super().__init__(
            BASE_URL,
            stream_usage=True,
            max_tokens_field="max_tokens",
            prices=models if models is not None else Catalog(source="builtin"),
        )
        self.model_path = model_path

    @property
    def installed(self) -> Catalog:
        """The models this connection can run (category ``worker``, free)."""
        return self._known()

    def _auth(self, key: Secret | None) -> dict[str, Secret]:
        return {}  # nothing secret ever goes to the device's own runtime

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
    ) -> HttpRequest:
        """Text-only messages; ``key`` is ignored on purpose."""
        texts = [_text_only(m) for m in messages]
        return super().chat_request(
            None,
            model=model,
            messages=texts,
            max_tokens=max_tokens,
            stream=stream,
            params=params,
        )

    def key_info_request(self, key: Secret | None) -> HttpRequest | None:
        return None

    def models_request(self, key: Secret | None = None) -> HttpRequest | None:  # type: ignore[override]
        return None  # the installed models come from the shell (``models=``)


__all__ = [
    "BASE_URL",
    "BUILTIN_MODEL_ID",
    "FREE",
    "ORIGIN",
    "PASSTHROUGH",
    "BuiltinAdapter",
]
