"""Injected faults and the per-app per-API QPS limit."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from dingbridge.sim.defaults import FULL_APP, NO_MOBILE_APP
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi

TOKEN_QUERY = {"appkey": FULL_APP.app_key, "appsecret": FULL_APP.app_secret}


async def add_fault(app: Any, **fault: Any) -> Any:
    answer = await call(app, "POST", "/_sim/faults", json=fault)
    assert answer.status == 200, answer.text
    return answer.json()


async def test_one_shot_errcode_fault(sim_app: Any) -> None:
    await add_fault(sim_app, path="/gettoken", kind="error", errcode=-1, count=1)
    first = await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)
    assert first.json() == {"errcode": -1, "errmsg": "系统繁忙"}
    second = await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)
    assert second.json()["errcode"] == 0


async def test_error_fault_takes_each_family_shape(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    await add_fault(
        sim_app, path="/topapi/v2/user/get", kind="error", errcode=60121, errmsg="找不到该用户"
    )
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert body["errcode"] == 60121 and body["request_id"]
    await add_fault(sim_app, path="/v1.0/oauth2/accessToken", kind="error", status=503)
    answer = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/accessToken",
        json={"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret},
    )
    assert answer.status == 503 and answer.json()["code"] == "systemBusy"


async def test_gateway_88_fault_carries_its_sub_code(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    await add_fault(
        sim_app,
        path="/topapi/v2/user/get",
        kind="error",
        sub_code="60011",
        sub_msg="没有调用该接口的权限",
    )
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert body["errcode"] == 88 and body["sub_code"] == "60011"
    assert body["errmsg"] == "ding talk error[subcode=60011,submsg=没有调用该接口的权限]"
    assert body["request_id"]


async def test_malformed_fault_answers_200_with_a_body_that_is_not_json(sim_app: Any) -> None:
    await add_fault(sim_app, path="/gettoken", kind="malformed", count=1)
    cut = await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)
    assert cut.status == 200 and cut.text.startswith('{"errcode":0')
    with pytest.raises(ValueError):
        cut.json()
    await add_fault(sim_app, path="/gettoken", kind="malformed", body="<html>稍后</html>", count=1)
    page = await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)
    assert page.status == 200 and page.text == "<html>稍后</html>"
    assert (await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)).json()["errcode"] == 0


async def test_persistent_fault_until_cleared(sim_app: Any) -> None:
    await add_fault(sim_app, path="/gettoken", kind="http_status", status=502)
    for _ in range(3):
        answer = await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)
        assert answer.status == 502 and "502" in answer.text
    listed = (await call(sim_app, "GET", "/_sim/faults")).json()["faults"]
    assert listed[0]["kind"] == "http_status"
    await call(sim_app, "DELETE", "/_sim/faults")
    assert (await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)).json()["errcode"] == 0


async def test_wildcard_fault_and_log_outcome(sim_app: Any, sim_state: Any) -> None:
    await add_fault(sim_app, path="*", kind="drop", count=2)
    assert (await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)).dropped
    assert (await call(sim_app, "POST", "/topapi/v2/user/get")).dropped
    assert not (await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)).dropped
    assert [e.outcome for e in sim_state.request_log] == ["fault:drop", "fault:drop", "ok"]


@pytest.mark.parametrize(
    "fault",
    [
        {"path": "gettoken", "kind": "drop"},
        {"path": "/gettoken", "kind": "explode"},
        {"path": "/gettoken", "kind": "drop", "count": 0},
        {"path": "/gettoken", "kind": "http_status", "status": 200},
        {"path": "/gettoken", "kind": "malformed", "status": 100},
        {"path": "/gettoken", "kind": "error", "sub_code": 40014},
        {"path": "/gettoken", "kind": "latency", "seconds": "slow"},
        {"path": "/gettoken", "kind": "drop", "colour": "red"},
    ],
)
async def test_bad_faults_are_refused_with_a_reason(sim_app: Any, fault: dict[str, Any]) -> None:
    answer = await call(sim_app, "POST", "/_sim/faults", json=fault)
    assert answer.status == 400 and answer.json()["error"]
    assert (await call(sim_app, "GET", "/_sim/faults")).json()["faults"] == []


async def test_qps_limit_per_app_per_api(sim_app: Any, sim_state: Any) -> None:
    sim_state.settings.qps_limit = 3
    token = await app_token(sim_app, FULL_APP)  # gettoken counts on its own API
    results = [
        (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}))["errcode"]
        for _ in range(4)
    ]
    assert results == [0, 0, 0, 90018]
    other_api = await topapi(sim_app, "/topapi/user/listid", token, {"dept_id": 1})
    assert other_api["errcode"] == 0
    other_app = await app_token(sim_app, NO_MOBILE_APP)
    assert (await topapi(sim_app, "/topapi/v2/user/get", other_app, {"userid": "user001"}))[
        "errcode"
    ] == 0
    sim_state.clock.advance(1)
    assert (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}))[
        "errcode"
    ] == 0


async def test_qps_limit_on_the_api_host(sim_app: Any, sim_state: Any) -> None:
    sim_state.settings.qps_limit = 1
    body = {"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret}
    await call(sim_app, "POST", "/v1.0/oauth2/accessToken", json=body)
    answer = await call(sim_app, "POST", "/v1.0/oauth2/accessToken", json=body)
    assert answer.status == 403
    assert answer.json()["code"] == "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"


async def test_default_qps_limit_is_twenty(sim_app: Any) -> None:
    codes = [
        (await call(sim_app, "GET", "/gettoken", query=TOKEN_QUERY)).json()["errcode"]
        for _ in range(21)
    ]
    # All in the same simulated second unless the wall clock ticked over meanwhile.
    assert codes.count(90018) <= 1 and codes[:20].count(0) >= 19


# --- over a real socket ---


async def test_dropped_connection_over_a_socket(sim_server: Any) -> None:
    # Persistent: aiohttp itself retries an idempotent request once on a dropped connection.
    sim_server.state.faults.add(_fault("/gettoken", "drop"))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            async with session.get(f"{sim_server.url}/gettoken", params=TOKEN_QUERY) as response:
                await response.read()
        sim_server.state.faults.clear()
        async with session.get(f"{sim_server.url}/gettoken", params=TOKEN_QUERY) as response:
            assert (await response.json(content_type=None))["errcode"] == 0


async def test_hang_until_the_client_gives_up(sim_server: Any) -> None:
    sim_server.state.faults.add(_fault("/gettoken", "hang", count=1))
    with pytest.raises(TimeoutError):
        await gettoken_errcode(sim_server.url, give_up_after=0.5)
    assert await gettoken_errcode(sim_server.url) == 0


async def test_latency_then_a_normal_answer(sim_server: Any) -> None:
    sim_server.state.faults.add(_fault("/gettoken", "latency", seconds=0.3, count=1))
    with pytest.raises(TimeoutError):
        await gettoken_errcode(sim_server.url, give_up_after=0.1)
    assert await gettoken_errcode(sim_server.url) == 0


async def gettoken_errcode(base_url: str, give_up_after: float = 30.0) -> Any:
    """``errcode`` of ``GET /gettoken`` on a new connection; gives up after that many seconds."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=give_up_after)) as session,
        session.get(f"{base_url}/gettoken", params=TOKEN_QUERY) as response,
    ):
        return (await response.json(content_type=None))["errcode"]


def _fault(path: str, kind: str, **extra: Any) -> Any:
    from dingbridge.sim.faults import parse_fault

    return parse_fault({"path": path, "kind": kind, **extra})
