"""The /_sim/ control API, the dashboard page, and the request log (which never holds secrets)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_ID, default_fixture
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi


async def test_issue_authcode_through_the_control_api(sim_app: Any) -> None:
    answer = await call(
        sim_app, "POST", "/_sim/authcode", json={"corp_id": DEMO_CORP_ID, "userid": "user004"}
    )
    code = answer.json()["code"]
    token = await app_token(sim_app, FULL_APP)
    body = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert body["result"]["userid"] == "user004"
    wrong = await call(
        sim_app, "POST", "/_sim/authcode", json={"corp_id": OTHER_CORP_ID, "userid": "user004"}
    )
    assert wrong.status == 404 and "user004" in wrong.json()["error"]
    malformed = await call(sim_app, "POST", "/_sim/authcode", json={"corp": "x"})
    assert malformed.status == 400


async def test_clock_advance_expires_tokens(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    answer = await call(sim_app, "POST", "/_sim/clock", json={"advance": 7201})
    assert answer.json()["offset"] == 7201
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert body["sub_code"] == "40014"
    backwards = await call(sim_app, "POST", "/_sim/clock", json={"advance": -5})
    assert backwards.status == 400


async def test_replace_the_fixture(sim_app: Any, sim_state: Any) -> None:
    fixture = default_fixture()
    fixture["corps"][0]["users"][0]["name"] = "张伟伟"
    answer = await call(sim_app, "PUT", "/_sim/fixture", json=fixture)
    assert answer.status == 200 and DEMO_CORP_ID in answer.json()["corps"]
    token = await app_token(sim_app, FULL_APP)
    assert (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}))["result"][
        "name"
    ] == "张伟伟"
    current = await call(sim_app, "GET", "/_sim/fixture")
    assert current.json()["corps"][0]["users"][0]["name"] == "张伟伟"


async def test_fixture_as_yaml(sim_app: Any) -> None:
    fixture = {
        "corps": [
            {
                "corp_id": "dingyaml",
                "name": "YAML 公司",
                "users": [{"userid": "y1", "unionid": "u1", "name": "测试"}],
                "apps": [
                    {
                        "app_key": "k",
                        "app_secret": "s",
                        "agent_id": 1,
                        "ip_whitelist": ["*.*.*.*"],
                        "permissions": ["*"],
                    }
                ],
            }
        ]
    }
    answer = await call(
        sim_app,
        "PUT",
        "/_sim/fixture",
        content=yaml.safe_dump(fixture, allow_unicode=True).encode(),
        headers={"content-type": "application/yaml"},
    )
    assert answer.status == 200 and answer.json()["apps"] == ["k"]
    token = (
        await call(sim_app, "GET", "/gettoken", query={"appkey": "k", "appsecret": "s"})
    ).json()
    body = await topapi(sim_app, "/topapi/v2/user/get", token["access_token"], {"userid": "y1"})
    assert body["result"]["name"] == "测试"


async def test_invalid_fixture_lists_every_problem_and_keeps_the_old_world(sim_app: Any) -> None:
    fixture = default_fixture()
    fixture["corps"][0]["users"][0]["dept_ids"] = [12345]
    fixture["corps"][0]["apps"][0]["permissions"] = ["qyapi_fly"]
    fixture["corps"][1]["apps"][0]["agent_id"] = "x"
    answer = await call(sim_app, "PUT", "/_sim/fixture", json=fixture)
    problems = answer.json()["problems"]
    assert answer.status == 400 and len(problems) == 3
    assert any("12345" in p for p in problems) and any("qyapi_fly" in p for p in problems)
    assert await app_token(sim_app, FULL_APP)
    not_json = await call(
        sim_app, "PUT", "/_sim/fixture", content=b"{", headers={"content-type": "application/json"}
    )
    assert not_json.status == 400


async def test_changed_secret_revokes_tokens(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    fixture = default_fixture()
    fixture["corps"][0]["apps"][0]["app_secret"] = "rotated"
    sim_state.load_fixture(fixture)
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert body["sub_code"] == "40014"


async def test_settings_from_the_control_api_and_fixture(sim_app: Any, sim_state: Any) -> None:
    answer = await call(
        sim_app, "POST", "/_sim/settings", json={"qps_limit": 5, "check_ip_on_gettoken": False}
    )
    assert answer.json()["qps_limit"] == 5 and sim_state.settings.check_ip_on_gettoken is False
    bad = await call(sim_app, "POST", "/_sim/settings", json={"qps_limit": "lots", "nope": 1})
    assert bad.status == 400 and len(bad.json()["problems"]) == 2
    fixture = {**default_fixture(), "settings": {"token_lifetime": 100}}
    await call(sim_app, "PUT", "/_sim/fixture", json=fixture)
    token = await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": FULL_APP.app_key, "appsecret": FULL_APP.app_secret},
    )
    assert token.json()["expires_in"] == 100


async def test_request_log_records_calls_without_secrets(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    await topapi(sim_app, "/topapi/v2/user/get", "bogus-token", {"userid": "user001"})
    await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": FULL_APP.app_key, "appsecret": "guess"},
        peer="127.0.0.9",
    )
    log = (await call(sim_app, "GET", "/_sim/requests")).json()["requests"]
    assert [(e["method"], e["path"], e["app_key"], e["peer"], e["outcome"]) for e in log] == [
        ("GET", "/gettoken", FULL_APP.app_key, "127.0.0.1", "ok"),
        ("POST", "/topapi/v2/user/getuserinfo", FULL_APP.app_key, "127.0.0.1", "ok"),
        ("POST", "/topapi/v2/user/get", "", "127.0.0.1", "88/40014"),
        ("GET", "/gettoken", FULL_APP.app_key, "127.0.0.9", "40096"),
    ]
    dumped = json.dumps(log)
    for secret in (FULL_APP.app_secret, token, code, "guess", "bogus-token"):
        assert secret not in dumped
    page = await call(sim_app, "GET", "/_sim/")
    for secret in (FULL_APP.app_secret, token, code):
        assert secret not in page.text
    await call(sim_app, "DELETE", "/_sim/requests")
    assert (await call(sim_app, "GET", "/_sim/requests")).json()["requests"] == []


async def test_dashboard_shows_the_world(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    await topapi(
        sim_app,
        "/topapi/message/corpconversation/asyncsend_v2",
        token,
        {
            "agent_id": FULL_APP.agent_id,
            "userid_list": "user001",
            "msg": {"msgtype": "text", "text": {"content": "周报提醒"}},
        },
    )
    page = await call(sim_app, "GET", "/_sim/")
    assert page.status == 200 and 'lang="zh-CN"' in page.text
    for expected in (
        "示例科技有限公司",
        "另一家贸易公司",
        FULL_APP.app_key,
        "张伟",
        "13800000001",
        "/gettoken",
        "周报提醒",
        "未激活",
    ):
        assert expected in page.text, expected


async def test_request_log_is_bounded(sim_app: Any, sim_state: Any) -> None:
    sim_state.settings.request_log_size = 3
    for _ in range(5):
        await call(sim_app, "GET", "/nothing")
    assert len(sim_state.request_log) == 3
