"""The main client calls over a real socket: AiohttpTransport → the simulator under uvicorn."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dingbridge.dingtalk import (
    AiohttpTransport,
    DingTalkClient,
    Endpoints,
    IpNotWhitelisted,
    TransportError,
)
from dingbridge.dingtalk.api.messages import text_message
from dingbridge.dingtalk.caller import RetryPolicy
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, WHITELIST_APP
from dingbridge.sim.faults import parse_fault

MakeClient = Callable[..., DingTalkClient]


@pytest.fixture
async def socket_client(sim_server: Any) -> AsyncIterator[MakeClient]:
    made: list[DingTalkClient] = []

    def make(
        app: Any = FULL_APP,
        *,
        local_addr: str | None = None,
        base: str | None = None,
        timeout: float = 5.0,
        api_version: str = "v2",
    ) -> DingTalkClient:
        client = DingTalkClient(
            app_key=app.app_key,
            app_secret=app.app_secret,
            corp_id=app.corp_id,
            agent_id=app.agent_id,
            api_version=api_version,  # type: ignore[arg-type]
            endpoints=Endpoints.single_base(base or sim_server.url),
            transport=AiohttpTransport(local_addr=local_addr),
            retry=RetryPolicy(backoff=0.0),
            timeout=timeout,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.transport.aclose()


def count(sim_server: Any, path: str) -> int:
    return sum(e.path == path for e in sim_server.state.request_log)


async def test_token_mianden_and_detail(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client()
    code = sim_server.state.issue_authcode(DEMO_CORP_ID, "user001")
    info = await client.users.getuserinfo(code)
    user = await client.users.get(info.userid)
    assert (user.name, user.mobile) == ("张伟", "13800000001")
    assert (await client.users.getbymobile("13800000001")) == "user001"
    assert (await client.users.getbyunionid(user.unionid or "")).userid == "user001"


async def test_v1_token_and_code(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client(api_version="v1")
    code = sim_server.state.issue_authcode(DEMO_CORP_ID, "user002")
    assert (await client.users.from_auth_code(code)).userid == "user002"
    assert count(sim_server, "/gettoken") == 1


async def test_single_flight_over_the_socket(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client()
    tokens = await asyncio.gather(*(client.tokens.app_token() for _ in range(100)))
    assert len(set(tokens)) == 1
    assert count(sim_server, "/v1.0/oauth2/accessToken") == 1


async def test_browser_oauth_chain(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client()
    url = client.oauth.authorize_url("http://127.0.0.1:8000/cb", state="st") + "&userid=user001"
    answer = await client.transport.request("GET", url, headers={}, body=None, timeout=5)
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    identity = await client.oauth.identity_from_code(back["authCode"][0])
    assert (identity.userid, identity.nick) == ("user001", "张伟")


async def test_contacts_jsapi_messages(socket_client: MakeClient) -> None:
    client = socket_client()
    depts = await client.contacts.listsub()
    ids = await client.contacts.listid(depts[0].dept_id)
    pages = [p async for p in client.contacts.user_list_pages(depts[0].dept_id, size=2)]
    assert sorted(u.userid for p in pages for u in p) == sorted(ids)
    cfg = await client.jsapi.config("http://127.0.0.1:8000/10001/")
    assert len(cfg.signature) == 40
    task_id = await client.messages.asyncsend_v2(text_message("你好"), userid_list=["user001"])
    assert (await client.messages.getsendprogress(task_id)).done


async def test_whitelist_by_source_address(socket_client: MakeClient) -> None:
    with pytest.raises(IpNotWhitelisted) as err:
        await socket_client(WHITELIST_APP, local_addr="127.0.0.1").users.get("user001")
    assert err.value.ip == "127.0.0.1"
    assert "DingTalk saw this call come from IP 127.0.0.1" in err.value.explanation_en
    ok = socket_client(WHITELIST_APP, local_addr="127.0.0.2")
    assert (await ok.users.get("user001")).userid == "user001"


async def test_dropped_connection_retried(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client()
    await client.tokens.app_token()
    sim_server.state.faults.add(
        parse_fault({"path": "/topapi/v2/user/get", "kind": "drop", "count": 1})
    )
    assert (await client.users.get("user001")).userid == "user001"


async def test_5xx_once_then_success(socket_client: MakeClient, sim_server: Any) -> None:
    sim_server.state.faults.add(
        parse_fault({"path": "/v1.0/oauth2/accessToken", "kind": "http_status", "count": 1})
    )
    assert await socket_client().tokens.app_token()
    assert count(sim_server, "/v1.0/oauth2/accessToken") == 2


async def test_timeout(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client(timeout=0.3)
    await client.tokens.app_token()
    sim_server.state.faults.add(parse_fault({"path": "/topapi/v2/user/get", "kind": "hang"}))
    with pytest.raises(TransportError) as err:
        await client.users.get("user001")
    assert err.value.kind == "timeout"


async def test_connection_refused(socket_client: MakeClient) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = socket_client(base=f"http://127.0.0.1:{port}")
    with pytest.raises(TransportError) as err:
        await client.tokens.app_token()
    assert err.value.kind == "connect"
    assert "无法连接钉钉" in err.value.explanation
    assert FULL_APP.app_secret not in str(err.value)


async def test_v1_browser_login_over_socket(socket_client: MakeClient, sim_server: Any) -> None:
    client = socket_client(api_version="v1")
    url = client.oauth.login_url("http://127.0.0.1:8000/cb", state="s")  # client is v1
    answer = await client.transport.request(
        "GET", url + "&userid=user003", headers={}, body=None, timeout=5
    )
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    identity = await client.oauth.identity_from_code(back["code"][0])
    assert identity.userid == "user003"
    assert await client.jsapi.ticket()
    assert count(sim_server, "/get_jsapi_ticket") == 1
