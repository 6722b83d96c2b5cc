"""The unified ``POST /v1.0/oauth2/{corpId}/token`` (facts §2.3), which the doctor uses to
check that the configured CorpId is the app's corp."""

from __future__ import annotations

from typing import Any

from dingbridge.sim.defaults import FULL_APP, OTHER_CORP_ID, WHITELIST_APP, DemoApp
from tests.sim.asgi_call import Answer, call
from tests.sim.conftest import app_token


async def corp_token(
    sim_app: Any, corp_id: str, app: DemoApp = FULL_APP, peer: str = "127.0.0.1", **body: str
) -> Answer:
    payload = {
        "client_id": app.app_key,
        "client_secret": app.app_secret,
        "grant_type": "client_credentials",
        **body,
    }
    return await call(sim_app, "POST", f"/v1.0/oauth2/{corp_id}/token", json=payload, peer=peer)


async def test_the_apps_own_corp_gets_the_app_token(sim_app: Any) -> None:
    answer = await corp_token(sim_app, FULL_APP.corp_id)
    assert answer.status == 200
    body = answer.json()
    assert body == {"access_token": body["access_token"], "expires_in": 7200}
    assert body["access_token"] == await app_token(sim_app, FULL_APP)


async def test_a_corp_dingtalk_does_not_know_is_unknown_error(sim_app: Any) -> None:
    answer = await corp_token(sim_app, "ding000000000000fake")
    assert answer.status == 500
    assert answer.json()["code"] == "unknownError"
    assert answer.json()["message"] == "未知错误"


async def test_another_corp_is_unauthorized(sim_app: Any) -> None:
    answer = await corp_token(sim_app, OTHER_CORP_ID)
    assert answer.status == 401
    assert answer.json()["code"] == "unauthorized.client"


async def test_bad_client_and_grant(sim_app: Any) -> None:
    wrong = await corp_token(sim_app, FULL_APP.corp_id, client_secret="nope")
    assert (wrong.status, wrong.json()["code"]) == (400, "invalid.client")
    grant = await corp_token(sim_app, FULL_APP.corp_id, grant_type="password")
    assert (grant.status, grant.json()["code"]) == (400, "unsupported.grant.type")


async def test_the_ip_whitelist_applies(sim_app: Any) -> None:
    refused = await corp_token(sim_app, WHITELIST_APP.corp_id, WHITELIST_APP)
    assert (refused.status, refused.json()["code"]) == (
        403,
        "Forbidden.AccessDenied.IpNotInWhiteList",
    )
    allowed = await corp_token(sim_app, WHITELIST_APP.corp_id, WHITELIST_APP, peer="127.0.0.2")
    assert allowed.status == 200
