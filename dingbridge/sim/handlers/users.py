"""User lookups and listings on oapi."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from dingbridge.sim.endpoints import Call, oapi_endpoint
from dingbridge.sim.errors import OapiError
from dingbridge.sim.records import User
from dingbridge.sim.user_views import user_detail, user_list_item

NOT_FOUND = OapiError(60121, "找不到该用户")


def _user(call: Call, userid: str) -> User:
    user = call.corp.users.get(userid)
    if user is None:
        raise NOT_FOUND
    return user


@oapi_endpoint("v2.user.get", "qyapi_get_member")
async def user_get(call: Call) -> dict[str, Any]:
    assert call.app is not None
    user = _user(call, call.str_param("userid"))
    return {"result": user_detail(user, call.app)}


@oapi_endpoint("user.getbyunionid", "qyapi_get_member")
async def get_by_unionid(call: Call) -> dict[str, Any]:
    user = call.corp.user_by_unionid(call.str_param("unionid"))
    if user is None:
        raise NOT_FOUND
    return {"result": {"contact_type": 0, "userid": user.userid}}


@oapi_endpoint("v2.user.getbymobile", "qyapi_get_member_by_mobile")
async def get_by_mobile(call: Call) -> dict[str, Any]:
    mobile = call.str_param("mobile")
    if not mobile.lstrip("+").replace("-", "").isdigit():
        raise OapiError(40104, "企业中无效的手机号")
    user = call.corp.user_by_mobile(mobile.removeprefix("+86").removeprefix("86-"))
    if user is None:
        raise OapiError(60121, "未找到该用户")
    return {"result": {"userid": user.userid}}


def _dept_id(call: Call) -> int:
    dept_id = call.int_param("dept_id")
    if dept_id not in call.corp.departments:
        raise OapiError(60003, "部门不存在")
    return dept_id


@oapi_endpoint("user.listid", "qyapi_get_member")
async def list_ids(call: Call) -> dict[str, Any]:
    members = call.corp.members_of(_dept_id(call))
    return {"result": {"userid_list": [u.userid for u in members]}}


@oapi_endpoint("v2.user.list", "qyapi_get_department_member")
async def user_list(call: Call) -> dict[str, Any]:
    assert call.app is not None
    dept_id = _dept_id(call)
    cursor, size = call.int_param("cursor"), call.int_param("size")
    if not 1 <= size <= 100 or not 0 <= cursor <= 100000:
        raise OapiError(40035, "不合法的参数")
    members = sorted(call.corp.members_of(dept_id), key=lambda u: u.userid)
    page = members[cursor : cursor + size]
    result: dict[str, Any] = {
        "has_more": cursor + size < len(members),
        "list": [user_list_item(u, call.app, dept_id) for u in page],
    }
    if result["has_more"]:
        result["next_cursor"] = cursor + size
    return {"result": result}


ROUTES = [
    Route("/topapi/v2/user/get", user_get, methods=["POST"]),
    Route("/topapi/user/getbyunionid", get_by_unionid, methods=["POST"]),
    Route("/topapi/v2/user/getbymobile", get_by_mobile, methods=["POST"]),
    Route("/topapi/user/listid", list_ids, methods=["POST"]),
    Route("/topapi/v2/user/list", user_list, methods=["POST"]),
]
