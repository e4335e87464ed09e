"""R6.1 and R6.2 in a real browser: Debian's headless Chromium driven by Playwright.

- The generated badge SVGs, rasterised next to the canonical files, differ in at most
  :data:`MAX_DIFF_FRACTION` of their pixels.
- The rendered registry page shows the fixture's app and triggers no Content-Security-Policy
  violation (a control page with inline script and style shows the detector works).

The canonical badges and the example registry are the published fixtures in ``../shared``
beside the clone: without them those tests are skipped (``BYOM_REQUIRE_SHARED=1`` fails them).
Set ``BYOM_SCREENSHOT_DIR`` to keep a screenshot of the registry page.
"""

from __future__ import annotations

import base64
import os
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

pytestmark = pytest.mark.browser

import playwright.sync_api as sync_api  # noqa: E402

# `make test` installs Debian's chromium; a missing browser is a setup error, never a skip.
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    raise RuntimeError("Chromium is not installed: run `make test` (it installs it) or apt-get")

from byom.badge import badge_set  # noqa: E402
from byom.registry import check_registry_file, render_site  # noqa: E402
from conftest import shared_fixture  # noqa: E402

MAX_DIFF_FRACTION = 0.002
"""At most 0.2 % of pixels may differ (by more than 16 of 255 in a channel), at 4× scale.

Measured on Debian Chromium 156: 0 for all seven files. Moving the model square by two units
changes 0.43 % of the standard badge, so the threshold is tight enough to see that."""
CHANNEL_TOLERANCE = 16
SCALE = 4
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Draws two SVGs (as data: URLs) onto white canvases and returns the fraction of pixels whose
# colour differs by more than the tolerance in any channel.
COMPARE_JS = """async ([a, b, w, h, scale, tolerance]) => {
  const load = (svg) => new Promise((ok, bad) => {
    const img = new Image();
    img.onload = () => ok(img);
    img.onerror = () => bad(new Error('image did not load'));
    img.src = 'data:image/svg+xml;base64,' + svg;
  });
  const pixels = (img) => {
    const c = document.createElement('canvas');
    c.width = w * scale; c.height = h * scale;
    const g = c.getContext('2d');
    g.fillStyle = '#ffffff'; g.fillRect(0, 0, c.width, c.height);
    g.drawImage(img, 0, 0, c.width, c.height);
    return g.getImageData(0, 0, c.width, c.height).data;
  };
  const pa = pixels(await load(a)), pb = pixels(await load(b));
  let differing = 0, inked = 0;
  for (let i = 0; i < pa.length; i += 4) {
    let d = 0;
    for (let k = 0; k < 3; k++) d = Math.max(d, Math.abs(pa[i + k] - pb[i + k]));
    if (d > tolerance) differing++;
    if (pb[i] < 250 || pb[i + 1] < 250 || pb[i + 2] < 250) inked++;
  }
  return {fraction: differing / (pa.length / 4), inked: inked / (pa.length / 4)};
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize("item", badge_set(), ids=lambda i: i.filename)
def test_r6_1_badge_renders_like_the_canonical_file(browser: Any, item: Any) -> None:
    canonical = shared_fixture("badge", item.filename)
    page = browser.new_page()
    try:
        page.set_content("<!doctype html><title>compare</title>")
        result = page.evaluate(
            COMPARE_JS,
            [
                _b64(item.svg.encode()),
                _b64(canonical.read_bytes()),
                item.width,
                item.height,
                SCALE,
                CHANNEL_TOLERANCE,
            ],
        )
        # A control: the comparison sees a real difference (the mark moved by 2 units).
        moved = item.svg.replace('x="10" y="4"', 'x="12" y="4"', 1)
        control = page.evaluate(
            COMPARE_JS,
            [
                _b64(moved.encode()),
                _b64(canonical.read_bytes()),
                item.width,
                item.height,
                SCALE,
                CHANNEL_TOLERANCE,
            ],
        )
    finally:
        page.close()
    print(f"{item.filename}: {result['fraction']:.5f} of pixels differ")
    assert result["inked"] > 0.05, "the canonical file rendered blank"
    assert result["fraction"] <= MAX_DIFF_FRACTION, result
    assert moved != item.svg
    assert control["fraction"] > MAX_DIFF_FRACTION, control


class _Handler(SimpleHTTPRequestHandler):
    """Serves a directory, sending the headers listed in its ``_headers`` file."""

    extra: ClassVar[list[tuple[str, str]]] = []

    def end_headers(self) -> None:
        for name, value in self.extra:
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _serve(directory: Path) -> tuple[ThreadingHTTPServer, str]:
    headers_file = directory / "_headers"
    extra = []
    if headers_file.exists():
        for line in headers_file.read_text(encoding="utf-8").splitlines()[1:]:
            name, _, value = line.strip().partition(": ")
            extra.append((name, value))
    handler = type("H", (_Handler,), {"extra": extra})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def _violations(
    browser: Any, url: str, screenshot: Path | None = None, *, expected: int = 0
) -> tuple[list[str], str]:
    """Load ``url``; return CSP-related console/log entries and the page's visible text.

    Reports arrive asynchronously: after a short settling time for pages that must have none,
    and until ``expected`` of them arrived (however long that takes) for the control page.
    """
    page = browser.new_page()
    messages: list[str] = []
    cdp = page.context.new_cdp_session(page)
    cdp.on("Log.entryAdded", lambda e: messages.append(e["entry"]["text"]))
    cdp.send("Log.enable")
    page.on("console", lambda m: messages.append(m.text))

    def csp() -> list[str]:
        return [m for m in messages if "Content Security Policy" in m or "Refused to" in m]

    try:
        page.goto(url, wait_until="load")
        page.wait_for_timeout(200)
        deadline = time.monotonic() + 60  # only a hang fails here, never a slow machine
        while len(csp()) < expected and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        text: str = page.inner_text("body")
        if screenshot is not None:
            page.screenshot(path=str(screenshot), full_page=True)
    finally:
        page.close()
    return csp(), text


def test_r6_2_registry_page_has_no_csp_violations(browser: Any, tmp_path: Path) -> None:
    report = check_registry_file(shared_fixture("registry", "registry.yaml"))
    assert report.schema_valid
    site = tmp_path / "site"
    render_site(report.data, site)
    # the control: same policy, but inline script and inline style: must be reported
    (site / "control.html").write_text(
        (site / "index.html")
        .read_text(encoding="utf-8")
        .replace("</main>", '<p style="color:red">x</p><script>document.title="x"</script></main>'),
        encoding="utf-8",
    )
    server, base = _serve(site)
    try:
        shot = tmp_path / "registry-page.png"
        problems, text = _violations(browser, base + "index.html", shot)
        badge_problems, badge_text = _violations(browser, base + "badge.html")
        control, _ = _violations(browser, base + "control.html", expected=2)
    finally:
        server.shutdown()
    assert problems == [] and badge_problems == []
    assert "de bedrijfskompas" in text and "Ikigai matching" in text
    assert "A listing is not a security audit." in text
    assert "not prove" in badge_text
    assert len(control) >= 2, control  # the detector sees both the inline style and script
    assert shot.stat().st_size > 10_000
    keep = os.environ.get("BYOM_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "registry-page.png")
