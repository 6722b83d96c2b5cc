"""The JSAPI script and its simulator calls, in-process (the browser tests drive the real thing)."""

from __future__ import annotations

import hashlib
from typing import Any

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_ID
from dingbridge.sim.handlers.jsapi import COOKIE
from tests.sim.asgi_call import Answer, call
from tests.sim.conftest import app_token

PAGE = "http://127.0.0.1:8000/10001/"


async def opened(app: Any, userid: str, **extra: str) -> str:
    """Go through /_sim/open and return the Cookie header the browser would send back."""
    answer = await call(app, "GET", "/_sim/open", query={"userid": userid, "url": PAGE, **extra})
    assert answer.status == 302 and answer.headers["location"] == PAGE
    cookie = answer.headers["set-cookie"]
    assert "samesite=lax" in cookie.lower() and "httponly" in cookie.lower()
    return cookie.split(";")[0]


async def ask(app: Any, path: str, cookie: str | None, **query: str) -> Answer:
    headers = {"origin": "http://127.0.0.1:8000"}
    if cookie:
        headers["cookie"] = cookie
    return await call(app, "GET", path, query=query, headers=headers)


async def test_script_knows_whether_it_is_inside_dingtalk(sim_app: Any) -> None:
    outside = await call(sim_app, "GET", "/_sim/jsapi/dingtalk.open.js")
    assert outside.headers["content-type"].startswith("application/javascript")
    assert "var CLIENT = null;" in outside.text and "window.dd = dd" in outside.text
    cookie = await opened(sim_app, "user001", platform="ios")
    inside = await call(sim_app, "GET", "/_sim/jsapi/dingtalk.open.js", headers={"cookie": cookie})
    assert 'var CLIENT = {"platform": "ios", "client": "current"};' in inside.text


async def test_authcode_for_the_signed_in_user(sim_app: Any, sim_state: Any) -> None:
    cookie = await opened(sim_app, "user005")
    answer = await ask(sim_app, "/_sim/jsapi/authcode", cookie, corpId=DEMO_CORP_ID)
    assert answer.headers["access-control-allow-origin"] == "http://127.0.0.1:8000"
    assert answer.headers["access-control-allow-credentials"] == "true"
    code = answer.json()["code"]
    token = await app_token(sim_app, FULL_APP)
    body = await call(
        sim_app, "GET", "/user/getuserinfo", query={"access_token": token, "code": code}
    )
    assert body.json()["userid"] == "user005"
    wrong_corp = await ask(sim_app, "/_sim/jsapi/authcode", cookie, corpId=OTHER_CORP_ID)
    assert wrong_corp.json()["errorCode"] == 3
    outside = await ask(sim_app, "/_sim/jsapi/authcode", None, corpId=DEMO_CORP_ID)
    assert outside.json()["errorCode"] == -1
    forged = await ask(sim_app, "/_sim/jsapi/authcode", f"{COOKIE}=garbage", corpId=DEMO_CORP_ID)
    assert forged.json()["errorCode"] == -1


async def test_open_refuses_bad_requests(sim_app: Any) -> None:
    cases = [
        ({"userid": "user001", "url": "javascript:alert(1)"}, 400),
        ({"userid": "user001", "url": PAGE, "platform": "symbian"}, 400),
        ({"userid": "nobody", "url": PAGE}, 404),
        ({"userid": "user022", "url": PAGE}, 403),
    ]
    for query, status in cases:
        answer = await call(sim_app, "GET", "/_sim/open", query=query)
        assert answer.status == status and "set-cookie" not in answer.headers


async def test_close_forgets_the_client(sim_app: Any) -> None:
    answer = await call(sim_app, "GET", "/_sim/close", query={"url": PAGE})
    assert answer.status == 302 and f"{COOKIE}=" in answer.headers["set-cookie"]
    assert "max-age=0" in answer.headers["set-cookie"].lower()


async def test_dd_config_checks(sim_app: Any, sim_state: Any) -> None:
    def params(**overrides: str) -> dict[str, str]:
        base = {
            "corpId": DEMO_CORP_ID,
            "agentId": str(FULL_APP.agent_id),
            "nonceStr": "n",
            "timeStamp": "1",
            "url": PAGE,
            "signature": "x",
        }
        return {**base, **overrides}

    async def verify(**query: str) -> Any:
        return (await ask(sim_app, "/_sim/jsapi/config", None, **query)).json()

    assert (await verify(**params(corpId="dingnope")))["errorCode"] == 52010
    assert (await verify(**params(agentId="42")))["errorCode"] == 52019
    assert (await verify(**params()))["errorCode"] == 52011  # no ticket fetched yet
    ticket = sim_state.credentials.jsapi_ticket(FULL_APP.app_key, DEMO_CORP_ID).value
    plain = f"jsapi_ticket={ticket}&noncestr=n&timestamp=1&url={PAGE}".encode()
    assert (await verify(**params(signature=hashlib.sha1(plain).hexdigest())))["ok"] is True
    assert (await verify(**params(signature=hashlib.sha256(plain).hexdigest())))["ok"] is True
    assert (await verify(**params(signature="0" * 40)))["errorCode"] == 52013
    assert (await verify(**params(nonceStr="")))["errorCode"] == 52015
    sim_state.clock.advance(7201)
    assert (await verify(**params(signature=hashlib.sha1(plain).hexdigest())))["errorCode"] == 52011


async def test_open_fills_the_corpid_placeholder(sim_app: Any) -> None:
    for placeholder in ("$CORPID$", "%24CORPID%24"):
        answer = await call(
            sim_app,
            "GET",
            "/_sim/open",
            query={"userid": "other001", "url": f"{PAGE}?corpId={placeholder}"},
        )
        assert answer.headers["location"] == f"{PAGE}?corpId={OTHER_CORP_ID}"


async def test_an_old_client_has_only_the_legacy_api_and_calls_are_recorded(sim_app: Any) -> None:
    cookie = await opened(sim_app, "user001", client="legacy")
    old = await call(sim_app, "GET", "/_sim/jsapi/dingtalk.open.js", headers={"cookie": cookie})
    assert '"client": "legacy"' in old.text
    answer = await ask(
        sim_app, "/_sim/jsapi/authcode", cookie, corpId=DEMO_CORP_ID, api="requestAuthCode"
    )
    assert answer.json()["code"]
    calls = (await call(sim_app, "GET", "/_sim/jsapi/calls")).json()["calls"]
    assert calls[-1]["api"] == "requestAuthCode" and calls[-1]["userid"] == "user001"
    cleared = await call(sim_app, "DELETE", "/_sim/jsapi/calls")
    assert cleared.json()["calls"] == []
