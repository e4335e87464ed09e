"""The JavaScript the audit evaluates in the page, loaded from ``page.js`` beside this module.

It runs through the DevTools protocol (``page.evaluate``), so a strict CSP does not block it;
nothing in it uses ``eval`` or ``new Function``. Every snippet that needs them starts with the
``PRELUDE`` helpers:

- ``vis(el)``: really visible — rendered (``checkVisibility`` with opacity, ``visibility`` and
  ``content-visibility``, so closed ``<details>`` count as hidden), at least 2×2 px, not moved
  off-page, not clipped away by an ancestor (``overflow: hidden`` to nothing, ``clip``,
  ``clip-path: inset(50%)`` — the "screen-reader only" tricks).
- ``textVisible(node)``: a text node whose own boxes are visible, with a readable font size and
  a colour that is neither transparent nor the background's.
- ``label(el)``: everything that names a control (labels, aria, text, placeholder, name, id);
  ``display(el)``: the part a person sees.
- ``mark(el, tag)``: sets ``data-byom-audit`` so Python can address the element.
"""

from __future__ import annotations

from importlib.resources import files


def _sections() -> dict[str, str]:
    text = files("byom.audit").joinpath("page.js").read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("//@ "):
            current = sections.setdefault(line[4:].strip(), [])
        elif current is not None:
            current.append(line)
    prelude = "\n".join(sections.pop("PRELUDE")).strip()
    return {
        name: "\n".join(lines).strip().replace("/*PRELUDE*/", prelude)
        for name, lines in sections.items()
    }


_JS = _sections()

INIT_SCRIPT = _JS["INIT_SCRIPT"]
QUIET = _JS["QUIET"]
FIND_KEY = _JS["FIND_KEY"]
FIND_FEATURES = _JS["FIND_FEATURES"]
FIND_FEATURE_INPUT = _JS["FIND_FEATURE_INPUT"]
FIND_BUTTON = _JS["FIND_BUTTON"]
FIND_KEY_SUBMIT = _JS["FIND_KEY_SUBMIT"]
FIND_FIELD = _JS["FIND_FIELD"]
FIND_NEAR_ALLOWANCE = _JS["FIND_NEAR_ALLOWANCE"]
VISIBLE_KEY = _JS["VISIBLE_KEY"]
DIALOG_OPEN = _JS["DIALOG_OPEN"]
MARK_WIZARD = _JS["MARK_WIZARD"]
WIZARD_OPEN = _JS["WIZARD_OPEN"]
SNAPSHOT = _JS["SNAPSHOT"]
RECONNECT_TEXT = _JS["RECONNECT_TEXT"]
BEFOREUNLOAD_PROBE = _JS["BEFOREUNLOAD_PROBE"]
STORAGE_SCAN = _JS["STORAGE_SCAN"]
DOM_SCRIPTS = _JS["DOM_SCRIPTS"]
META_CSP = _JS["META_CSP"]
BYOM_CONFIG = _JS["BYOM_CONFIG"]
READY = _JS["READY"]
