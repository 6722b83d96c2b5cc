"""Error classes as the simulator produces them, with the text an admin will read."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from dingbridge.dingtalk import (
    InvalidCredentials,
    IpNotWhitelisted,
    PermissionDenied,
    QpsRetry,
    RateLimited,
    ServerBusy,
    TransportError,
)
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, WHITELIST_APP
from dingbridge.sim.faults import parse_fault
from tests.dingtalk.conftest import SimClients, sim_paths


@pytest.mark.parametrize("api_version", ["v2", "v1"])
async def test_ip_not_whitelisted_names_the_callers_ip(
    sim_client: SimClients, api_version: str
) -> None:
    client = sim_client(WHITELIST_APP, peer="127.0.0.1", api_version=api_version)
    with pytest.raises(IpNotWhitelisted) as err:
        await client.users.get("user001")
    assert err.value.ip == "127.0.0.1"
    assert err.value.explanation_en.startswith(
        "DingTalk saw this call come from IP 127.0.0.1; add it to the app's 服务器出口IP"
    )
    assert "127.0.0.1" in err.value.explanation


async def test_whitelisted_ip_succeeds(sim_client: SimClients) -> None:
    client = sim_client(WHITELIST_APP, peer="127.0.0.2")
    assert (await client.users.get("user001")).name == "张伟"


async def test_ip_error_is_not_retried(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client(WHITELIST_APP, api_version="v1")
    with pytest.raises(IpNotWhitelisted):
        await client.tokens.app_token()
    assert len(sim_paths(sim_state, "/gettoken")) == 1


@pytest.mark.parametrize(
    ("api_version", "path"), [("v2", "/v1.0/oauth2/accessToken"), ("v1", "/gettoken")]
)
async def test_wrong_secret(sim_client: SimClients, api_version: str, path: str) -> None:
    client = sim_client(app_secret="not-the-secret", api_version=api_version)
    with pytest.raises(InvalidCredentials) as err:
        await client.tokens.app_token()
    assert err.value.path == path
    assert "AppKey 或 AppSecret 不正确" in err.value.explanation
    assert "not-the-secret" not in str(err.value)


def _revoke(sim_state: Any, permission: str) -> None:
    app = sim_state.apps[FULL_APP.app_key]
    app.permissions = frozenset(app.permissions - {permission})


async def test_missing_api_permission_named_as_in_console(
    sim_client: SimClients, sim_state: Any
) -> None:
    _revoke(sim_state, "qyapi_get_member")
    client = sim_client()
    with pytest.raises(PermissionDenied) as err:
        await client.users.get("user001")
    assert err.value.effective_code == "60011"
    assert err.value.permission == "成员信息读权限 (qyapi_get_member)"
    assert "成员信息读权限 (qyapi_get_member)" in err.value.explanation
    assert len(sim_paths(sim_state, "/topapi/v2/user/get")) == 1  # never retried


async def test_missing_api_permission_on_api_host(sim_client: SimClients, sim_state: Any) -> None:
    _revoke(sim_state, "Contact.User.Read")
    client = sim_client()
    url = client.oauth.authorize_url("http://127.0.0.1:8000/cb", state="s") + "&userid=user001"
    answer = await client.transport.request("GET", url, headers={}, body=None, timeout=5)
    code = answer.headers["location"].split("authCode=")[1].split("&")[0]
    token = await client.oauth.user_access_token(code)
    with pytest.raises(PermissionDenied) as err:
        await client.oauth.users_me(token)
    assert err.value.status == 403
    assert err.value.permission == "通讯录个人信息读权限 (Contact.User.Read)"


async def test_qps_limit_is_rate_limited(sim_client: SimClients) -> None:
    client = sim_client(qps_retry=QpsRetry(patience=0))  # no waiting: the 90018 surfaces
    await client.tokens.app_token()
    results = await asyncio.gather(
        *(client.users.get("user001") for _ in range(25)), return_exceptions=True
    )
    limited = [r for r in results if isinstance(r, RateLimited)]
    assert limited and limited[0].effective_code == "90018"
    assert "调用频率超限" in limited[0].explanation


async def test_by_default_the_client_rides_out_the_qps_limit(sim_client: SimClients) -> None:
    client = sim_client()
    await client.tokens.app_token()
    users = await asyncio.gather(*(client.users.get("user001") for _ in range(25)))
    assert {user.userid for user in users} == {"user001"}


async def test_5xx_once_then_success_for_reads(sim_client: SimClients, sim_state: Any) -> None:
    sim_state.faults.add(
        parse_fault(
            {"path": "/topapi/v2/user/get", "kind": "http_status", "status": 502, "count": 1}
        )
    )
    assert (await sim_client().users.get("user001")).userid == "user001"
    outcomes = [e.outcome for e in sim_paths(sim_state, "/topapi/v2/user/get")]
    assert len(outcomes) == 2 and outcomes[-1] == "ok"


async def test_errcode_minus_one_retried(sim_client: SimClients, sim_state: Any) -> None:
    sim_state.faults.add(
        parse_fault(
            {"path": "/v1.0/oauth2/accessToken", "kind": "error", "status": 500, "count": 2}
        )
    )
    assert await sim_client().tokens.app_token()
    assert len(sim_paths(sim_state, "/v1.0/oauth2/accessToken")) == 3


async def test_persistent_5xx_gives_server_busy(sim_client: SimClients, sim_state: Any) -> None:
    sim_state.faults.add(parse_fault({"path": "/gettoken", "kind": "error", "errcode": -1}))
    with pytest.raises(ServerBusy) as err:
        await sim_client(api_version="v1").tokens.app_token()
    assert err.value.errcode == -1
    assert len(sim_paths(sim_state, "/gettoken")) == 3


async def test_mianden_code_not_retried_on_5xx(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    await client.tokens.app_token()
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    path = "/topapi/v2/user/getuserinfo"
    sim_state.faults.add(parse_fault({"path": path, "kind": "http_status", "count": 1}))
    with pytest.raises(ServerBusy):
        await client.users.getuserinfo(code)
    assert len(sim_paths(sim_state, path)) == 1


@pytest.mark.parametrize("kind", ["drop", "hang"])
async def test_no_answer_is_transport_error(
    sim_client: SimClients, sim_state: Any, kind: str
) -> None:
    client = sim_client(timeout=0.2)
    await client.tokens.app_token()
    sim_state.faults.add(parse_fault({"path": "/topapi/v2/user/get", "kind": kind}))
    with pytest.raises(TransportError) as err:
        await client.users.get("user001")
    assert err.value.kind == ("dropped" if kind == "drop" else "timeout")


async def test_secrets_never_logged(
    sim_client: SimClients, sim_state: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dingbridge.dingtalk")
    client = sim_client()
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    await client.users.getuserinfo(code)
    url = client.oauth.authorize_url("http://127.0.0.1:8000/cb", state="s") + "&userid=user001"
    answer = await client.transport.request("GET", url, headers={}, body=None, timeout=5)
    oauth_code = answer.headers["location"].split("authCode=")[1].split("&")[0]
    user_token = await client.oauth.user_access_token(oauth_code)
    await client.oauth.users_me(user_token)
    with pytest.raises(InvalidCredentials):
        await sim_client(app_secret="typo-secret-value").tokens.app_token()
    text = caplog.text
    app_token = await client.tokens.app_token()
    for secret in (
        FULL_APP.app_secret,
        "typo-secret-value",
        app_token,
        code,
        oauth_code,
        user_token.access_token,
        user_token.refresh_token or "-",
    ):
        assert secret not in text
    assert "/topapi/v2/user/getuserinfo" in text and "/v1.0/contact/users/me" in text
