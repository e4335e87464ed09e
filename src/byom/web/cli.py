"""``byom web build`` and ``byom demo``.

``byom demo`` is the README's main job: it builds the reference app (Reader) once into the cache,
starts the provider simulator beside it, serves the site on 127.0.0.1 with its ``_headers`` as
real HTTP headers, prints the URL and opens a browser when there is one. Nothing leaves the
machine. ``--no-browser`` and ``--exit-after`` make it usable from tests and CI; SIGTERM and
Ctrl-C stop it cleanly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

DEFAULT_PORT = 8765


def register(subparsers: Any) -> None:
    web = subparsers.add_parser(
        "web",
        help="build static BYOM web apps (Python in the browser via Pyodide)",
        description="Tools for BYOM web apps whose model features run in Python in the browser.",
    )
    web_sub = web.add_subparsers(dest="web_command", metavar="COMMAND")
    build = web_sub.add_parser(
        "build",
        help="build an app directory into a static site",
        description=(
            "Build APP_DIR (with its byom-app.toml) into a static site: self-hosted Pyodide "
            "(fetched once via npm, hash-checked), the byom core and the app's Python, and the "
            "Content-Security-Policy as <meta> and as a _headers file. Reproducible."
        ),
    )
    build.add_argument("app_dir", metavar="APP_DIR")
    build.add_argument("-o", "--out", required=True, metavar="DIST", help="output folder")
    build.add_argument(
        "--demo-sim",
        metavar="URL",
        default=None,
        help="demo build: offer the simulator at URL (e.g. http://127.0.0.1:8766) in the wizard",
    )
    build.add_argument(
        "--sim-providers",
        metavar="URL",
        default=None,
        help="test build, never to deploy: every declared provider is served by the simulator "
        "at URL, so each provider's wizard path can be tried offline",
    )
    build.set_defaults(func=run_build)
    web.set_defaults(func=lambda args: (web.print_help(sys.stderr), 2)[1])

    demo = subparsers.add_parser(
        "demo",
        help="run the reference app (Reader) against the simulator, offline",
        description=(
            "Build the reference app (cached), start the provider simulator, serve the site on "
            "127.0.0.1 with its security headers, print the URL and open a browser."
        ),
    )
    demo.add_argument("--port", type=int, default=DEFAULT_PORT, help="site port (default 8765)")
    demo.add_argument(
        "--sim-port", type=int, default=None, help="simulator port (default: site port + 1)"
    )
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument(
        "--exit-after", type=float, default=None, metavar="SECONDS", help="stop after SECONDS"
    )
    demo.add_argument(
        "--app", default=None, metavar="APP_DIR", help="serve another app instead of Reader"
    )
    demo.set_defaults(func=run_demo)


def run_build(args: argparse.Namespace) -> int:
    from byom.web.build import BuildError, build_site
    from byom.web.pyodide_dist import PyodideUnavailable

    try:
        result = build_site(
            args.app_dir,
            args.out,
            demo_sim=args.demo_sim,
            sim_providers=getattr(args, "sim_providers", None),
            quiet=False,
        )
    except (BuildError, PyodideUnavailable) as exc:
        sys.stderr.write(f"byom web build: {exc}\n")
        return 1
    sys.stdout.write(
        f"built {len(result.files)} files into {result.out} (digest {result.digest[:16]})\n"
        f"the page may connect to: {' '.join(result.connect_src)}\n"
    )
    return 0


def reader_dir() -> Path:
    """The reference app: packaged beside this module, else the source checkout's copy."""
    here = Path(__file__).resolve()
    for candidate in (here.with_name("reader"), here.parents[3] / "examples" / "reader"):
        if (candidate / "byom-app.toml").is_file():
            return candidate
    raise FileNotFoundError("the reference app (examples/reader) is not installed")


def _free_port(host: str, wanted: int) -> int:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, wanted))
            return wanted
        except OSError:
            probe.bind((host, 0))
            return int(probe.getsockname()[1])


def _should_open_browser() -> bool:
    if os.environ.get("CI"):
        return False
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    return True


def _builtin_model_installed() -> bool:
    from byom.builtin.models import builtin_model_path

    return builtin_model_path() is not None


def run_demo(args: argparse.Namespace) -> int:
    from byom.sim import Simulator
    from byom.web.build import BuildError, build_site, site_key
    from byom.web.pyodide_dist import PyodideUnavailable, cache_root
    from byom.web.serve import Site

    host = "127.0.0.1"
    app_dir = Path(args.app) if args.app else reader_dir()
    site_port = _free_port(host, args.port)
    sim_port = _free_port(host, args.sim_port if args.sim_port is not None else site_port + 1)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    sim = Simulator(host, sim_port).start()
    try:
        # The Reader's model features run on the built-in model by default (issue 17): it is
        # built with it whenever the model's wheel is installed (make demo installs it).
        builtin = True if args.app is None and _builtin_model_installed() else None
        out = cache_root() / "sites" / site_key(app_dir, sim.base_url, builtin)
        if not (out / "_headers").is_file():
            build_site(app_dir, out, demo_sim=sim.base_url, quiet=False, builtin=builtin)
        with Site(out, host, site_port) as site:
            sys.stdout.write(site.url + "\n")
            sys.stdout.flush()
            # The address is on stdout (the line above, for a person and for a script that
            # reads it); this line adds what it is without repeating it.
            sys.stderr.write(
                "byom demo: Reader is served at the address above; "
                + (
                    "its model features run on the built-in model, in the page (no key, no "
                    "network beyond this address); "
                    if builtin
                    else ""
                )
                + f"the simulator at {sim.base_url} is offered too (offline, canned replies, "
                "no cost). Ctrl-C to stop.\n"
            )
            sys.stderr.flush()
            if not args.no_browser and _should_open_browser():
                import webbrowser

                webbrowser.open(site.url)
            stop.wait(args.exit_after)
    except (BuildError, PyodideUnavailable, FileNotFoundError) as exc:
        sys.stderr.write(f"byom demo: {exc}\n")
        return 1
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
