"""The security headers of a BYOM site: its Content-Security-Policy and the ``_headers`` file.

The policy is the one the issue fixes: scripts only from the site itself plus WebAssembly
compilation (``'wasm-unsafe-eval'`` — Pyodide needs it; ``'unsafe-eval'`` is *not* granted);
network connections only to the site itself and the allowed provider origins; no plugins, no
``<base>``, no form posts, no framing; no referrer.

``connect-src`` carries ``'self'`` besides the providers because Pyodide fetches its WebAssembly
module, standard library and our Python sources from the site with ``fetch``. That means script
on the page can send data to the site's own host; BYOM-INTEGRATION.md says so.

``_headers`` is the plain format static hosts read (Netlify, Cloudflare Pages)::

    # a comment
    /*
      Content-Security-Policy: default-src 'self'
      X-Frame-Options: DENY
    /admin/*
      ! X-Frame-Options

A path line starts at column 0 (``*`` matches anything, ``:name`` one path segment; a full URL's
host is ignored); header lines are indented ``Name: value``; ``! Name`` removes a header set by an
earlier rule. Every matching rule applies, in file order. :func:`format_headers` writes the file
``byom web build`` ships; :func:`parse_headers` and :func:`headers_for` read any site's, for the
static server (:mod:`byom.web.serve`) behind ``byom demo`` and ``byom audit DIR`` — so what is
tested is what gets deployed.
"""

from __future__ import annotations

import functools
import re
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

#: A header name (an RFC 9110 token).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def csp(connect_origins: Iterable[str], *, header: bool, worker_blob: bool = False) -> str:
    """The policy text. ``header=True`` adds ``frame-ancestors 'none'`` (ignored in ``<meta>``).

    ``worker_blob=True`` adds ``worker-src blob:`` — for sites built with the built-in model only:
    wllama starts its workers (main, pthreads, OPFS writers) from blob URLs, and no option of it
    avoids that. It is a justified concession recorded in the integration document."""
    origins = " ".join(["'self'", *dict.fromkeys(connect_origins)])
    parts = [
        f"{name} {origins if name == 'connect-src' else value}" for name, value in BASE_DIRECTIVES
    ]
    if worker_blob:
        parts.insert(2, "worker-src blob:")
    if header:
        parts.append("frame-ancestors 'none'")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """One block of a ``_headers`` file: the headers set, and removed (``! Name``), on ``pattern``.

    A pattern is a path; ``*`` matches anything (slashes included), ``:name`` one path segment, a
    trailing ``/`` is optional, and a full URL's scheme and host are ignored.
    """

    pattern: str
    headers: tuple[tuple[str, str], ...]
    remove: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        return _regex(self.pattern).match(path) is not None


@functools.lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    if "://" in pattern:
        pattern = "/" + pattern.split("://", 1)[1].partition("/")[2]
    out = []
    for piece in re.split(r"(\*|:[A-Za-z_][A-Za-z0-9_]*)", pattern):
        if piece == "*":
            out.append(".*")
        elif piece.startswith(":") and len(piece) > 1:
            out.append("[^/]+")
        else:
            out.append(re.escape(piece))
    return re.compile("".join(out) + r"/?\Z")


_NO_CACHE = ("Cache-Control", "no-cache")
_IMMUTABLE = ("Cache-Control", "public, max-age=31536000, immutable")


def site_rules(connect_origins: Sequence[str], *, builtin: bool = False) -> list[Rule]:
    """The rules ``byom web build`` writes: security headers everywhere, caching by path.

    ``builtin=True`` (a site with the built-in model) adds ``worker-src blob:`` to the policy and
    ``Cross-Origin-Embedder-Policy: require-corp``: with the opener policy every site has, the
    page is cross-origin isolated, so the WebAssembly runtime gets ``SharedArrayBuffer`` and can
    run threads. Provider requests are CORS requests, which isolation allows; the site's own
    files are same-origin."""
    security = [
        ("Content-Security-Policy", csp(connect_origins, header=True, worker_blob=builtin)),
        ("Referrer-Policy", "no-referrer"),
        ("X-Content-Type-Options", "nosniff"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if builtin:
        security.append(("Cross-Origin-Embedder-Policy", "require-corp"))
    security.append(("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"))
    rules = [
        Rule("/*", tuple(security)),
        # Caching by path. The path sets are disjoint on purpose: hosts that meet one header in
        # two matching rules join the values ("no-cache, …, immutable"), and no-cache would win.
        Rule("/", (_NO_CACHE,)),
        Rule("/index.html", (_NO_CACHE,)),
        Rule("/byom/*", (_NO_CACHE,)),
        # Versioned or content-addressed paths never change: cache them for good.
        Rule("/pyodide/*", (_IMMUTABLE,)),
        Rule("/py/*", (_IMMUTABLE,)),
    ]
    if builtin:  # versioned (wllama) and content-addressed (the model's parts) paths
        rules.append(Rule("/builtin/*", (_IMMUTABLE,)))
    return rules


def format_headers(rules: Iterable[Rule]) -> str:
    """The ``_headers`` text for ``rules`` (:func:`parse_headers` reads it back unchanged)."""
    lines: list[str] = []
    for rule in rules:
        lines.append(rule.pattern)
        lines.extend(f"  ! {name}" for name in rule.remove)
        lines.extend(f"  {name}: {value}" for name, value in rule.headers)
    return "\n".join(lines) + "\n"


def parse_headers(text: str) -> list[Rule]:
    """Read a ``_headers`` file. Comments (``#``), blank and malformed lines are skipped, as the
    hosts do: a header line before any path, without a colon, or whose name is not a header name.
    """
    rules: list[Rule] = []
    pattern: str | None = None
    sets: list[tuple[str, str]] = []
    removes: list[str] = []

    def flush() -> None:
        if pattern is not None:
            rules.append(Rule(pattern, tuple(sets), tuple(removes)))

    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            flush()
            pattern, sets, removes = raw.strip(), [], []
            continue
        line = raw.strip()
        if pattern is None:
            continue
        if line.startswith("!"):
            name = line[1:].strip()
            if _TOKEN.fullmatch(name):
                removes.append(name)
        else:
            name, colon, value = line.partition(":")
            if colon and _TOKEN.fullmatch(name.strip()):
                sets.append((name.strip(), value.strip()))
    flush()
    return rules


def headers_for(rules: Iterable[Rule], path: str) -> list[tuple[str, str]]:
    """The headers for a request path: every matching rule in file order, each first removing the
    names it lists with ``!`` (case-insensitively) and then adding its own. A header set twice is
    there twice (two ``Content-Security-Policy`` headers are two policies, both enforced);
    ``dict(headers_for(...))`` keeps the last value of each instead.
    """
    found: list[tuple[str, str]] = []
    for rule in rules:
        if not rule.matches(path):
            continue
        if rule.remove:
            gone = {name.lower() for name in rule.remove}
            found = [(name, value) for name, value in found if name.lower() not in gone]
        found.extend(rule.headers)
    return found
