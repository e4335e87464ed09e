"""Check 1, evidence beyond the verdict: where the policy came from and what it leaves open.

Pure functions over the policies a page enforces (``(where, text)``, where is ``"header"`` or
``"meta"``), so they are tested without a browser:

- the source: a header, a ``<meta http-equiv>``, or both. A ``<meta>`` policy cannot carry
  ``frame-ancestors``, ``report-uri`` / ``report-to`` or ``sandbox``: browsers ignore them
  there (CSP Level 3, "the delivery of a policy via the meta element"), so an app whose policy
  lives only in ``<meta>`` cannot forbid being framed;
- wildcard sources (``*``, ``*.host``, a bare scheme such as ``https:`` or ``data:``) in every
  directive. In ``script-src`` they fail the check; in ``connect-src`` ``*`` and bare schemes
  fail it while a wildcard host or port is a concession (see :mod:`.csp`); in the other
  directives (``img-src``, ``font-src``, ``style-src`` …) the constitution allows them, so they
  are listed as advisory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from byom.audit.csp import parse_policy

#: Directives a browser ignores in a ``<meta>`` policy.
META_IGNORED = ("frame-ancestors", "report-uri", "report-to", "sandbox")
#: Directives whose wildcards fail the check (judged in :mod:`.csp`); the rest are advisory.
STRICT_DIRECTIVES = ("script-src", "script-src-elem", "script-src-attr", "connect-src")
WILDCARD_SCHEMES = ("http:", "https:", "ws:", "wss:", "data:", "blob:", "filesystem:")


@dataclass(frozen=True, slots=True)
class Wildcard:
    where: str  # "header" | "meta"
    directive: str
    source: str

    @property
    def advisory(self) -> bool:
        """Whether the check lets it pass (listed only). In ``connect-src`` only ``*`` and a
        bare scheme open the allowlist; a wildcard host or port under a fixed scheme (such as
        ``http://localhost:*``, a server of the user's own on any port) is a concession, as
        :mod:`.csp` judges it."""
        if self.directive == "connect-src":
            low = self.source.lower()
            return low != "*" and low not in WILDCARD_SCHEMES
        return self.directive not in STRICT_DIRECTIVES


@dataclass(slots=True)
class CspEvidence:
    """What the report says about the policy besides the verdict."""

    delivered_by: str  # "header", "meta", "header and meta" or "none"
    meta_ignored: list[str] = field(default_factory=list)  # directives written in <meta>
    wildcards: list[Wildcard] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"policy delivered by: {self.delivered_by}"]
        if self.delivered_by == "meta":
            out.append(
                "the policy exists only as <meta>: frame-ancestors, report-to and sandbox "
                "cannot work there; send it as a Content-Security-Policy header"
            )
        for name in self.meta_ignored:
            out.append(f"{name} in <meta> is ignored by browsers (it works only in a header)")
        for w in self.wildcards:
            kind = "advisory, allowed by the constitution" if w.advisory else "fails the check"
            out.append(f"{w.where}: {w.directive} has the wildcard source {w.source} ({kind})")
        return out


def _is_wildcard(source: str) -> bool:
    low = source.lower()
    return "*" in low or low in WILDCARD_SCHEMES


def describe(policies: Sequence[tuple[str, str]]) -> CspEvidence:
    """The source of the enforced ``policies``, directives ``<meta>`` cannot carry, and every
    wildcard source per directive."""
    places = {where for where, _ in policies}
    if not places:
        delivered = "none"
    elif places == {"header", "meta"}:
        delivered = "header and meta"
    else:
        delivered = next(iter(places))
    evidence = CspEvidence(delivered)
    for where, text in policies:
        policy = parse_policy(text)
        if where == "meta":
            for name in META_IGNORED:
                if name in policy and name not in evidence.meta_ignored:
                    evidence.meta_ignored.append(name)
        for name, sources in policy.items():
            for source in sources:
                if _is_wildcard(source):
                    evidence.wildcards.append(Wildcard(where, name, source))
    return evidence
