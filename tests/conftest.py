"""Shared fixtures. Area fixtures live in the conftest.py of each test folder."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest


def _is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).split("%")[0]
    if host in ("", "localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may reach 127.0.0.0/8 and ::1 only: a name lookup or a connect elsewhere fails at
    once, as it would on a machine without a network, instead of leaving this machine."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"tests reach loopback only, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def refuse(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"tests reach loopback only, not {address[0]!r}")

    def connect(self: socket.socket, address: Any) -> None:
        refuse(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def env_url(name: str) -> str:
    """Return a service URL from the environment, or skip the test without it."""
    value = os.environ.get(name, "")
    if not value:
        pytest.skip(f"{name} is not set")
    return value


# Debian's chromium, never a downloaded browser; the flags keep it off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A headless Chromium (Playwright's async API: a playwright ``Browser``)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def postgres_url() -> str:
    return env_url("DINGBRIDGE_TEST_POSTGRES_URL")


@pytest.fixture
def redis_url() -> str:
    return env_url("DINGBRIDGE_TEST_REDIS_URL")


# --- simulator fixtures ---
# sim_state: a fresh SimState.default(); sim_app: its ASGI app; sim_server: the app served by
# uvicorn on 127.0.0.1 (free port) in a background thread, with ``.url`` and ``.state``.
# Clients bound to source address 127.0.0.2 are seen by the simulator as peer 127.0.0.2.
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from typing import Any as _Any  # noqa: E402


@_dataclass
class SimServer:
    url: str
    state: _Any  # dingbridge.sim.SimState
    app: _Any


@pytest.fixture
def sim_state() -> _Any:
    from dingbridge.sim import SimState

    return SimState.default()


@pytest.fixture
def sim_app(sim_state: _Any) -> _Any:
    from dingbridge.sim import create_app

    return create_app(sim_state)


@pytest.fixture
def sim_server(sim_state: _Any, sim_app: _Any) -> Iterator[SimServer]:
    from dingbridge.sim.background import BackgroundServer

    with BackgroundServer(sim_app, host="127.0.0.1") as server:
        yield SimServer(url=server.url, state=sim_state, app=sim_app)


# --- end of simulator fixtures ---
