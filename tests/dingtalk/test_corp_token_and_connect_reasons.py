"""Client additions the doctor relies on: the unified corp token and why a connection failed."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from dingbridge.dingtalk import (
    AiohttpTransport,
    ASGITransport,
    DingTalkClient,
    DingTalkError,
    Endpoints,
    InvalidCredentials,
    ServerBusy,
    TransportError,
)
from dingbridge.sim.defaults import FULL_APP, OTHER_CORP_ID


def client(sim_app: Any, secret: str = FULL_APP.app_secret) -> DingTalkClient:
    return DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=secret,
        endpoints=Endpoints.single_base("http://sim.test"),
        transport=ASGITransport(sim_app),
    )


async def test_corp_token_for_the_apps_corp(sim_app: Any) -> None:
    token = await client(sim_app).tokens.corp_token(FULL_APP.corp_id)
    assert token.expires_in == 7200 and token.value


async def test_corp_token_refusals(sim_app: Any) -> None:
    with pytest.raises(DingTalkError) as other:
        await client(sim_app).tokens.corp_token(OTHER_CORP_ID)
    assert (other.value.status, other.value.code) == (401, "unauthorized.client")
    with pytest.raises(ServerBusy) as unknown:
        await client(sim_app).tokens.corp_token("ding000000000000fake")
    assert unknown.value.code == "unknownError"
    with pytest.raises(InvalidCredentials):
        await client(sim_app, secret="wrong").tokens.corp_token(FULL_APP.corp_id)


async def test_refused_connection_is_told_apart() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    transport = AiohttpTransport(connect_timeout=2)
    try:
        with pytest.raises(TransportError) as caught:
            await transport.request(
                "GET", f"http://127.0.0.1:{port}/gettoken", headers={}, body=None, timeout=2
            )
    finally:
        await transport.aclose()
    assert (caught.value.kind, caught.value.reason) == ("connect", "refused")
