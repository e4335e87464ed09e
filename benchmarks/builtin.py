"""The built-in model, natively: load time, prompt and output speed, time to first token, the
time a cancel takes to stop the runtime, and peak memory.

    .venv/bin/python benchmarks/builtin.py [--runs 3] [--threads 1 2] [--tokens 32]

The model is the built-in SmolLM2-135M-Instruct (Q4_1 GGUF) through llama-cpp-python (``make
builtin``). The prompt is an ~80-token chat (rendered with the model's own chat template),
greedy, up to ``--tokens`` output tokens — the prompt and settings used for the in-browser
figures in ``shared/spec/builtin.md``, so the two halves compare.

The browser half (``--browser``, on by default) builds the Reader with ``builtin = true``, serves
it on loopback with its real headers (COOP/COEP) and drives headless Chromium: the same model
and prompt through the page's own runtime (``byom/builtin.js``: wllama in WebAssembly), with 1 and
2 threads. It reports the download size, the cold load (an empty browser profile: download,
check, OPFS write, start) and the warm load (a second page: from OPFS), prompt and output tok/s
from the runtime's own timings, the time to the first streamed token as the page sees it, and
Chromium's peak memory (PSS of all its processes, the Reader's Python included). Ratios
browser/native come from one run.

* load: a fresh engine reading the file (``cold`` = first in this process; ``warm`` = again,
  the file now in the page cache), seconds;
* prompt tok/s: prompt tokens / time to read them; output tok/s: output tokens / time to
  produce them (both from the runtime's own counts);
* first token: from the call (``App.astream``) to the first text delta, through the whole call
  path (budget guard, ledger, transport, worker thread), seconds;
* cancel: from closing the stream to the runtime's generation having ended, seconds (goal:
  under one second);
* peak RSS of this process (MiB).

Printed, never asserted: a busy machine is slower, not wrong. The tests check behaviour only.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

import byom
from byom.builtin.models import builtin_model
from byom.builtin.runtime import Engine, Generation, engine_for
from byom.core.usage import Delta

PROMPT = [
    {
        "role": "system",
        "content": "You are a helpful assistant who rewrites messages in plain, simple words.",
    },
    {
        "role": "user",
        "content": "Rewrite this message more simply: Owing to scheduled maintenance of the "
        "heating installation, the municipal swimming pool will remain closed to the public "
        "from Monday until further notice. Season ticket holders will be compensated.",
    },
]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(threads: int) -> float:
    engine = Engine(builtin_model(), n_threads=threads)
    started = time.perf_counter()
    engine.load()
    seconds = time.perf_counter() - started
    engine.close()
    return seconds


def generate(engine: Engine, tokens: int) -> Generation:
    prepared = engine.prepare(PROMPT, tokens, {"temperature": 0})
    return engine.run(prepared, lambda text: None, threading.Event())


def through_app(app: byom.App, tokens: int) -> tuple[float, float]:
    """(first delta, cancel → stopped) seconds, through ``App.astream``."""

    async def go() -> tuple[float, float]:
        started = time.perf_counter()
        stream = app.astream("rewrite", PROMPT, max_tokens=tokens, temperature=0)
        first = 0.0
        async for item in stream:
            if isinstance(item, Delta) and item.text:
                first = time.perf_counter() - started
                break
        figures = engine_for(builtin_model()).last
        cancel_at = time.perf_counter()
        await stream.aclose()
        assert figures is not None
        await asyncio.to_thread(figures.done.wait, 60)
        return first, time.perf_counter() - cancel_at

    return asyncio.run(go())


def _pss_mib(root_pid: int) -> float:
    """Total PSS of a process and its descendants (MiB), from /proc (Linux)."""
    from pathlib import Path

    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [root_pid]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


_MEASURE = """async ([body, threads]) => {
  await BYOM.ready;
  if (!window.byomBuiltin) {
    await new Promise((resolve) => {
      const s = document.createElement('script');
      const cfg = BYOM._config;
      s.src = cfg.builtin.script; s.integrity = cfg.builtin.script_integrity;
      s.onload = resolve; document.head.appendChild(s);
    });
    byomBuiltin.configure(BYOM._config.builtin);
  }
  const state = await byomBuiltin.load({threads: threads});
  const t0 = performance.now();
  const r = await byomBuiltin.fetch('http://builtin.invalid/v1/chat/completions',
    {method: 'POST', body: new TextEncoder().encode(JSON.stringify(body)),
     signal: new AbortController().signal});
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let first = null, text = '';
  for (;;) {
    const step = await reader.read();
    if (step.done) break;
    const piece = dec.decode(step.value);
    if (first === null && piece.includes('"content"')) first = performance.now() - t0;
    text += piece;
  }
  return {state, first_ms: first, record: byomBuiltin.lastRequest()};
}"""


def browser_half(
    threads_list: list[int], tokens: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The in-browser figures (see the module docstring), one row per thread count."""
    import shutil
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from byom.web.build import build_site
    from byom.web.serve import Site

    reader = Path(__file__).resolve().parents[1] / "examples" / "reader"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        build_site(reader, out, builtin=True)
        config = (out / "byom" / "config.json").read_text()
        import json

        builtin_config = json.loads(config)["builtin"]
        size = sum(p["size"] for p in builtin_config["model"]["parts"])
        size += (out / builtin_config["wllama"]["wasm"]).stat().st_size
        size += (out / builtin_config["wllama"]["js"]).stat().st_size
        body = {
            "model": builtin_config["model"]["id"],
            "messages": PROMPT,
            "max_tokens": tokens,
            "stream": True,
            "temperature": 0,
            "ignore_eos": True,
        }
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        with Site(out) as site, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            browser_pid = _browser_pid(chromium)
            for threads in threads_list:
                context = browser.new_context()
                peak = [0.0]
                stop = threading.Event()

                def sample(peak: list[float] = peak, stop: threading.Event = stop) -> None:
                    while not stop.is_set():
                        if browser_pid is not None:
                            peak[0] = max(peak[0], _pss_mib(browser_pid))
                        stop.wait(0.25)

                sampler = threading.Thread(target=sample, daemon=True)
                sampler.start()
                cold_page = context.new_page()
                cold_page.goto(site.url)
                cold = cold_page.evaluate(_MEASURE, [body, threads])
                warm_page = context.new_page()
                warm_page.goto(site.url)
                warm = warm_page.evaluate(_MEASURE, [body, threads])
                stop.set()
                sampler.join()
                timings = warm["record"].get("timings") or {}
                rows.append(
                    {
                        "threads": warm["state"]["threads"],
                        "download MB": size / 1e6,
                        "load cold s": cold["state"]["timings"]["total_ms"] / 1000,
                        "load warm s": warm["state"]["timings"]["total_ms"] / 1000,
                        "warm from disk": warm["state"]["fromCache"],
                        "prompt tokens": timings.get("prompt_n"),
                        "output tokens": timings.get("predicted_n"),
                        "prompt tok/s": float(timings.get("prompt_per_second") or 0.0),
                        "output tok/s": float(timings.get("predicted_per_second") or 0.0),
                        "first token s": (warm["first_ms"] or 0.0) / 1000,
                        "peak PSS MiB": peak[0],
                    }
                )
                context.close()
            first_words = reader_first_word(browser, site)
            browser.close()
    return rows, first_words


_WATCH_FIRST_WORD = """() => {
  const body = document.getElementById('result-body');
  const button = document.querySelector('[data-testid=tool-summarize]');
  window.__press = null; window.__firstWord = null;
  button.addEventListener('click', () => { window.__press = performance.now(); },
    {capture: true, once: true});
  new MutationObserver(() => {
    // the answer's first words (the waiting line is p.muted, the progress is in a div)
    const p = body.querySelector(':scope > p:not(.muted)');
    if (window.__firstWord === null && window.__press !== null && p && p.textContent.trim()) {
      window.__firstWord = performance.now() - window.__press;
    }
  }).observe(body, {childList: true, subtree: true, characterData: true});
}"""


def _poll(page: Any, expression: str, timeout: float = 600.0) -> Any:
    """``page.evaluate`` until truthy (the site's CSP forbids ``wait_for_function``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(expression)


def reader_first_word(browser: Any, site: Any) -> list[dict[str, Any]]:
    """The issue's measure: from pressing the Reader's Summarize (a sample document open, the
    model already on this device) to the first word of the answer on screen, 1 thread.

    A first visit picks the built-in model in the wizard (download, OPFS). Then, per sample, a
    new visit: ``read ahead`` presses once the page has let the model read Summarize's prompt
    (``BYOM.prepare``, when the document opened); ``settled`` presses as soon as the document is
    open, the runtime started from disk (the page does that when idle) but the read-ahead just
    begun; ``at once`` presses as soon as the page is ready (the press then also waits for the
    runtime's start). Times from the page's own clock."""
    context = browser.new_context()
    first = context.new_page()
    first.goto(site.url)
    _poll(first, "document.documentElement.dataset.byomReady === '1'")
    first.locator("[data-testid=sample]").nth(0).click()
    first.click("[data-testid=tool-summarize]")
    _poll(first, "!!document.querySelector('[data-testid=wizard-builtin]')")
    first.click("[data-testid=wizard-builtin]")
    _poll(first, "!!document.querySelector('[data-testid=wizard-builtin-start]')")
    first.click("[data-testid=wizard-builtin-start]")
    _poll(
        first,
        "document.getElementById('result-stop').hidden && "
        "document.getElementById('result-foot').textContent",
    )
    first.close()
    rows: list[dict[str, Any]] = []
    samples = context.new_page()
    samples.goto(site.url)
    _poll(samples, "document.documentElement.dataset.byomReady === '1'")
    count = samples.locator("[data-testid=sample]").count()
    samples.close()
    for index in range(count):
        for mode in ("read ahead", "settled", "at once"):
            page = context.new_page()
            page.goto(site.url)
            _poll(page, "document.documentElement.dataset.byomReady === '1'")
            if mode != "at once":
                _poll(page, "document.documentElement.dataset.byomBuiltin === 'ready'")
            page.locator("[data-testid=sample]").nth(index).click()
            _poll(page, "!document.getElementById('doc').hidden")
            if mode == "read ahead":  # the page has let the model read Summarize's prompt
                _poll(page, "(byomBuiltin.state().readAhead || 0) >= 1")
            page.evaluate(_WATCH_FIRST_WORD)
            page.click("[data-testid=tool-summarize]")
            first_word = _poll(page, "window.__firstWord")
            _poll(
                page,
                "document.getElementById('result-stop').hidden && "
                "document.getElementById('result-foot').textContent",
            )
            record = page.evaluate("byomBuiltin.lastRequest()") or {}
            timings = record.get("timings") or {}
            rows.append(
                {
                    "sample": index,
                    "press": mode,
                    "prompt tokens": record.get("promptTokens"),
                    "read after the press": timings.get("prompt_n"),
                    "first word s": first_word / 1000,
                    "wait estimate shown s": record.get("eta") if record.get("announced") else None,
                }
            )
            page.close()
    context.close()
    return rows


def _browser_pid(executable: str) -> int | None:
    """The newest Chromium browser process (the one Playwright just started)."""
    from pathlib import Path

    newest: tuple[float, int] | None = None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
            if not args or not args[0].decode(errors="replace").endswith("chromium"):
                continue
            if any(a.startswith(b"--type=") for a in args):
                continue  # a child (renderer, gpu, utility)
            started = cmdline.parent.stat().st_mtime
        except OSError:
            continue
        if newest is None or started > newest[0]:
            newest = (started, int(cmdline.parent.name))
    return newest[1] if newest else None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument(
        "--no-browser", action="store_true", help="only the native half (no Chromium)"
    )
    args = parser.parse_args()
    model = builtin_model()
    print(
        f"model {model.path.name}: {model.size_bytes / 1e6:.1f} MB on disk, "
        f"context {model.context_length} tokens"
    )
    print(f"peak RSS before loading: {peak_mib():.0f} MiB")
    rows: list[dict[str, Any]] = []
    for threads in args.threads:
        cold = load(threads)
        warm = median([load(threads) for _ in range(args.runs)])
        engine = Engine(model, n_threads=threads)
        engine.load()
        runs = [generate(engine, args.tokens) for _ in range(args.runs)]
        engine.close()
        prompt_rate = median([g.prompt_tokens / g.prompt_seconds for g in runs])
        output_rate = median(
            [g.completion_tokens / g.output_seconds for g in runs if g.output_seconds > 0]
        )
        first_runtime = median([g.first_token_seconds or 0.0 for g in runs])
        rows.append(
            {
                "threads": threads,
                "load cold s": cold,
                "load warm s": warm,
                "prompt tokens": runs[0].prompt_tokens,
                "output tokens": runs[0].completion_tokens,
                "prompt tok/s": prompt_rate,
                "output tok/s": output_rate,
                "first token (runtime) s": first_runtime,
            }
        )
    # Through the whole call path, with the process's default thread count.
    with tempfile.TemporaryDirectory() as tmp:
        app = byom.App("Builtin bench", [byom.Feature("rewrite", "worker")], data_dir=tmp)
        app.connect("builtin")
        app.chat("rewrite", PROMPT, max_tokens=4, temperature=0)  # load outside the timing
        measured = [through_app(app, 2000) for _ in range(args.runs)]
        app.close()
    for row in rows:
        print(
            " · ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
        )
    engine_threads = engine_for(model).n_threads
    print(
        f"App.astream ({engine_threads} threads): first text delta "
        f"{median([m[0] for m in measured]):.2f} s · cancel → runtime stopped "
        f"{median([m[1] for m in measured]):.3f} s (goal < 1 s)"
    )
    print(f"peak RSS: {peak_mib():.0f} MiB")
    if args.no_browser:
        return 0
    browser_rows, first_words = browser_half(args.threads, args.tokens)
    for row in browser_rows:
        print(
            "browser · "
            + " · ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
        )
    for row in first_words:
        print(
            "Reader Summarize, model on this device · "
            + " · ".join(
                f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
            + " (goal: first word <= 10 s)"
        )
    native = {row["threads"]: row for row in rows}
    for row in browser_rows:
        base = native.get(row["threads"])
        if base is None:
            continue
        print(
            f"browser/native, {row['threads']} thread(s): "
            f"prompt {row['prompt tok/s'] / base['prompt tok/s']:.2f}x · "
            f"output {row['output tok/s'] / base['output tok/s']:.2f}x (goal >= 0.3x) · "
            f"first token {row['first token s'] / max(base['first token (runtime) s'], 1e-9):.1f}x "
            f"slower · warm load {row['load warm s'] / base['load warm s']:.1f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
