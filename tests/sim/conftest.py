"""Fixtures for the simulator tests (sim_state, sim_app, sim_server live in tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from dingbridge.sim.defaults import DemoApp
from tests.sim.asgi_call import call


async def app_token(app: Any, demo: DemoApp, peer: str = "127.0.0.1") -> str:
    answer = await call(
        app,
        "GET",
        "/gettoken",
        query={"appkey": demo.app_key, "appsecret": demo.app_secret},
        peer=peer,
    )
    body = answer.json()
    assert body["errcode"] == 0, body
    return str(body["access_token"])


async def topapi(
    app: Any, path: str, token: str, body: dict[str, Any], peer: str = "127.0.0.1"
) -> dict[str, Any]:
    answer = await call(app, "POST", path, query={"access_token": token}, json=body, peer=peer)
    assert answer.status == 200
    result: dict[str, Any] = answer.json()
    return result
