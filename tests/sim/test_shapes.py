"""Answer shapes against the examples in dingtalk-api.md: the same keys and value types."""

from __future__ import annotations

import time
from typing import Any

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.sim.handlers.login import sns_signature
from tests.sim.asgi_call import call
from tests.sim.conftest import app_token, topapi, user_token, users_me

# §5 example of topapi/v2/user/get (optional fields may be omitted).
USER_GET_KEYS = {
    "userid", "unionid", "name", "avatar", "state_code", "mobile", "hide_mobile", "telephone",
    "job_number", "title", "email", "org_email", "work_place", "remark", "dept_id_list",
    "dept_order_list", "leader_in_dept", "role_list", "manager_userid", "hired_date", "active",
    "admin", "boss", "senior", "real_authed", "exclusive_account", "union_emp_ext", "extension",
}  # fmt: skip
USER_GET_REQUIRED = {"userid", "unionid", "name", "dept_id_list", "active", "admin", "boss"}


async def test_token_shapes(sim_app: Any) -> None:
    old = await call(
        sim_app,
        "GET",
        "/gettoken",
        query={"appkey": FULL_APP.app_key, "appsecret": FULL_APP.app_secret},
    )
    assert set(old.json()) == {"errcode", "access_token", "errmsg", "expires_in"}
    assert old.headers["server"] == "DingTalk/1.0.0"
    assert old.headers["content-type"] == "application/json;charset=UTF-8"
    new = await call(
        sim_app,
        "POST",
        "/v1.0/oauth2/accessToken",
        json={"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret},
    )
    assert new.headers["content-type"] == "application/json;charset=utf-8"
    assert {k: type(v) for k, v in new.json().items()} == {"accessToken": str, "expireIn": int}
    error = await call(sim_app, "POST", "/v1.0/oauth2/accessToken", json={"appKey": "x"})
    requestid = error.json()["requestid"]
    assert set(error.json()) == {"requestid", "code", "message"}
    assert requestid == requestid.upper() and len(requestid) == 36


async def test_login_shapes(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user002")
    v2 = await topapi(sim_app, "/topapi/v2/user/getuserinfo", token, {"code": code})
    assert set(v2) == {"errcode", "errmsg", "request_id", "result"}
    assert {k: type(v) for k, v in v2["result"].items()} == {
        "userid": str,
        "unionid": str,
        "associated_unionid": str,
        "device_id": str,
        "sys": bool,
        "sys_level": int,
        "name": str,
    }
    code = sim_state.issue_authcode(DEMO_CORP_ID, "user002")
    v1 = await call(
        sim_app, "GET", "/user/getuserinfo", query={"access_token": token, "code": code}
    )
    assert set(v1.json()) == {
        "errcode",
        "errmsg",
        "userid",
        "name",
        "deviceId",
        "is_sys",
        "sys_level",
    }


async def test_contact_shapes(sim_app: Any, sim_state: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    user = (await topapi(sim_app, "/topapi/v2/user/get", token, {"userid": "user001"}))["result"]
    assert USER_GET_REQUIRED <= set(user) <= USER_GET_KEYS
    assert isinstance(user["dept_id_list"][0], int) and isinstance(user["hide_mobile"], bool)
    assert set(user["dept_order_list"][0]) == {"dept_id", "order"}
    assert set(user["role_list"][0]) == {"group_name", "id", "name"}
    unionid = user["unionid"]
    mapped = await topapi(sim_app, "/topapi/user/getbyunionid", token, {"unionid": unionid})
    assert set(mapped) == {"errcode", "errmsg", "result", "request_id"}
    assert mapped["result"] == {"contact_type": 0, "userid": "user001"}
    depts = await topapi(sim_app, "/topapi/v2/department/listsub", token, {"dept_id": 1})
    assert set(depts["result"][0]) == {
        "dept_id",
        "name",
        "parent_id",
        "create_dept_group",
        "auto_add_user",
    }
    ids = await topapi(sim_app, "/topapi/v2/department/listsubid", token, {"dept_id": 1})
    assert set(ids["result"]) == {"dept_id_list"}
    listed = await topapi(
        sim_app, "/topapi/v2/user/list", token, {"dept_id": 1, "cursor": 0, "size": 100}
    )
    assert set(listed["result"]) == {"has_more", "list"}
    item = listed["result"]["list"][0]
    assert {"dept_order", "leader"} <= set(item) and "dept_order_list" not in item
    assert set(item) - {"dept_order", "leader"} <= USER_GET_KEYS


async def test_oauth_shapes(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "GET",
        "/oauth2/auth",
        query={
            "client_id": FULL_APP.app_key,
            "redirect_uri": "http://127.0.0.1:1/cb",
            "response_type": "code",
            "scope": "openid",
            "prompt": "consent",
            "userid": "user009",
        },
    )
    code = answer.headers["location"].split("code=")[1].split("&")[0]
    tokens = await user_token(sim_app, code)
    assert {k: type(v) for k, v in tokens.json().items()} == {
        "accessToken": str,
        "refreshToken": str,
        "expireIn": int,
        "corpId": str,
    }
    me = await users_me(sim_app, tokens.json()["accessToken"])
    allowed = {"nick", "unionId", "openId", "avatarUrl", "mobile", "stateCode", "email", "visitor"}
    assert {"nick", "unionId", "openId", "visitor"} <= set(me.json()) <= allowed


async def test_message_shapes(sim_app: Any) -> None:
    token = await app_token(sim_app, FULL_APP)
    sent = await topapi(
        sim_app,
        "/topapi/message/corpconversation/asyncsend_v2",
        token,
        {
            "agent_id": FULL_APP.agent_id,
            "userid_list": "user001",
            "msg": {"msgtype": "markdown", "markdown": {"title": "标题", "text": "# 内容"}},
        },
    )
    assert {"errcode", "task_id", "request_id"} <= set(sent) and isinstance(sent["task_id"], int)
    query = {"agent_id": FULL_APP.agent_id, "task_id": sent["task_id"]}
    result = await topapi(sim_app, "/topapi/message/corpconversation/getsendresult", token, query)
    assert "status" not in result["send_result"]
    assert {
        "read_user_id_list",
        "unread_user_id_list",
        "failed_user_id_list",
        "invalid_user_id_list",
        "invalid_dept_id_list",
        "forbidden_list",
    } <= set(result["send_result"])


async def test_sns_shape(sim_app: Any) -> None:
    answer = await call(
        sim_app,
        "GET",
        "/connect/qrconnect",
        query={
            "appid": FULL_APP.app_key,
            "response_type": "code",
            "scope": "snsapi_login",
            "redirect_uri": "http://127.0.0.1:1/cb",
            "userid": "user001",
        },
    )
    code = answer.headers["location"].split("code=")[1].split("&")[0]
    timestamp = str(int(time.time() * 1000))
    body = await call(
        sim_app,
        "POST",
        "/sns/getuserinfo_bycode",
        query={
            "accessKey": FULL_APP.app_key,
            "timestamp": timestamp,
            "signature": sns_signature(FULL_APP.app_secret, timestamp),
        },
        json={"tmp_auth_code": code},
    )
    assert set(body.json()) == {"errcode", "errmsg", "user_info"}
    assert {"nick", "unionid", "openid", "main_org_auth_high_level"} <= set(
        body.json()["user_info"]
    )
