"""Canary key and prompt: unique strings the audit types in, then looks for everywhere.

A canary is found in a piece of data when the data holds its random core (so a truncated,
prefixed or re-wrapped copy still counts), the core reversed, hex-encoded, or base64-encoded at any
of the three alignments (so ``btoa(key)`` and ``btoa("Bearer " + key)`` are caught).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass


def _base64_needles(text: str) -> list[str]:
    raw = text.encode("utf-8")
    needles = []
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        # drop the characters that depend on the neighbouring bytes
        start = {0: 0, 1: 2, 2: 3}[pad]
        core = encoded[start:-4]
        if len(core) >= 16:
            needles.append(core)
            needles.append(core.replace("+", "-").replace("/", "_"))  # base64url
    return needles


@dataclass(frozen=True, slots=True)
class Canary:
    """A string typed into the app and the needles that reveal it."""

    label: str  # "key" or "prompt"
    value: str
    core: str  # the random part

    @property
    def needles(self) -> tuple[str, ...]:
        core = self.core
        hexed = core.encode("utf-8").hex()
        return tuple(
            dict.fromkeys(
                [core, core[::-1], hexed, *_base64_needles(core), *_base64_needles(self.value)]
            )
        )

    def found_in(self, data: str | None) -> str | None:
        """The needle found in ``data`` (``None`` when clean)."""
        if not data:
            return None
        for needle in self.needles:
            if needle in data:
                return needle
        return None

    def excerpt(self, data: str, width: int = 60) -> str:
        """The part of ``data`` around the first hit, with every canary masked."""
        text = mask(data, self)
        at = text.find("‹canary")
        if at < 0:
            at = 0
        start = max(0, at - width)
        end = min(len(text), at + width + 40)
        return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


def mask(text: str, *canaries: Canary) -> str:
    """Replace canary values and needles by a readable marker."""
    for canary in canaries:
        text = text.replace(canary.value, f"‹canary {canary.label}›")
        for needle in canary.needles:
            text = text.replace(needle, f"‹canary {canary.label} (encoded)›")
    return text


def make_key(prefix: str = "sk-or-v1-") -> Canary:
    core = secrets.token_hex(32)
    return Canary("key", prefix + core, core)


def make_prompt(lead: str = "Please summarise this text:") -> Canary:
    core = "byomaudit" + secrets.token_hex(8)
    text = f"{lead} The audit canary {core} walked to the harbour and counted the boats."
    return Canary("prompt", text.strip(), core)
