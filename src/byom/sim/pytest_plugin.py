"""A pytest plugin: the provider simulator as fixtures, for testing an app built on byom offline.

Enable it in the app's ``conftest.py``::

    pytest_plugins = ["byom.sim.pytest_plugin"]

or on the command line: ``pytest -p byom.sim.pytest_plugin``. Then::

    def test_summary_survives_a_rate_limit(byom_sim, tmp_path):
        app = byom.App("Paper digest", app_id="paper-digest", features=[...], data_dir=tmp_path)
        app.connect("openrouter", key="sk-or-test", base_url=byom_sim.base_url_for("openrouter"))
        byom_sim.push_faults([{"status": 429, "retry_after": 2}])
        with pytest.raises(byom.errors.RateLimited):
            app.chat("summarize", messages, max_tokens=100)

Fixtures:

``byom_sim``
    A running :class:`byom.sim.Simulator`, reset before each test (no faults, default config,
    counters at zero). One server serves the whole test session, on a free loopback port.
``byom_sim_server``
    The same server without the reset (session scope), for fixtures of a wider scope.

The plugin loads nothing at import beyond the simulator (standard library only) and never
touches the network beyond loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from byom.sim import Simulator


@pytest.fixture(scope="session")
def byom_sim_server() -> Iterator[Simulator]:
    """One simulator for the test session, stopped at its end."""
    with Simulator() as sim:
        yield sim


@pytest.fixture
def byom_sim(byom_sim_server: Simulator) -> Simulator:
    """The session's simulator, reset: no queued faults, default config, zero counters."""
    byom_sim_server.reset()
    return byom_sim_server


__all__ = ["byom_sim", "byom_sim_server"]
