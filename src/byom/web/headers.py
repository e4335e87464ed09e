"""The security headers of a BYOM site: its Content-Security-Policy and the ``_headers`` file.

The policy is the one the issue fixes: scripts only from the site itself plus WebAssembly
compilation (``'wasm-unsafe-eval'`` — Pyodide needs it; ``'unsafe-eval'`` is *not* granted);
network connections only to the site itself and the allowed provider origins; no plugins, no
``<base>``, no form posts, no framing; no referrer.

``connect-src`` carries ``'self'`` besides the providers because Pyodide fetches its WebAssembly
module, standard library and our Python sources from the site with ``fetch``. That means script
on the page can send data to the site's own host; BYOM-INTEGRATION.md says so.

``_headers`` is the plain format static hosts read (Netlify, Cloudflare Pages): a path pattern on
its own line, then indented ``Name: value`` lines. ``byom demo`` applies the same file as real HTTP
headers, so what is tested is what gets deployed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Directives shared by the ``<meta>`` policy and the header policy, in this order.
BASE_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self' 'wasm-unsafe-eval'"),
    ("connect-src", ""),  # filled in per site
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("form-action", "'none'"),
)


def csp(connect_origins: Iterable[str], *, header: bool) -> str:
    """The policy text. ``header=True`` adds ``frame-ancestors 'none'`` (ignored in ``<meta>``)."""
    origins = " ".join(["'self'", *dict.fromkeys(connect_origins)])
    parts = [
        f"{name} {origins if name == 'connect-src' else value}" for name, value in BASE_DIRECTIVES
    ]
    if header:
        parts.append("frame-ancestors 'none'")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """Headers for paths matching ``pattern`` (``/*`` splat at the end, else an exact path)."""

    pattern: str
    headers: tuple[tuple[str, str], ...]

    def matches(self, path: str) -> bool:
        if self.pattern.endswith("*"):
            return path.startswith(self.pattern[:-1])
        return path == self.pattern


def site_rules(connect_origins: Sequence[str]) -> list[Rule]:
    """The rules ``byom web build`` writes: security headers everywhere, caching by path."""
    return [
        Rule(
            "/*",
            (
                ("Content-Security-Policy", csp(connect_origins, header=True)),
                ("Referrer-Policy", "no-referrer"),
                ("X-Content-Type-Options", "nosniff"),
                ("Cross-Origin-Opener-Policy", "same-origin"),
                ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
                ("Cache-Control", "no-cache"),
            ),
        ),
        # Versioned or content-addressed paths never change: cache them for good.
        Rule("/pyodide/*", (("Cache-Control", "public, max-age=31536000, immutable"),)),
        Rule("/byom/py/*", (("Cache-Control", "public, max-age=31536000, immutable"),)),
    ]


def format_headers(rules: Iterable[Rule]) -> str:
    lines: list[str] = []
    for rule in rules:
        lines.append(rule.pattern)
        lines.extend(f"  {name}: {value}" for name, value in rule.headers)
    return "\n".join(lines) + "\n"


def parse_headers(text: str) -> list[Rule]:
    """Read a ``_headers`` file. Comments (``#``) and blank lines are ignored."""
    rules: list[Rule] = []
    pattern: str | None = None
    current: list[tuple[str, str]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            if pattern is not None:
                rules.append(Rule(pattern, tuple(current)))
            pattern, current = raw.strip(), []
            continue
        if pattern is None or ":" not in raw:
            raise ValueError("malformed _headers line: " + raw.strip()[:80])
        name, _, value = raw.strip().partition(":")
        current.append((name.strip(), value.strip()))
    if pattern is not None:
        rules.append(Rule(pattern, tuple(current)))
    return rules


def headers_for(rules: Iterable[Rule], path: str) -> dict[str, str]:
    """Headers for a request path; later matching rules override earlier ones per name."""
    found: dict[str, str] = {}
    for rule in rules:
        if rule.matches(path):
            for name, value in rule.headers:
                found[name] = value
    return found
