"""A faithful local DingTalk: the server APIs, OAuth pages, JSAPI, whitelist, permissions, faults.

Use :func:`create_app` with a :class:`SimState` (``SimState.default()`` or
``SimState.from_fixture(dict)``); ``dingbridge sim`` serves it. See docs/simulator.md.
"""

from __future__ import annotations

from dingbridge.sim.app import create_app
from dingbridge.sim.fixtures import FixtureError
from dingbridge.sim.state import LogEntry, SentMessage, SimState

__all__ = ["FixtureError", "LogEntry", "SentMessage", "SimState", "create_app"]
