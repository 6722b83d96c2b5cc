"""Browser OAuth (V2 and V1 SNS) and JSAPI against the in-process simulator."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from dingbridge.dingtalk import AuthCodeInvalid, DingTalkClient, UserNotFound
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_APP
from tests.dingtalk.conftest import SimClients, sim_paths

REDIRECT = "http://127.0.0.1:8000/auth/callback"


async def browser_login(client: DingTalkClient, url: str, userid: str) -> dict[str, list[str]]:
    """Play the browser: open our login URL at the sim, pick ``userid``, read the redirect."""
    response = await client.transport.request(
        "GET", url + "&" + urlencode({"userid": userid}), headers={}, body=None, timeout=5
    )
    assert response.status in (302, 303, 307), response.body[:200]
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)


async def test_v2_oauth_full_chain(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client()
    back = await browser_login(
        client, client.oauth.authorize_url(REDIRECT, state="csrf-1"), "user001"
    )
    assert back["state"] == ["csrf-1"]
    assert back["code"] == back["authCode"]
    token = await client.oauth.user_access_token(back["authCode"][0])
    assert token.refresh_token
    assert token.access_token not in repr(token)
    me = await client.oauth.users_me(token)
    assert me.nick == "张伟"
    assert me.union_id == sim_state.corps[DEMO_CORP_ID].users["user001"].unionid
    found = await client.users.getbyunionid(me.union_id)
    assert found.userid == "user001"
    refreshed = await client.oauth.refresh_user_token(token.refresh_token or "")
    assert (await client.oauth.users_me(refreshed.access_token)).union_id == me.union_id


async def test_v2_identity_from_code_and_code_reuse(sim_client: SimClients) -> None:
    client = sim_client()
    back = await browser_login(client, client.oauth.login_url(REDIRECT, state="s"), "user002")
    identity = await client.oauth.identity_from_code(back["authCode"][0])
    assert identity.userid == "user002"
    with pytest.raises(AuthCodeInvalid):
        await client.oauth.user_access_token(back["authCode"][0])


async def test_code_exchange_never_retried_on_5xx(sim_client: SimClients, sim_state: Any) -> None:
    from dingbridge.dingtalk import ServerBusy
    from dingbridge.sim.faults import parse_fault

    client = sim_client()
    back = await browser_login(client, client.oauth.authorize_url(REDIRECT, state="s"), "user001")
    sim_state.faults.add(
        parse_fault({"path": "/v1.0/oauth2/userAccessToken", "kind": "http_status", "count": 1})
    )
    with pytest.raises(ServerBusy):
        await client.oauth.user_access_token(back["authCode"][0])
    assert len(sim_paths(sim_state, "/v1.0/oauth2/userAccessToken")) == 1


async def test_member_of_another_corp_is_not_found(sim_client: SimClients) -> None:
    client = sim_client()
    other = sim_client(OTHER_CORP_APP)  # sign in through the other corp's app ...
    back = await browser_login(other, other.oauth.authorize_url(REDIRECT, state="s"), "other001")
    me = await other.oauth.users_me(await other.oauth.user_access_token(back["authCode"][0]))
    with pytest.raises(UserNotFound):  # ... and they are a stranger to ours
        await client.users.getbyunionid(me.union_id)


async def test_v1_sns_login_chain(sim_client: SimClients, sim_state: Any) -> None:
    client = sim_client(api_version="v1")
    url = client.oauth.login_url(REDIRECT, state="v1state", api_version="v1")
    assert "/connect/qrconnect?" in url
    back = await browser_login(client, url, "user003")
    assert back["state"] == ["v1state"]
    sim_now_ms = int(sim_state.clock.now() * 1000)
    sns = await client.oauth.sns_userinfo_by_code(back["code"][0], timestamp_ms=sim_now_ms)
    assert sns.unionid == sim_state.corps[DEMO_CORP_ID].users["user003"].unionid
    assert (await client.users.getbyunionid(sns.unionid)).userid == "user003"


async def test_v1_identity_from_code(sim_client: SimClients) -> None:
    client = sim_client(api_version="v1")
    back = await browser_login(client, client.oauth.qrconnect_url(REDIRECT, state="s"), "user004")
    identity = await client.oauth.identity_from_code(back["code"][0])  # client is v1
    assert identity.userid == "user004"


async def test_sns_bad_signature_is_rejected(sim_client: SimClients) -> None:
    from dingbridge.dingtalk import DingTalkError

    client = sim_client(app_secret="wrong-secret")
    back = await browser_login(client, client.oauth.qrconnect_url(REDIRECT, state="s"), "user001")
    with pytest.raises(DingTalkError):
        await client.oauth.sns_userinfo_by_code(back["code"][0])


@pytest.mark.parametrize(
    ("api_version", "path"), [("v2", "/v1.0/oauth2/jsapiTickets"), ("v1", "/get_jsapi_ticket")]
)
async def test_jsapi_ticket_cached(
    sim_client: SimClients, sim_state: Any, api_version: str, path: str
) -> None:
    client = sim_client(api_version=api_version)
    assert await client.jsapi.ticket() == await client.jsapi.ticket()
    assert len(sim_paths(sim_state, path)) == 1


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
async def test_dd_config_signature_accepted_by_sim(sim_client: SimClients, algorithm: str) -> None:
    client = sim_client()
    page = "http://127.0.0.1:8000/10001/?corpId=x#/home"
    cfg = await client.jsapi.config(page, ["biz.contact.choose"], algorithm=algorithm)  # type: ignore[arg-type]
    js = cfg.as_js()
    assert js["agentId"] == FULL_APP.agent_id and js["corpId"] == DEMO_CORP_ID
    assert js["timeStamp"] and abs(int(js["timeStamp"]) - time.time()) < 3600
    query = urlencode(
        {k: js[k] for k in ("agentId", "corpId", "timeStamp", "nonceStr", "signature")}
        | {"url": page.split("#")[0]}
    )
    answer = await client.transport.request(
        "GET", f"http://sim.test/_sim/jsapi/config?{query}", headers={}, body=None, timeout=5
    )
    assert json.loads(answer.body) == {"ok": True}
