"""The browser kit: static BYOM web apps whose money and key handling run in Python (Pyodide).

``byom web build APP_DIR -o DIST`` turns an app — its Python (declared with
:class:`byom.web.app.WebApp`), its HTML/CSS/JS and a ``byom-app.toml`` naming the providers it
allows — into a static site: Pyodide self-hosted and hash-checked (:mod:`byom.web.pyodide_dist`),
the byom core plus the app's code in one content-addressed zip, first-party scripts only, and the
Content-Security-Policy both as ``<meta>`` and as a ``_headers`` file (:mod:`byom.web.headers`).

In the page, :mod:`byom.web.browser` is the shell around the same core the CPython ``App`` uses:
a ``fetch`` transport locked to the provider origin, IndexedDB storage with check-and-reserve
under a Web Lock, a key vault in memory (local storage only on the user's explicit opt-in), and
the bridge the UI components (``assets/kit.js``) talk to.

Importing this package is cheap and does not import anything browser-only.
"""

from byom.web.app import WebApp

__all__ = ["WebApp"]
