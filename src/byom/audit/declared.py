"""Check 1, for a byom-built page: ``connect-src`` names exactly the declared providers' origins.

``byom web build`` writes the providers the app declares in ``byom-app.toml`` into the page's
``byom/config.json`` (``declared_providers``) and their origins — and no others — into
``connect-src``. This check recomputes those origins from the names (the table in
:mod:`byom.web.providers`, not the page's own list) and compares them with every enforced
policy: an origin too many is a place a script could send the key that the app never asked
for; one missing is a provider the wizard offers that the page cannot reach. A demo build's
simulator (marked in ``config.json``) is allowed besides them. Pure functions: tested without a
browser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from byom.audit.csp import Finding, parse_policy

REQUIREMENT = "connect-src = declared providers"


def _origin(token: str) -> str:
    if "://" not in token:
        return token.lower()
    scheme, rest = token.split("://", 1)
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


def declared_origins_finding(
    policies: Sequence[tuple[str, str]], config: Mapping[str, Any] | None
) -> Finding | None:
    """The verdict for a byom-built page (``config`` is its ``byom/config.json``), or ``None``
    when the page is not one (no ``declared_providers``). Met when at least one enforced policy's
    ``connect-src`` (else ``default-src``) is ``'self'`` plus exactly the expected origins."""
    from byom.web.providers import PROVIDER_ORIGINS, expected_connect_src

    declared = (config or {}).get("declared_providers")
    if not isinstance(declared, list) or not all(isinstance(p, str) for p in declared):
        return None
    unknown = [p for p in declared if p not in PROVIDER_ORIGINS]
    if unknown:
        return Finding(REQUIREMENT, False, f"unknown providers declared: {', '.join(unknown)}")
    expected = {o.lower() for o in expected_connect_src(declared)}
    allowed = set(expected)
    for option in (config or {}).get("providers", []):
        if isinstance(option, Mapping) and option.get("simulator"):
            allowed.add(_origin(str(option.get("base_url", ""))))
    names = ", ".join(declared)
    reasons: list[str] = []
    for where, text in policies:
        policy = parse_policy(text)
        tokens = policy.get("connect-src", policy.get("default-src"))
        if tokens is None:
            reasons.append(f"{where}: no connect-src")
            continue
        found = {_origin(t) for t in tokens if t.lower() not in ("'self'", "'none'")}
        extra = sorted(found - allowed)
        missing = sorted(expected - found)
        if not extra and not missing:
            return Finding(
                REQUIREMENT,
                True,
                f"{where}: connect-src names exactly the origins of the declared providers "
                f"({names}): {' '.join(sorted(found))}",
            )
        parts = []
        if extra:
            parts.append(f"not declared: {' '.join(extra)}")
        if missing:
            parts.append(f"missing: {' '.join(missing)}")
        reasons.append(f"{where}: {'; '.join(parts)}")
    return Finding(
        REQUIREMENT,
        False,
        f"declared providers ({names}) need {' '.join(sorted(expected))}; " + "; ".join(reasons),
    )


__all__ = ["REQUIREMENT", "declared_origins_finding"]
