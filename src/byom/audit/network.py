"""Every request the audited page makes: recorded, and answered without touching the internet.

- A request to a provider origin (OpenRouter, OpenAI, Anthropic, a local Ollama, plus origins
  from the configuration) is forwarded to the in-process :class:`byom.sim.Simulator`, same path
  and query, and its answer (status, headers with CORS, body) is given back to the page.
- A request to the audited site itself (or to an origin the configuration lets through) goes
  to the network as usual — for a directory target that is the audit's own loopback server.
- Anything else never leaves the browser: fetches, beacons and navigations get an empty 204, other
  resources (scripts, images, fonts) are aborted. Each is recorded as ``blocked`` — an attempt
  to reach that origin is what the egress check looks at.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.async_api import Request, Route

KNOWN_PROVIDERS: tuple[str, ...] = (
    "https://openrouter.ai",
    "https://api.openai.com",
    "https://api.anthropic.com",
    "https://generativelanguage.googleapis.com",
    "http://localhost:11434",
    "http://127.0.0.1:11434",
)
CHAT_SUFFIXES = (
    "/chat/completions",
    "/messages",
    "/api/chat",
    "/responses",
    "/completions",
    "/api/generate",
    ":generateContent",  # Gemini: /v1beta/models/MODEL:generateContent
    ":streamGenerateContent",
)
MAX_BODY = 4_000_000
EMPTY_OK_TYPES = frozenset({"fetch", "xhr", "ping", "beacon", "document", "eventsource", "other"})


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def normalise_origin(text: str) -> str:
    return origin_of(text) or text.rstrip("/").lower()


@dataclass(slots=True)
class Recorded:
    """One request as the page sent it."""

    seq: int
    url: str
    method: str
    resource_type: str
    headers: dict[str, str]
    body: str
    origin: str
    disposition: str  # "provider" | "site" | "pass-through" | "blocked"
    phase: str
    started: float
    status: int | None = None
    done: bool = False
    error: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def is_chat(self) -> bool:
        return (
            self.disposition == "provider"
            and self.method == "POST"
            and self.path.rstrip("/").endswith(CHAT_SUFFIXES)
        )

    def haystack(self) -> str:
        heads = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        return f"{self.url}\n{heads}\n{self.body}"

    def where(self, needle: str) -> str:
        if needle in self.url:
            return "URL"
        for name, value in self.headers.items():
            if needle in value:
                return f"header {name}"
        return "body"

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "url": self.url,
            "type": self.resource_type,
            "disposition": self.disposition,
            "status": self.status,
            "phase": self.phase,
        }


@dataclass
class Network:  # no slots: Playwright keeps a reference on the bound handler
    """The route handler and its log."""

    providers: set[str]
    site_origin: str
    pass_through: set[str]
    sim_base: str
    log: list[Recorded] = field(default_factory=list)
    phase: str = "load"
    pending_provider: int = 0

    async def handle(self, route: Route, request: Request) -> None:
        url = request.url
        if url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
            return
        origin = origin_of(url)
        try:
            headers = await request.all_headers()
        except Exception:
            headers = dict(request.headers)
        raw = request.post_data_buffer or b""
        body = raw[:MAX_BODY].decode("utf-8", errors="replace")
        if origin in self.providers:
            disposition = "provider"
        elif origin == self.site_origin:
            disposition = "site"
        elif origin in self.pass_through:
            disposition = "pass-through"
        else:
            disposition = "blocked"
        rec = Recorded(
            seq=len(self.log) + 1,
            url=url,
            method=request.method,
            resource_type=request.resource_type,
            headers=headers,
            body=body,
            origin=origin,
            disposition=disposition,
            phase=self.phase,
            started=time.monotonic(),
        )
        self.log.append(rec)
        if disposition == "provider":
            await self._to_simulator(route, rec)
        elif disposition in ("site", "pass-through"):
            try:
                await route.continue_()
            except Exception as exc:  # the page went away
                rec.error = str(exc).splitlines()[0]
            rec.done = True
        else:
            try:
                if request.resource_type in EMPTY_OK_TYPES:
                    await route.fulfill(status=204, headers={"access-control-allow-origin": "*"})
                    rec.status = 204
                else:
                    await route.abort("blockedbyclient")
            except Exception as exc:
                rec.error = str(exc).splitlines()[0]
            rec.done = True

    async def _to_simulator(self, route: Route, rec: Recorded) -> None:
        parts = urlsplit(rec.url)
        target = self.sim_base + parts.path + (f"?{parts.query}" if parts.query else "")
        self.pending_provider += 1
        try:
            response = await route.fetch(url=target, max_redirects=0, timeout=120_000)
            rec.status = response.status
            await route.fulfill(response=response)
        except Exception as exc:  # aborted by the page, or the page closed
            rec.error = str(exc).splitlines()[0]
            with contextlib.suppress(Exception):
                await route.abort("failed")
        finally:
            self.pending_provider -= 1
            rec.done = True

    # ------------------------------------------------------------------ queries

    def chat(self, since: int = 0) -> list[Recorded]:
        return [r for r in self.log[since:] if r.is_chat]

    def provider_idle(self) -> bool:
        return self.pending_provider == 0
