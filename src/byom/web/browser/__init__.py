"""The shell that runs inside the page under Pyodide.

Everything here talks to the browser through a small *host* object (``globalThis.byomHost``,
defined by the first-party ``boot.js``) or through ``js`` — and only when used, so the modules
import under CPython too, where the tests drive them with fake hosts.
"""
