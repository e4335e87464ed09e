"""App identity on a device: one id per app, derived from its name and claimed on first use.

Two apps must never share one ledger, history and key vault (R4.4). :func:`app_id_for` derives a
file-system-safe id from a display name; :func:`claim_app_id` records which app took it and
refuses another that would derive the same id (:class:`~byom.errors.AppIdTaken`). Used by
:class:`byom.App` in the terminal and in the page alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable

from byom.core.errors import AppIdTaken, InvalidRequest
from byom.core.features import Feature
from byom.core.store import Store


def app_id_for(name: str) -> str:
    """A stable file-system-safe id from an app's display name (``"Paper digest"`` →
    ``"paper-digest"``).

    Different names can map to one id (``"Réader"`` and ``"R ader"`` are both ``"r-ader"``);
    :class:`App` refuses the second one with :class:`~byom.errors.AppIdTaken` (see
    :func:`claim_app_id`). A name with letters or digits but none in ASCII (``"読書"``), which
    earlier versions refused, gets ``"app-"`` plus a digest of its NFC form, so such names do not
    all collide.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]
    if not slug:
        normal = unicodedata.normalize("NFC", name)
        if not any(ch.isalnum() for ch in normal):
            raise InvalidRequest("An app needs a name with at least one letter or digit.")
        return "app-" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]
    return slug


#: The setting recording which display name (NFC) claimed an app id on this device.
_CLAIM_SETTING = "app_name"


def _declared_features(store: Store, app_id: str) -> set[tuple[str, str]] | None:
    """The (name, category) pairs of the features last declared under ``app_id``, or ``None``
    when none were (or the record cannot be read)."""
    try:
        declared = json.loads(store.get_setting(app_id, "declaration") or "null")
        return {(str(f["name"]), str(f["category"])) for f in declared["features"]}
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def claim_app_id(
    store: Store,
    app_id: str,
    name: str,
    *,
    enforce: bool = True,
    features: Iterable[Feature] = (),
) -> None:
    """Record that the app named ``name`` uses ``app_id`` in ``store``, on first use (R4.4).

    The claim is the name of the first app to open the id, or, for a store written before claims
    existed, the name in the id's saved ``declaration``. With ``enforce`` (an id derived from the
    name), a *different* name raises :class:`~byom.errors.AppIdTaken`: two apps must never share
    one ledger, history and key vault. Names are the same when equal after Unicode NFC
    normalisation, so a renamed app (``"Paper digest"`` → ``"Paper Digest"``) is refused too;
    it keeps its data by passing the old id explicitly, ``App("Paper Digest",
    app_id="paper-digest")``.

    With ``enforce``, an app of the *same* name whose ``features`` (names and categories)
    differ from those last declared under the id is refused too: it is most likely another app
    that happens to share the name, and must not get the first one's remembered key, allowance
    and history. An app that changed its features keeps its data by passing ``app_id=``.
    An explicit ``app_id=`` is never refused (the claim is recorded if the id has none, and the
    app's declaration replaces the stored one).
    """
    claimant = unicodedata.normalize("NFC", name)
    with store.atomic():
        claimed = store.get_setting(app_id, _CLAIM_SETTING)
        if claimed is None:
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                declared = json.loads(store.get_setting(app_id, "declaration") or "null")
                if isinstance(declared.get("name"), str):
                    claimed = unicodedata.normalize("NFC", declared["name"])
            store.set_setting(app_id, _CLAIM_SETTING, claimed or claimant)
    wanted = {(f.name, f.category) for f in features}
    if enforce and wanted and (claimed is None or claimed == claimant):
        stored = _declared_features(store, app_id)
        if stored is not None and stored != wanted:
            listed = ", ".join(sorted(n for n, _ in stored))[:200]
            raise AppIdTaken(
                f"The app id {app_id[:64]!r} is already used on this device by an app named "
                f"{name[:64]!r} with other features ({listed}). If this is that app with "
                f"changed features, pass app_id={app_id[:64]!r} to keep its data; otherwise "
                "pass an app_id of its own."
            )
    if enforce and claimed is not None and claimed != claimant:
        raise AppIdTaken(
            f"The app id {app_id[:64]!r} is already used on this device by an app named "
            f"{claimed[:64]!r}, so {name[:64]!r} cannot derive it from its name. If this is that "
            f"app renamed, pass app_id={app_id[:64]!r} to keep its data; otherwise pass an "
            "app_id of its own."
        )


__all__ = ["app_id_for", "claim_app_id"]
