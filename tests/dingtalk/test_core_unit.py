"""Client core against a scripted DingTalk: token caching, retries, error mapping, logging."""

from __future__ import annotations

import asyncio
import logging

import pytest

from dingbridge.dingtalk import (
    AuthCodeInvalid,
    DingTalkClient,
    Endpoints,
    HandlerTransport,
    MemoryTokenStore,
    Request,
    Response,
    RetryPolicy,
    ServerBusy,
    TokenInvalid,
    TransportError,
)
from dingbridge.dingtalk.transport import json_response
from tests.dingtalk.conftest import APP_KEY, APP_SECRET, ScriptedDingTalk

USER = {"errcode": 0, "errmsg": "ok", "result": {"userid": "user001", "name": "张伟"}}


async def test_v2_token_is_fetched_once_and_sent_as_query_on_oapi(
    client: DingTalkClient, fake: ScriptedDingTalk, transport: HandlerTransport
) -> None:
    fake.on("/topapi/v2/user/get", USER)
    user = await client.users.get("user001")
    await client.users.get("user001")
    assert user.name == "张伟"
    assert fake.token_fetches == 1
    token_req, call = transport.requests[0], transport.requests[1]
    assert token_req.path == "/v1.0/oauth2/accessToken"
    assert token_req.json() == {"appKey": APP_KEY, "appSecret": APP_SECRET}
    assert call.query["access_token"] == "app-token-1"
    assert call.json() == {"userid": "user001", "language": "zh_CN"}


async def test_v1_fetches_token_with_gettoken(fake: ScriptedDingTalk) -> None:
    transport = HandlerTransport(fake)
    client = DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_version="v1",
        endpoints=Endpoints.single_base("http://dingtalk.test"),
        transport=transport,
    )
    assert await client.tokens.app_token() == "app-token-1"
    assert transport.requests[0].path == "/gettoken"
    assert transport.requests[0].query == {"appkey": APP_KEY, "appsecret": APP_SECRET}


async def test_hundred_concurrent_callers_cause_one_token_fetch(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    async def slow_fetch_handler(request: Request) -> Response:
        await asyncio.sleep(0.01)
        return fake(request)

    client.caller.transport = HandlerTransport(slow_fetch_handler)
    tokens = await asyncio.gather(*(client.tokens.app_token() for _ in range(100)))
    assert set(tokens) == {"app-token-1"}
    assert fake.token_fetches == 1


async def test_token_refreshed_ahead_of_expiry(fake: ScriptedDingTalk) -> None:
    now = [1000.0]
    client = DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        endpoints=Endpoints.single_base("http://dingtalk.test"),
        transport=HandlerTransport(fake),
        token_store=MemoryTokenStore(clock=lambda: now[0]),
        token_refresh_margin=300,
    )
    await client.tokens.app_token()
    now[0] += 7200 - 301  # just before the margin: still cached
    await client.tokens.app_token()
    assert fake.token_fetches == 1
    now[0] += 2  # inside the 5-minute margin: refreshed although DingTalk still accepts it
    fake.token = "app-token-2"
    assert await client.tokens.app_token() == "app-token-2"
    assert fake.token_fetches == 2


async def test_expired_token_is_refreshed_once_and_retried(
    client: DingTalkClient, fake: ScriptedDingTalk, transport: HandlerTransport
) -> None:
    expired = {
        "errcode": 88,
        "sub_code": "40014",
        "sub_msg": "不合法的access_token",
        "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]",
    }
    await client.tokens.app_token()
    fake.token = "app-token-2"
    fake.on("/topapi/v2/user/get", expired, USER)
    user = await client.users.get("user001")
    assert user.userid == "user001"
    assert fake.token_fetches == 2
    assert transport.requests[-1].query["access_token"] == "app-token-2"


async def test_token_error_twice_gives_up(client: DingTalkClient, fake: ScriptedDingTalk) -> None:
    fake.on("/topapi/v2/user/get", {"errcode": 40014, "errmsg": "不合法的access_token"})
    with pytest.raises(TokenInvalid):
        await client.users.get("user001")
    assert fake.token_fetches == 2


async def test_server_busy_retried_for_reads(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    fake.on(
        "/topapi/v2/user/get",
        Response(502, {}, b"<html>bad gateway</html>"),
        {"errcode": -1, "errmsg": "系统繁忙"},
        USER,
    )
    assert (await client.users.get("user001")).name == "张伟"


async def test_retries_stop_after_max_attempts(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    fake.on("/topapi/v2/user/get", {"errcode": -1, "errmsg": "系统繁忙"})
    with pytest.raises(ServerBusy):
        await client.users.get("user001")
    calls = [r for r in client.caller.transport.requests if r.path == "/topapi/v2/user/get"]  # type: ignore[attr-defined]
    assert len(calls) == 3


async def test_code_exchange_is_never_retried(
    client: DingTalkClient, fake: ScriptedDingTalk, transport: HandlerTransport
) -> None:
    fake.on("/topapi/v2/user/getuserinfo", Response(500, {}, b""), USER)
    with pytest.raises(ServerBusy):
        await client.users.getuserinfo("code-abc")
    assert [r.path for r in transport.requests].count("/topapi/v2/user/getuserinfo") == 1


async def test_connection_errors_retried_then_reported(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    attempts = 0

    def refuse(request: Request) -> Response:
        nonlocal attempts
        attempts += 1
        raise TransportError("/topapi/v2/user/get: cannot connect", kind="connect")

    fake.routes["/topapi/v2/user/get"] = refuse
    with pytest.raises(TransportError) as info:
        await client.users.get("user001")
    assert attempts == 3
    assert "网络" in info.value.explanation


async def test_used_code_is_auth_code_invalid(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    fake.on(
        "/topapi/v2/user/getuserinfo", {"errcode": 40078, "errmsg": "nonexistent temp auth code"}
    )
    with pytest.raises(AuthCodeInvalid) as info:
        await client.users.getuserinfo("used-code")
    assert "已过期或已被使用" in info.value.explanation
    assert "expired or was already used" in info.value.explanation_en


async def test_one_log_line_per_call_without_secrets(
    client: DingTalkClient, fake: ScriptedDingTalk, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("/topapi/v2/user/getuserinfo", {"errcode": 40078, "errmsg": "不存在的临时授权码"})
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthCodeInvalid):
        await client.users.getuserinfo("secret-code-value")
    lines = [r.getMessage() for r in caplog.records]
    assert len([line for line in lines if "/topapi/v2/user/getuserinfo" in line]) == 1
    assert any("/v1.0/oauth2/accessToken" in line and "outcome=ok" in line for line in lines)
    text = "\n".join(lines)
    for secret in (APP_SECRET, "app-token-1", "secret-code-value"):
        assert secret not in text


async def test_repr_hides_secret(client: DingTalkClient) -> None:
    assert APP_SECRET not in repr(client)


async def test_non_json_answer_is_unexpected(
    client: DingTalkClient, fake: ScriptedDingTalk
) -> None:
    from dingbridge.dingtalk import UnexpectedResponse

    fake.on("/topapi/v2/user/get", Response(200, {}, b"<html>login</html>"))
    with pytest.raises(UnexpectedResponse) as info:
        await client.users.get("user001")
    assert "转发地址" in info.value.explanation


def test_json_response_helper() -> None:
    assert json_response({"a": "中"}).json() == {"a": "中"}


async def test_observer_sees_every_attempt(fake: ScriptedDingTalk) -> None:
    seen: list[tuple[str, str]] = []
    client = DingTalkClient(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        endpoints=Endpoints.single_base("http://dingtalk.test"),
        transport=HandlerTransport(fake),
        retry=RetryPolicy(backoff=0.0),
        observer=lambda path, outcome, seconds: seen.append((path, outcome)),
    )
    fake.on("/topapi/v2/user/get", {"errcode": -1, "errmsg": "系统繁忙"}, USER)
    await client.users.get("user001")
    assert seen == [
        ("/v1.0/oauth2/accessToken", "ok"),
        ("/topapi/v2/user/get", "ServerBusy:-1"),
        ("/topapi/v2/user/get", "ok"),
    ]
