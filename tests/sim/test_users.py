"""免登 code exchange, user lookups, listings, departments; permissions and field permissions."""

from __future__ import annotations

from typing import Any

from dingbridge.sim.defaults import (
    DEMO_CORP_ID,
    DEPT_BACKEND,
    DEPT_RND,
    DEPT_ROOT,
    FULL_APP,
    NO_MOBILE_APP,
    OTHER_CORP_APP,
    OTHER_CORP_ID,
    default_fixture,
)
from dingbridge.sim.fixtures import parse_fixture
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi


async def test_free_login_code_gives_the_user_once(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    body = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert body["errcode"] == 0 and body["request_id"]
    result = body["result"]
    assert (result["userid"], result["name"], result["sys"], result["sys_level"]) == (
        "user001",
        "张伟",
        True,
        1,
    )
    assert result["unionid"] == sim_state.user(DEMO_CORP_ID, "user001").unionid
    again = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert (again["errcode"], again["errmsg"]) == (40078, "nonexistent temp auth code")


async def test_free_login_code_expires_after_five_minutes(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user002")
    sim_state.clock.advance(301)
    token = await app_token(sim_app, FULL_APP)
    body = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert body["errcode"] == 40078


async def test_free_login_code_is_bound_to_its_corp(sim_app: Any, sim_state: Any) -> None:
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    other_token = await app_token(sim_app, OTHER_CORP_APP)
    body = await topapi(sim_app, "/topapi/v2/user/getuserinfo", other_token, {"code": code})
    assert body["errcode"] == 40078
    # The code was not burnt by the wrong corp's attempt.
    token = await app_token(sim_app, FULL_APP)
    ok = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert ok["result"]["userid"] == "user001"


async def test_v1_getuserinfo_is_flat(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user003")
    answer = await call(
        sim_app, "GET", "/user/getuserinfo", query={"access_token": token, "code": code}
    )
    body = answer.json()
    assert body["errcode"] == 0 and body["userid"] == "user003" and body["name"] == "李娜"
    assert "deviceId" in body and body["is_sys"] is False and "request_id" not in body
    again = await call(
        sim_app, "GET", "/user/getuserinfo", query={"access_token": token, "code": code}
    )
    assert again.json() == {"errcode": 40078, "errmsg": "不存在的临时授权码"}


async def test_user_get_returns_details_with_field_permissions(sim_app: Any) -> None:
    full = await app_token(sim_app, FULL_APP)
    body = await topapi(
        sim_app, "/topapi/v2/user/get", full, {"userid": "user001", "language": "zh_CN"}
    )
    user = body["result"]
    assert user["mobile"] == "13800000001" and user["state_code"] == "86"
    assert user["email"] == "zhangwei@example.com"
    assert user["dept_id_list"] == [DEPT_ROOT] and user["active"] is True and user["admin"] is True
    assert user["leader_in_dept"] == [{"dept_id": DEPT_ROOT, "leader": True}]
    no_mobile = await app_token(sim_app, NO_MOBILE_APP)
    trimmed = (await topapi(sim_app, "/topapi/v2/user/get", no_mobile, {"userid": "user001"}))[
        "result"
    ]
    assert "mobile" not in trimmed and "state_code" not in trimmed
    assert trimmed["email"] == "zhangwei@example.com" and trimmed["name"] == "张伟"


async def test_user_without_email_omits_it(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    user = (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user004"}))["result"]
    assert "email" not in user


async def test_user_of_another_corp_is_not_found(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "other001"})
    assert (body["errcode"], body["errmsg"]) == (60121, "找不到该用户") and body["request_id"]


async def test_missing_api_permission_is_wrapped_60011(sim_app: Any, sim_state: Any) -> None:
    fixture = default_fixture()
    fixture["corps"][0]["apps"][0]["permissions"] = ["qyapi_base"]
    sim_state.load_fixture(fixture)
    token = await app_token(sim_app, FULL_APP)
    body = await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"})
    assert (body["errcode"], body["sub_code"], body["sub_msg"]) == (
        88,
        "60011",
        "没有调用该接口的权限",
    )
    assert body["errmsg"] == "ding talk error[subcode=60011,submsg=没有调用该接口的权限]"
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/topapi/user/getbyunionid", {"unionid": "x"}),
        ("/topapi/v2/user/getbymobile", {"mobile": "13800000001"}),
        ("/topapi/v2/department/listsub", {"dept_id": 1}),
        ("/topapi/v2/user/list", {"dept_id": 1, "cursor": 0, "size": 10}),
        ("/topapi/user/listid", {"dept_id": 1}),
    ]
    for path, payload in cases:
        assert (await topapi(sim_app, path, token, payload))["sub_code"] == "60011", path
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user001")
    login = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert login["errcode"] == 0  # qyapi_base is enough for 免登


async def test_getbyunionid_and_getbymobile(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    unionid = sim_state.user(DEMO_CORP_ID, "user005").unionid
    body = await topapi(sim_app, "/topapi/user/getbyunionid", token, {"unionid": unionid})
    assert body["result"] == {"contact_type": 0, "userid": "user005"}
    stranger = sim_state.user(OTHER_CORP_ID, "other001").unionid
    missing = await topapi(sim_app, "/topapi/user/getbyunionid", token, {"unionid": stranger})
    assert missing["errcode"] == 60121
    by_mobile = await topapi(
        sim_app, "/topapi/v2/user/getbymobile", token, {"mobile": "13800000005"}
    )
    assert by_mobile["result"] == {"userid": "user005"}
    nobody = await topapi(sim_app, "/topapi/v2/user/getbymobile", token, {"mobile": "13999999999"})
    assert nobody["errcode"] == 60121
    junk = await topapi(sim_app, "/topapi/v2/user/getbymobile", token, {"mobile": "abc"})
    assert junk["errcode"] == 40104


async def test_user_list_pages_through_a_department(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    seen: list[str] = []
    cursor, pages = 0, 0
    while True:
        body = await topapi(
            sim_app,
            "/topapi/v2/user/list",
            token,
            {"dept_id": DEPT_BACKEND, "cursor": cursor, "size": 2},
        )
        result = body["result"]
        seen += [item["userid"] for item in result["list"]]
        pages += 1
        if not result["has_more"]:
            assert "next_cursor" not in result
            break
        cursor = result["next_cursor"]
    ids = (await topapi(sim_app, "/topapi/user/listid", token, {"dept_id": DEPT_BACKEND}))["result"]
    assert sorted(seen) == sorted(ids["userid_list"]) and len(seen) == len(set(seen))
    assert pages == (len(seen) + 1) // 2
    item = (
        await topapi(
            sim_app,
            "/topapi/v2/user/list",
            token,
            {"dept_id": DEPT_BACKEND, "cursor": 0, "size": 1},
        )
    )["result"]["list"][0]
    assert "dept_order" in item and "leader" in item and "mobile" in item


async def test_user_list_rejects_bad_sizes_and_departments(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    for size in (0, 101):
        body = await topapi(
            sim_app, "/topapi/v2/user/list", token, {"dept_id": 1, "cursor": 0, "size": size}
        )
        assert body["errcode"] == 40035
    missing = await topapi(sim_app, "/topapi/v2/user/list", token, {"dept_id": 1})
    assert missing["errcode"] == 400002
    unknown = await topapi(sim_app, "/topapi/user/listid", token, {"dept_id": 999})
    assert unknown["errcode"] == 60003


async def test_departments(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    root = await topapi(sim_app, "/topapi/v2/department/listsub", token, {})
    names = {d["name"] for d in root["result"]}
    assert {"研发部", "市场部", "人事行政部"} == names
    rnd = next(d for d in root["result"] if d["name"] == "研发部")
    assert rnd["parent_id"] == 1 and rnd["dept_id"] == DEPT_RND
    ids = await topapi(sim_app, "/topapi/v2/department/listsubid", token, {"dept_id": DEPT_RND})
    assert len(ids["result"]["dept_id_list"]) == 2
    missing = await topapi(sim_app, "/topapi/v2/department/listsub", token, {"dept_id": 42})
    assert missing["errcode"] == 60003


def test_default_fixture_shape() -> None:
    world = parse_fixture(default_fixture())
    demo = world.corps[DEMO_CORP_ID]
    assert len(demo.users) >= 20 and 5 <= len(demo.departments) <= 7
    assert demo.users["user001"].name == "张伟" and demo.users["user001"].mobile == "13800000001"
    assert any(not u.active for u in demo.users.values())
    assert any(u.email for u in demo.users.values()) and any(
        not u.email for u in demo.users.values()
    )
    assert world.corps[OTHER_CORP_ID].users["other001"].mobile == "13900000001"
    assert len(world.apps) == 4
    assert "fieldMobile" not in world.apps[NO_MOBILE_APP.app_key].permissions


async def test_missing_email_field_permission_drops_email(sim_app: Any, sim_state: Any) -> None:
    fixture = default_fixture()
    fixture["corps"][0]["apps"][0]["permissions"] = [
        "qyapi_base",
        "qyapi_get_member",
        "fieldMobile",
    ]
    sim_state.load_fixture(fixture)
    token = await app_token(sim_app, FULL_APP)
    user = (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}))["result"]
    assert "email" not in user and user["mobile"] == "13800000001"
