"""The per-app egress IP whitelist, checked against the TCP peer address."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import aiohttp
import pytest

from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from dingbridge.sim.records import ip_matches
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi


@pytest.mark.parametrize(
    ("pattern", "ip", "allowed"),
    [
        ("127.*.*.*", "127.0.0.2", True),
        ("110.82.*.*", "110.82.3.4", True),
        ("110.82.*.*", "110.83.3.4", False),
        ("127.0.0.2", "127.0.0.1", False),
        ("127.0.0.*", "127.0.0.200", True),
        ("127.0.*", "127.0.0.1", False),
    ],
)
def test_ip_patterns(pattern: str, ip: str, allowed: bool) -> None:
    assert ip_matches(pattern, ip) is allowed


def _ip_message(ip: str, key: str) -> str:
    return (
        "访问ip不在白名单之中，请参考FAQ：https://open.dingtalk.com/document/org-faq/app-faq,"
        f"request ip={ip} appKey({key})"
    )


async def test_gettoken_from_a_non_whitelisted_ip_names_the_ip(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": WHITELIST_APP.app_key, "appsecret": WHITELIST_APP.app_secret},
        peer="127.0.0.1",
    )
    assert answer.json() == {
        "errcode": 60020,
        "errmsg": _ip_message("127.0.0.1", WHITELIST_APP.app_key),
    }
    assert await app_token(sim_app, WHITELIST_APP, peer="127.0.0.2")


async def test_calls_with_a_token_are_checked_too(sim_app: Any) -> None:
    token = await app_token(sim_app, WHITELIST_APP, peer="127.0.0.2")
    body = await topapi(
        sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}, peer="127.0.0.3"
    )
    assert body["errcode"] == 60020
    assert body["errmsg"] == _ip_message("127.0.0.3", WHITELIST_APP.app_key)
    assert body["request_id"]
    api = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/jsapiTickets",
        headers={"x-acs-dingtalk-access-token": token},
        peer="10.1.2.3",
    )
    assert api.status == 403
    assert api.json()["code"] == "Forbidden.AccessDenied.IpNotInWhiteList"
    assert api.json()["message"] == _ip_message("10.1.2.3", WHITELIST_APP.app_key)


async def test_whether_gettoken_is_ip_checked_is_a_setting(sim_app: Any, sim_state: Any) -> None:
    sim_state.settings.check_ip_on_gettoken = False
    token = await app_token(sim_app, WHITELIST_APP, peer="127.0.0.1")
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert body["errcode"] == 60020


async def test_real_socket_peer_127_0_0_2_is_whitelisted(sim_server: Any) -> None:
    query = {"appkey": WHITELIST_APP.app_key, "appsecret": WHITELIST_APP.app_secret}
    results = {}
    for source in ("127.0.0.1", "127.0.0.2"):
        connector = aiohttp.TCPConnector(local_addr=(source, 0))
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(f"{sim_server.url}/gettoken", params=query) as response,
        ):
            results[source] = await response.json(content_type=None)
    assert results["127.0.0.1"]["errcode"] == 60020
    assert "request ip=127.0.0.1 " in results["127.0.0.1"]["errmsg"]
    assert results["127.0.0.2"]["errcode"] == 0
    peers = [(e.path, e.peer, e.outcome) for e in sim_server.state.request_log]
    assert peers == [("/gettoken", "127.0.0.1", "60020"), ("/gettoken", "127.0.0.2", "ok")]


async def test_full_app_accepts_any_loopback_address(sim_server: Any) -> None:
    def fetch() -> int:
        # A plain blocking socket from 127.0.0.5 proves the peer is the client's source address.
        with socket.create_connection(
            (sim_server.url.split("//")[1].split(":")[0], int(sim_server.url.rsplit(":", 1)[1])),
            source_address=("127.0.0.5", 0),
        ) as sock:
            request = (
                f"GET /gettoken?appkey={FULL_APP.app_key}&appsecret={FULL_APP.app_secret}"
                " HTTP/1.1\r\n"
                "Host: sim\r\nConnection: close\r\n\r\n"
            )
            sock.sendall(request.encode())
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        return 0 if b'"errcode":0' in data else 1

    assert await asyncio.to_thread(fetch) == 0
    assert sim_server.state.request_log[-1].peer == "127.0.0.5"
