"""Check 1: read a page's Content-Security-Policy and judge it against invariant 3.

Pure functions over policy text, so the rules are tested without a browser. Every enforced
policy (each ``Content-Security-Policy`` header, each ``<meta http-equiv>``) restricts the page
on its own, so a requirement is met when at least one enforced policy meets it. Report-only
policies enforce nothing and are ignored.

The rules (what "strict" means here):

- ``script-src`` (else ``default-src``) is present and holds none of ``'unsafe-inline'``,
  ``'unsafe-eval'``, ``'unsafe-hashes'``, ``*``, a wildcard host, or a bare scheme
  (``http:``, ``https:``, ``data:``); ``script-src-elem`` / ``-attr``, when set, obey the same.
- ``connect-src`` (else ``default-src``) is a closed allowlist: no ``*`` and no bare scheme
  (``https:``, ``wss:`` …), so a script cannot send data to an arbitrary origin.
- ``object-src`` is set (``default-src`` counts, noted), ``base-uri`` and ``form-action`` are set
  explicitly (they have no fallback): without them an injected ``<base>`` or form post can
  carry the key off the page (pitfall 15).
- Concessions are listed, not failed: ``'wasm-unsafe-eval'``, ``'strict-dynamic'``, ``blob:``,
  wildcard hosts in ``connect-src``, and every ``connect-src`` origin besides the page itself and
  the known provider origins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Policy = dict[str, list[str]]

SCRIPT_FORBIDDEN = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'")
BARE_SCHEMES_SCRIPT = ("http:", "https:", "data:", "*")
BARE_SCHEMES_CONNECT = ("http:", "https:", "ws:", "wss:", "data:", "blob:", "*")


def parse_policy(text: str) -> Policy:
    """Directive name (lower case) → source tokens. A repeated directive is ignored, as
    browsers do."""
    policy: Policy = {}
    for part in text.split(";"):
        tokens = part.strip().split()
        if not tokens:
            continue
        name = tokens[0].lower()
        if name in policy:
            continue
        policy[name] = tokens[1:]
    return policy


def split_header(value: str) -> list[str]:
    """One header value may carry several policies separated by commas."""
    return [p.strip() for p in value.split(",") if p.strip()]


@dataclass(slots=True)
class Finding:
    """One requirement's verdict and the reason, for the report."""

    requirement: str
    ok: bool
    reason: str


@dataclass(slots=True)
class CspVerdict:
    policies: list[tuple[str, str]]  # (where: "header" | "meta", text)
    findings: list[Finding] = field(default_factory=list)
    concessions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.policies) and all(f.ok for f in self.findings)


def _effective(policy: Policy, name: str, fallback: bool = True) -> list[str] | None:
    if name in policy:
        return policy[name]
    if fallback and "default-src" in policy:
        return policy["default-src"]
    return None


def _lower(tokens: Iterable[str]) -> list[str]:
    return [t.lower() for t in tokens]


def _script_problems(tokens: Sequence[str]) -> list[str]:
    problems = []
    for token in _lower(tokens):
        if token in SCRIPT_FORBIDDEN or token in BARE_SCHEMES_SCRIPT:
            problems.append(token)
        elif "*" in token:
            problems.append(token)
    return problems


def _connect_problems(tokens: Sequence[str]) -> list[str]:
    return [t for t in _lower(tokens) if t in BARE_SCHEMES_CONNECT]


def _origin_token(token: str) -> str:
    """``https://openrouter.ai/api/v1/`` → ``https://openrouter.ai``."""
    if "://" not in token:
        return token
    scheme, rest = token.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def evaluate(
    policies: Sequence[tuple[str, str]],
    *,
    page_origin: str,
    provider_origins: Iterable[str],
) -> CspVerdict:
    """Judge the enforced ``policies`` (where, text) of a page served from ``page_origin``."""
    verdict = CspVerdict(list(policies))
    parsed = [(where, parse_policy(text)) for where, text in policies]
    providers = {o.lower().rstrip("/") for o in provider_origins}
    if not parsed:
        verdict.findings.append(Finding("a policy", False, "no Content-Security-Policy at all"))
        return verdict

    # script-src
    best: str | None = None
    reasons: list[str] = []
    for where, policy in parsed:
        tokens = _effective(policy, "script-src")
        if tokens is None:
            reasons.append(f"{where}: no script-src or default-src")
            continue
        problems = _script_problems(tokens)
        for extra in ("script-src-elem", "script-src-attr"):
            if extra in policy:
                problems += [f"{extra} {p}" for p in _script_problems(policy[extra])]
        if problems:
            reasons.append(f"{where}: script-src allows {', '.join(problems)}")
        elif best is None:
            name = "script-src" if "script-src" in policy else "default-src"
            best = f"{where}: {name} {' '.join(tokens)}"
    verdict.findings.append(
        Finding("script-src strict", best is not None, best or "; ".join(reasons))
    )

    # connect-src
    best = None
    reasons = []
    for where, policy in parsed:
        tokens = _effective(policy, "connect-src")
        if tokens is None:
            reasons.append(f"{where}: no connect-src or default-src")
            continue
        problems = _connect_problems(tokens)
        if problems:
            reasons.append(f"{where}: connect-src is open ({', '.join(problems)})")
        elif best is None:
            name = "connect-src" if "connect-src" in policy else "default-src"
            best = f"{where}: {name} {' '.join(tokens)}"
            for token in tokens:
                low = token.lower()
                if low in ("'self'", "'none'"):
                    continue
                if "*" in low:
                    verdict.concessions.append(f"connect-src wildcard host {token}")
                    continue
                origin = _origin_token(low)
                if origin == page_origin.lower() or origin in providers:
                    continue
                verdict.concessions.append(f"connect-src also allows {token}")
    verdict.findings.append(
        Finding("connect-src closed allowlist", best is not None, best or "; ".join(reasons))
    )

    # object-src, base-uri, form-action
    for name, fallback in (("object-src", True), ("base-uri", False), ("form-action", False)):
        found: str | None = None
        for where, policy in parsed:
            tokens = _effective(policy, name, fallback)
            if tokens is None:
                continue
            if any(t in ("*", "https:", "http:") for t in _lower(tokens)):
                continue
            via = name if name in policy else "default-src"
            found = f"{where}: {via} {' '.join(tokens) or '(empty)'}"
            if via != name:
                found += f" (no {name}; default-src applies)"
            break
        verdict.findings.append(
            Finding(f"{name} set", found is not None, found or f"{name} is not set")
        )

    # concessions of the policies that carry the strict rules
    for where, policy in parsed:
        for name, tokens in policy.items():
            for source in _lower(tokens):
                if source in ("'wasm-unsafe-eval'", "'strict-dynamic'") or (
                    source == "blob:" and name in ("script-src", "default-src", "worker-src")
                ):
                    verdict.concessions.append(f"{where}: {name} {source}")
                elif source == "'unsafe-inline'" and name.startswith("style-src"):
                    verdict.concessions.append(f"{where}: {name} 'unsafe-inline'")
    verdict.concessions = list(dict.fromkeys(verdict.concessions))
    return verdict
