"""Browser OAuth: the /oauth2/auth page, userAccessToken, users/me; the V1 SNS flow."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import aiohttp
import pytest
from yarl import URL

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, NO_MOBILE_APP, OTHER_CORP_APP
from dingbridge.sim.handlers.login import sns_signature
from tests.sim.asgi_call import Answer, call
from tests.sim.conftest import app_token, refresh_user_token, topapi, user_token, users_me

CALLBACK = "http://127.0.0.1:8000/10001/dingtalk/callback"


def auth_query(**overrides: str) -> dict[str, str]:
    query = {
        "client_id": FULL_APP.app_key,
        "redirect_uri": CALLBACK,
        "response_type": "code",
        "scope": "openid",
        "prompt": "consent",
        "state": "s-123",
    }
    query.update(overrides)
    return query


def location(answer: Answer) -> tuple[str, dict[str, list[str]]]:
    assert answer.status in (302, 303), answer.text
    target = answer.headers["location"]
    parts = urlsplit(target)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query)


async def oauth_code(app: Any, userid: str = "user001", **overrides: str) -> str:
    answer = await call(app, "GET", "/oauth2/auth", query=auth_query(userid=userid, **overrides))
    _, query = location(answer)
    return query["code"][0]


async def test_pick_page_lists_the_corp_users(sim_app: Any) -> None:
    answer = await call(sim_app, "GET", "/oauth2/auth", query=auth_query())
    assert answer.status == 200 and 'lang="zh-CN"' in answer.text
    assert "示例科技有限公司" in answer.text and "张伟" in answer.text and "拒绝" in answer.text
    assert "梁雪" not in answer.text.split("其他企业的账号")[0]  # inactive users cannot log in


async def test_picking_a_user_redirects_with_code_authcode_and_state(sim_app: Any) -> None:
    form = {**auth_query(), "userid": "user002", "decision": "allow"}
    answer = await call(sim_app, "POST", "/oauth2/auth", form=form)
    target, query = location(answer)
    assert answer.status == 303 and target == CALLBACK
    assert query["code"] == query["authCode"] and query["state"] == ["s-123"]


async def test_refusing_redirects_with_error_and_state(sim_app: Any) -> None:
    form = {**auth_query(), "decision": "deny"}
    target, query = location(await call(sim_app, "POST", "/oauth2/auth", form=form))
    assert target == CALLBACK and query == {"error": ["access_denied"], "state": ["s-123"]}


async def test_redirect_uri_keeps_its_own_query(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "GET",
        "/oauth2/auth",
        query=auth_query(redirect_uri=CALLBACK + "?next=%2Fhome", userid="user001"),
    )
    _, query = location(answer)
    assert query["next"] == ["/home"] and "code" in query


@pytest.mark.parametrize(
    ("overrides", "status", "text"),
    [
        ({"client_id": "dingnosuchapp"}, 400, "client_id"),
        ({"redirect_uri": "https://evil.example/cb"}, 400, "redirect_uri"),
        ({"redirect_uri": ""}, 400, "redirect_uri"),
        ({"response_type": "token"}, 400, "response_type"),
        ({"scope": "snsapi_login"}, 400, "scope"),
        ({"prompt": "none"}, 400, "prompt"),
        ({"userid": "other001"}, 403, "不支持跨企业登录"),
        ({"userid": "user022"}, 403, "尚未激活"),
        ({"userid": "nobody"}, 404, "nobody"),
    ],
)
async def test_bad_requests_show_an_error_page(
    sim_app: Any, overrides: dict[str, str], status: int, text: str
) -> None:
    answer = await call(sim_app, "GET", "/oauth2/auth", query=auth_query(**overrides))
    assert answer.status == status and text in answer.text
    assert "location" not in answer.headers


async def test_code_exchange_and_users_me(sim_app: Any, sim_state: Any) -> None:
    code = await oauth_code(sim_app, "user001")
    answer = await user_token(sim_app, code)
    body = answer.json()
    assert answer.status == 200 and body["expireIn"] == 7200 and body["corpId"] == DEMO_CORP_ID
    me = await users_me(sim_app, body["accessToken"])
    profile = me.json()
    user = sim_state.user(DEMO_CORP_ID, "user001")
    assert profile["nick"] == "张伟" and profile["unionId"] == user.unionid
    assert profile["mobile"] == "13800000001" and profile["stateCode"] == "86"
    assert "userid" not in profile and profile["visitor"] is False
    # The unionId then maps to the userid with an app token, as the real flow does.
    token = await app_token(sim_app, FULL_APP)
    mapped = await topapi(
        sim_app, "/topapi/user/getbyunionid", token, {"unionid": profile["unionId"]}
    )
    assert mapped["result"]["userid"] == "user001"


async def test_code_is_single_use_and_bound_to_its_app(sim_app: Any) -> None:
    code = await oauth_code(sim_app)
    assert (await user_token(sim_app, code, NO_MOBILE_APP)).status == 400
    assert (await user_token(sim_app, code)).status == 200
    reused = await user_token(sim_app, code)
    assert reused.status == 400 and reused.json()["code"] == "invalidCode"


async def test_code_expires(sim_app: Any, sim_state: Any) -> None:
    code = await oauth_code(sim_app)
    sim_state.clock.advance(301)
    assert (await user_token(sim_app, code)).json()["code"] == "invalidCode"


async def test_refresh_token_grant_and_user_token_expiry(sim_app: Any, sim_state: Any) -> None:
    body = (await user_token(sim_app, await oauth_code(sim_app))).json()
    sim_state.clock.advance(7201)
    me = await users_me(sim_app, body["accessToken"])
    assert me.status == 400 and me.json()["code"] == "accesstoken.expired"
    refreshed = await refresh_user_token(sim_app, body["refreshToken"])
    fresh = refreshed.json()
    assert refreshed.status == 200 and fresh["accessToken"] != body["accessToken"]
    me = await users_me(sim_app, fresh["accessToken"])
    assert me.json()["nick"] == "张伟"
    sim_state.clock.advance(31 * 86400)
    expired = await refresh_user_token(sim_app, fresh["refreshToken"])
    assert expired.status == 400


async def test_users_me_permissions(sim_app: Any, sim_state: Any) -> None:
    body = (
        await user_token(
            sim_app, await oauth_code(sim_app, client_id=NO_MOBILE_APP.app_key), NO_MOBILE_APP
        )
    ).json()
    headers = {"x-acs-dingtalk-access-token": body["accessToken"]}
    assert (
        "mobile" in (await call(sim_app, "GET", "/v1.0/contact/users/me", headers=headers)).json()
    )
    fixture = sim_state.fixture
    fixture["corps"][0]["apps"][1]["permissions"] = ["qyapi_base", "open_app_api_base"]
    sim_state.load_fixture(fixture)
    denied = await call(sim_app, "GET", "/v1.0/contact/users/me", headers=headers)
    assert denied.status == 403
    assert denied.json()["code"] == "Forbidden.AccessDenied.AccessTokenPermissionDenied"
    assert denied.json()["accessdenieddetail"] == {"requiredScopes": ["Contact.User.Read"]}
    fixture["corps"][0]["apps"][1]["permissions"] = ["qyapi_base"]
    sim_state.load_fixture(fixture)
    no_base = await user_token(
        sim_app, await oauth_code(sim_app, client_id=NO_MOBILE_APP.app_key), NO_MOBILE_APP
    )
    assert no_base.status == 403
    assert no_base.json()["accessdenieddetail"] == {"requiredScopes": ["open_app_api_base"]}


async def test_contact_user_by_unionid(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    headers = {"x-acs-dingtalk-access-token": token}
    unionid = sim_state.user(DEMO_CORP_ID, "user003").unionid
    found = await call(sim_app, "GET", f"/v1.0/contact/users/{unionid}", headers=headers)
    assert found.json()["nick"] == "李娜"
    missing = await call(sim_app, "GET", "/v1.0/contact/users/nobody", headers=headers)
    assert missing.status == 404
    assert missing.json()["code"] == "invalidParameter.user.notFound"
    assert missing.json()["message"] == "找不到该用户"


# --- V1: qrconnect + sns/getuserinfo_bycode ---


async def sns_code(app: Any, userid: str = "user001", demo: Any = FULL_APP) -> str:
    query = {
        "appid": demo.app_key,
        "response_type": "code",
        "scope": "snsapi_login",
        "state": "v1",
        "redirect_uri": CALLBACK,
        "userid": userid,
    }
    target, params = location(await call(app, "GET", "/connect/qrconnect", query=query))
    assert target == CALLBACK and params["state"] == ["v1"] and "authCode" not in params
    return params["code"][0]


def signed(demo: Any, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time() * 1000))
    return {
        "accessKey": demo.app_key,
        "timestamp": timestamp,
        "signature": sns_signature(demo.app_secret, timestamp),
    }


async def sns_user_info(app: Any, code: str, query: dict[str, str]) -> Any:
    """``POST /sns/getuserinfo_bycode`` for ``code``, signed by ``query``: the JSON answer."""
    answer = await call(
        app, "POST", "/sns/getuserinfo_bycode", query=query, json={"tmp_auth_code": code}
    )
    return answer.json()


async def test_qrconnect_page_and_sns_exchange(sim_app: Any, sim_state: Any) -> None:
    page = await call(
        sim_app,
        "GET",
        "/connect/qrconnect",
        query={
            "appid": FULL_APP.app_key,
            "response_type": "code",
            "scope": "snsapi_login",
            "redirect_uri": CALLBACK,
        },
    )
    assert page.status == 200 and "张伟" in page.text
    code = await sns_code(sim_app)
    body = await sns_user_info(sim_app, code, signed(FULL_APP))
    assert body["errcode"] == 0
    assert body["user_info"]["unionid"] == sim_state.user(DEMO_CORP_ID, "user001").unionid
    assert body["user_info"]["nick"] == "张伟"
    again = await sns_user_info(sim_app, code, signed(FULL_APP))
    assert again["errcode"] == 40078


async def test_sns_signature_url_encoded_as_the_docs_say(sim_server: Any) -> None:
    """Over a socket: the signature arrives percent-encoded (+ → %2B, / → %2F, = → %3D)."""
    code = await sns_code(sim_server.app)
    params = signed(FULL_APP)
    url = URL(
        f"{sim_server.url}/sns/getuserinfo_bycode?accessKey={params['accessKey']}"
        f"&timestamp={params['timestamp']}&signature={quote(params['signature'], safe='')}",
        encoded=True,
    )
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json={"tmp_auth_code": code}) as response,
    ):
        body = await response.json(content_type=None)
    assert body["errcode"] == 0 and body["user_info"]["nick"] == "张伟"


async def test_sns_signature_and_timestamp_checks(sim_app: Any) -> None:
    code = await sns_code(sim_app)
    stale = signed(FULL_APP, str(int(time.time() * 1000) - 120_000))
    bad = {**signed(FULL_APP), "signature": "AAAA"}
    wrong_secret = {
        **signed(FULL_APP),
        "signature": sns_signature("wrong", signed(FULL_APP)["timestamp"]),
    }
    for query, errcode in [(stale, 853002), (bad, 853003), (wrong_secret, 853003), ({}, 853001)]:
        assert (await sns_user_info(sim_app, code, query))["errcode"] == errcode
    other = await sns_user_info(sim_app, code, signed(OTHER_CORP_APP))
    assert other["errcode"] == 40078
