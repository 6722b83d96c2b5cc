"""Tokens and users against the in-process simulator (ASGITransport)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dingbridge.dingtalk import AuthCodeInvalid, TokenInvalid, UserNotFound
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, NO_MOBILE_APP, OTHER_CORP_ID
from tests.dingtalk.conftest import SimClients, sim_paths


@pytest.mark.parametrize(
    ("api_version", "path"), [("v2", "/v1.0/oauth2/accessToken"), ("v1", "/gettoken")]
)
async def test_app_token_both_generations(
    sim_client: SimClients, sim_state: Any, api_version: str, path: str
) -> None:
    client = sim_client(api_version=api_version)
    token = await client.tokens.app_token()
    assert token == await client.tokens.app_token()
    assert len(sim_paths(sim_state, path)) == 1


async def test_uncached_fetches_return_same_token_while_valid(sim_client: SimClients) -> None:
    client = sim_client()
    a = await client.tokens.gettoken()
    b = await client.tokens.oauth2_access_token()
    assert a.expires_in == b.expires_in == 7200
    assert a.value


async def test_hundred_concurrent_callers_one_token_request(
    sim_client: SimClients, sim_state: Any
) -> None:
    client = sim_client()
    tokens = await asyncio.gather(*(client.tokens.app_token() for _ in range(100)))
    assert len(set(tokens)) == 1
    assert len(sim_paths(sim_state, "/v1.0/oauth2/accessToken")) == 1


async def test_expired_token_refreshed_when_sim_clock_advances(
    sim_client: SimClients, sim_state: Any
) -> None:
    client = sim_client()
    await client.users.get("user001")
    sim_state.clock.advance(7300)  # DingTalk expired the token; our cache has not noticed
    user = await client.users.get("user001")
    assert user.name == "张伟"
    assert len(sim_paths(sim_state, "/v1.0/oauth2/accessToken")) == 2
    outcomes = [e.outcome for e in sim_paths(sim_state, "/topapi/v2/user/get")]
    assert outcomes[0] == "ok" and outcomes[-1] == "ok" and len(outcomes) == 3


async def test_mianden_code_v2(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    info = await client.users.getuserinfo(code)
    assert info.userid == "user001"
    assert info.name == "张伟"
    assert info.unionid == sim_state.corps[DEMO_CORP_ID].users["user001"].unionid
    with pytest.raises(AuthCodeInvalid) as err:
        await client.users.getuserinfo(code)  # single use
    assert err.value.errcode == 40078


async def test_mianden_code_v1(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client(api_version="v1")
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    info = await client.users.from_auth_code(code)
    assert (info.userid, info.name, info.unionid) == ("user001", "张伟", None)
    assert len(sim_paths(sim_state, "/user/getuserinfo")) == 1


async def test_expired_mianden_code(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    await client.tokens.app_token()
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    sim_state.clock.advance(301)  # codes live 5 minutes
    with pytest.raises(AuthCodeInvalid):
        await client.users.getuserinfo(code)


async def test_user_detail(sim_client: SimClients) -> None:
    user = await sim_client().users.get("user001")
    assert (user.userid, user.name, user.mobile, user.state_code) == (
        "user001",
        "张伟",
        "13800000001",
        "86",
    )
    assert user.dept_id_list
    assert user.unionid


async def test_user_detail_without_mobile_field_permission(sim_client: SimClients) -> None:
    user = await sim_client(NO_MOBILE_APP).users.get("user001")
    assert user.name == "张伟"
    assert user.mobile is None and user.state_code is None


async def test_unknown_user(sim_client: SimClients) -> None:
    with pytest.raises(UserNotFound) as err:
        await sim_client().users.get("nobody")
    assert err.value.errcode == 60121
    assert "找不到该用户" in err.value.explanation


async def test_getbyunionid(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    unionid = sim_state.corps[DEMO_CORP_ID].users["user001"].unionid
    found = await client.users.getbyunionid(unionid)
    assert (found.userid, found.contact_type) == ("user001", 0)
    stranger = sim_state.corps[OTHER_CORP_ID].users["other001"].unionid
    with pytest.raises(UserNotFound):
        await client.users.getbyunionid(stranger)


async def test_getbymobile(sim_client: SimClients) -> None:
    client = sim_client()
    assert await client.users.getbymobile("13800000001") == "user001"
    with pytest.raises(UserNotFound):
        await client.users.getbymobile("13900000001")  # the other corp's member


async def test_wrong_token_is_not_retried_forever(sim_client: SimClients) -> None:
    client = sim_client(FULL_APP)
    await client.tokens.app_token()
    with pytest.raises(TokenInvalid):
        await client.caller.api("GET", "/v1.0/contact/users/me", token="not-a-user-token")


async def test_concurrent_callers_share_one_failed_fetch(
    sim_client: SimClients, sim_state: Any
) -> None:
    from dingbridge.dingtalk import InvalidCredentials

    client = sim_client(app_secret="wrong-secret")
    results = await asyncio.gather(
        *(client.tokens.app_token() for _ in range(100)), return_exceptions=True
    )
    assert all(isinstance(r, InvalidCredentials) for r in results)
    assert len(sim_paths(sim_state, "/v1.0/oauth2/accessToken")) == 1


async def test_mianden_code_survives_an_expired_token(
    sim_client: SimClients, sim_state: Any
) -> None:
    client = sim_client()
    await client.tokens.app_token()
    sim_state.clock.advance(7300)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user005")
    assert (await client.users.getuserinfo(code)).userid == "user005"
    outcomes = [e.outcome for e in sim_paths(sim_state, "/topapi/v2/user/getuserinfo")]
    assert len(outcomes) == 2 and outcomes[-1] == "ok"
