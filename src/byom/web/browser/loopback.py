"""Is an address on the user's own machine? (standard library only; runs in the page too).

A web page may only connect to the origins its ``connect-src`` names, fixed when the site is
built. An OpenAI-compatible server can be anywhere, so the page could only reach "any server"
with an open ``connect-src`` — and then any script on the page could send the key anywhere. The
one place that is both open-ended (any port) and safe is the user's own machine: requests to
``localhost`` / ``127.0.0.1`` never leave the device, and browsers let an https page call them
(they count as potentially trustworthy), where a LAN address would be blocked as mixed content.
So the browser offers a compatible server on loopback only: ``http(s)://localhost:PORT`` or
``http(s)://127.0.0.1:PORT`` (the ``connect-src`` allows ``http://localhost:*`` and
``http://127.0.0.1:*``, and the https twins).
"""

from __future__ import annotations

from urllib.parse import urlsplit

#: Host names that are the user's own machine and that a CSP host-source can name.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def is_loopback_url(url: str) -> bool:
    """``True`` when ``url`` is http(s) on ``localhost`` or ``127.0.0.1`` (any port), with no
    credentials. Anything unparsable is ``False``."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        _ = parts.port  # a bad port raises
    except (ValueError, AttributeError):
        return False
    if parts.scheme.lower() not in ("http", "https") or parts.username or parts.password:
        return False
    return host in LOOPBACK_HOSTS


__all__ = ["LOOPBACK_HOSTS", "is_loopback_url"]
