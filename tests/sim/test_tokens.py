"""App tokens and JSAPI tickets, both generations; token errors in each family's shape."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_APP
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi


async def test_gettoken_returns_the_same_token_while_valid(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": FULL_APP.app_key, "appsecret": FULL_APP.app_secret},
    )
    body = answer.json()
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert body["errcode"] == 0 and body["errmsg"] == "ok" and body["expires_in"] == 7200
    assert "request_id" not in body
    assert await app_token(sim_app, FULL_APP) == body["access_token"]
    assert await app_token(sim_app, OTHER_CORP_APP) != body["access_token"]


async def test_token_slides_while_used_and_is_replaced_after_expiry(
    sim_app: Any, sim_state: Any
) -> None:
    first = await app_token(sim_app, FULL_APP)
    sim_state.clock.advance(7000)
    assert await app_token(sim_app, FULL_APP) == first  # fetching again extends it
    sim_state.clock.advance(7000)
    assert await app_token(sim_app, FULL_APP) == first
    sim_state.clock.advance(7201)
    second = await app_token(sim_app, FULL_APP)
    assert second != first
    body = await topapi(sim_app, "/topapi/v2/user/get", first, {"userid": "user001"})
    assert (body["errcode"], body["sub_code"]) == (88, "40014")


async def test_gettoken_errors(sim_app: Any) -> None:
    wrong = await call(
        sim_app, "GET", "/gettoken", query={"appkey": FULL_APP.app_key, "appsecret": "nope"}
    )
    assert wrong.json() == {"errcode": 40096, "errmsg": "不合法的appKey或appSecret"}
    missing = await call(
        sim_app, "GET", "/gettoken", form={"appkey": FULL_APP.app_key, "appsecret": "x"}
    )
    assert missing.json() == {"errcode": 40035, "errmsg": "缺少参数 corpid or appkey"}


async def test_configured_token_lifetime(sim_app: Any, sim_state: Any) -> None:
    sim_state.settings.token_lifetime = 60
    answer = await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": FULL_APP.app_key, "appsecret": FULL_APP.app_secret},
    )
    assert answer.json()["expires_in"] == 60
    sim_state.clock.advance(61)
    assert await app_token(sim_app, FULL_APP) != answer.json()["access_token"]


async def test_new_generation_token(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/accessToken",
        json={"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret},
    )
    assert answer.status == 200
    assert answer.headers["x-acs-request-id"] and answer.headers["x-acs-trace-id"]
    body = answer.json()
    assert set(body) == {"accessToken", "expireIn"} and body["expireIn"] == 7200
    # One token per app whichever generation asked; it works on oapi too.
    assert body["accessToken"] == await app_token(sim_app, FULL_APP)
    user = await topapi(sim_app, "/topapi/v2/user/get", body["accessToken"], {"userid": "user001"})
    assert user["errcode"] == 0


async def test_new_generation_token_errors(sim_app: Any) -> None:
    wrong = await call(
        sim_app, "POST", "/v1.0/oauth2/accessToken", json={"appKey": "x", "appSecret": "y"}
    )
    assert wrong.status == 400
    body = wrong.json()
    assert body["code"] == "invalidClientIdOrSecret"
    assert body["message"] == "无效的clientId或者clientSecret"
    assert body["requestid"] == wrong.headers["x-acs-request-id"]
    form = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/accessToken",
        form={"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret},
    )
    assert form.status == 400
    assert form.json()["code"] == "Missingbody"
    assert form.json()["message"] == "body is mandatory for this action."


async def test_token_errors_per_family(sim_app: Any) -> None:
    blank = await topapi(sim_app, "/topapi/v2/user/get", "", {"userid": "user001"})
    assert blank["errcode"] == 88 and blank["sub_code"] == "40000"
    assert blank["sub_msg"] == "access_token is blank"
    assert blank["errmsg"] == "ding talk error[subcode=40000,submsg=access_token is blank]"
    assert len(blank["request_id"]) == 13
    bad = await topapi(sim_app, "/topapi/v2/user/get", "bogus", {"userid": "user001"})
    assert bad["sub_code"] == "40014" and bad["sub_msg"] == "不合法的access_token"
    assert bad["errmsg"] == "ding talk error[subcode=40014,submsg=不合法的access_token]"
    flat = await call(sim_app, "GET", "/get_jsapi_ticket", query={"access_token": "bogus"})
    assert flat.json() == {"errcode": 40014, "errmsg": "不合法的access_token"}
    flat_missing = await call(sim_app, "GET", "/get_jsapi_ticket")
    assert flat_missing.json()["errcode"] == 41001
    api_bad = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/jsapiTickets",
        headers={"x-acs-dingtalk-access-token": "bogus"},
    )
    assert api_bad.status == 400
    assert (api_bad.json()["code"], api_bad.json()["message"]) == (
        "InvalidAuthentication",
        "不合法的access_token",
    )


async def test_api_reads_the_token_from_the_header_only(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    for extra in (
        {"query": {"access_token": token}},
        {"headers": {"authorization": f"Bearer {token}"}},
    ):
        answer = await call(sim_app, "POST", "/v1.0/oauth2/jsapiTickets", **extra)  # type: ignore[arg-type]
        assert answer.status == 400
        assert answer.json()["code"] == "AuthenticationFailed.MissingParameter"
        assert answer.json()["message"] == "缺少参数：x-acs-dingtalk-access-token"


async def test_topapi_accepts_token_and_params_as_form_fields(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    answer = await call(
        sim_app, "POST", "/topapi/v2/user/get", form={"access_token": token, "userid": "user001"}
    )
    assert answer.json()["result"]["name"] == "张伟"


async def test_jsapi_ticket_is_one_per_app_on_both_hosts(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    old = (await call(sim_app, "GET", "/get_jsapi_ticket", query={"access_token": token})).json()
    assert old["errcode"] == 0 and old["expires_in"] == 7200 and old["ticket"]
    new = await call(
        sim_app, "POST", "/v1.0/oauth2/jsapiTickets", headers={"x-acs-dingtalk-access-token": token}
    )
    assert new.json()["jsapiTicket"] == old["ticket"]
    sim_state.clock.advance(7201)
    token = await app_token(sim_app, FULL_APP)
    renewed = await call(sim_app, "GET", "/get_jsapi_ticket", query={"access_token": token})
    assert renewed.json()["ticket"] != old["ticket"]


async def test_unknown_paths(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    body = await topapi(sim_app, "/topapi/v2/user/notexist", token, {})
    assert body["errcode"] == 22
    assert body["sub_msg"] == "不合法ApiName，ApiName = dingtalk.oapi.v2.user.notexist"
    assert body["errmsg"] == f"Invalid method[submsg={body['sub_msg']}]"
    assert body["request_id"]
    other = await call(sim_app, "GET", "/nothing/here")
    assert other.status == 200
    assert other.json() == {"errcode": 404, "errmsg": "请求的URI地址不存在"}


async def test_known_oapi_path_with_the_wrong_method(sim_app: Any) -> None:
    get = await call(sim_app, "GET", "/topapi/v2/user/get")
    assert get.json()["errcode"] == 43002 and get.json()["errmsg"] == "需要POST请求"
    post = await call(sim_app, "POST", "/gettoken")
    assert post.json() == {"errcode": 43001, "errmsg": "需要GET请求"}


async def test_request_log_lines_carry_paths_not_secrets(
    sim_app: Any, sim_state: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dingbridge.sim")
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("dingbridge.sim")]
    assert any("/gettoken" in line and FULL_APP.app_key in line for line in lines)
    assert any("/topapi/v2/user/getuserinfo" in line for line in lines)
    for secret in (FULL_APP.app_secret, token, code):
        assert secret not in caplog.text
