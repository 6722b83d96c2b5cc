"""Every error class: which DingTalk answers map to it and what it tells the admin."""

from __future__ import annotations

from typing import Any

import pytest

from dingbridge.dingtalk import (
    AuthCodeInvalid,
    DingTalkError,
    InvalidCredentials,
    IpNotWhitelisted,
    PermissionDenied,
    RateLimited,
    ServerBusy,
    TokenInvalid,
    TransportError,
    UnexpectedResponse,
    UserNotFound,
)
from dingbridge.dingtalk.errors import error_from_api, error_from_oapi

IP_MSG = (
    "访问ip不在白名单之中，请参考FAQ：https://open.dingtalk.com/document/org-faq/app-faq,"
    "request ip=120.230.136.230 appKey(dingxxx)"
)


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        ({"errcode": 40096, "errmsg": "不合法的appKey或appSecret"}, InvalidCredentials),
        ({"errcode": 40089, "errmsg": "不合法的corpId或corpSecret"}, InvalidCredentials),
        ({"errcode": 60020, "errmsg": IP_MSG}, IpNotWhitelisted),
        ({"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限"}, PermissionDenied),
        ({"errcode": 60011, "errmsg": "没有调用该接口的权限"}, PermissionDenied),
        ({"errcode": 88, "sub_code": "40014", "sub_msg": "不合法的access_token"}, TokenInvalid),
        ({"errcode": 88, "sub_code": "40000", "sub_msg": "access_token is blank"}, TokenInvalid),
        ({"errcode": 40014, "errmsg": "不合法的access_token"}, TokenInvalid),
        ({"errcode": 40001, "errmsg": "access_token无效"}, TokenInvalid),
        ({"errcode": 42001, "errmsg": "access_token超时"}, TokenInvalid),
        ({"errcode": 40078, "errmsg": "nonexistent temp auth code"}, AuthCodeInvalid),
        ({"errcode": 90018, "errmsg": "qps"}, RateLimited),
        ({"errcode": 90002, "errmsg": "禁用"}, RateLimited),
        ({"errcode": 90020, "errmsg": "quota"}, RateLimited),
        ({"status": 1111, "wait": 5, "source": "x5", "punish": "deny"}, RateLimited),
        ({"errcode": 60121, "errmsg": "找不到该用户", "request_id": "xyvo2y4n4"}, UserNotFound),
        ({"errcode": 33012, "errmsg": "无效的USERID"}, UserNotFound),
        ({"errcode": -1, "errmsg": "系统繁忙"}, ServerBusy),
        ({"errcode": 60003, "errmsg": "部门不存在"}, DingTalkError),
    ],
)
def test_oapi_bodies_map_to_classes(body: dict[str, Any], cls: type[DingTalkError]) -> None:
    err = error_from_oapi(body, path="/topapi/v2/user/get", status=200)
    assert type(err) is cls
    assert err.explanation and err.explanation_en


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (
            400,
            {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"},
            InvalidCredentials,
        ),
        (
            403,
            {"code": "Forbidden.AccessDenied.IpNotInWhiteList", "message": "访问ip不在白名单之中"},
            IpNotWhitelisted,
        ),
        (400, {"code": "InvalidAuthentication", "message": "不合法的access_token"}, TokenInvalid),
        (400, {"code": "invalidCode", "message": "无效的授权码"}, AuthCodeInvalid),
        (
            403,
            {"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "禁用"},
            RateLimited,
        ),
        (
            403,
            {"code": "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi", "message": "禁用"},
            RateLimited,
        ),
        (404, {"code": "invalidParameter.user.notFound", "message": "找不到该用户"}, UserNotFound),
        (500, {"code": "systemBusy", "message": "系统繁忙"}, ServerBusy),
        (503, {"Code": "whatever"}, ServerBusy),
    ],
)
def test_api_bodies_map_to_classes(
    status: int, body: dict[str, Any], cls: type[DingTalkError]
) -> None:
    err = error_from_api(body, path="/v1.0/contact/users/me", status=status)
    assert type(err) is cls
    assert err.status == status


def test_errcode_88_reads_sub_code() -> None:
    err = error_from_oapi(
        {
            "errcode": 88,
            "sub_code": "40014",
            "sub_msg": "不合法的access_token",
            "errmsg": "ding talk error[subcode=40014,submsg=不合法的access_token]",
            "request_id": "16l4ew3d47pdp",
        },
        path="/topapi/v2/user/get",
        status=200,
    )
    assert err.errcode == 88
    assert err.sub_code == "40014"
    assert err.effective_code == "40014"
    assert err.request_id == "16l4ew3d47pdp"
    assert "sub_code=40014" in str(err)


def test_api_error_keeps_code_message_requestid() -> None:
    err = error_from_api(
        {
            "code": "InvalidAuthentication",
            "requestid": "30EE8654-1AA2-7D88-8248-9518547248AA",
            "message": "不合法的access_token",
        },
        path="/v1.0/contact/users/me",
        status=400,
    )
    assert err.code == "InvalidAuthentication"
    assert err.message == "不合法的access_token"
    assert err.requestid == "30EE8654-1AA2-7D88-8248-9518547248AA"
    assert err.effective_code == "InvalidAuthentication"


def test_ip_error_names_the_ip_dingtalk_saw() -> None:
    err = error_from_oapi({"errcode": 60020, "errmsg": IP_MSG}, path="/gettoken", status=200)
    assert isinstance(err, IpNotWhitelisted)
    assert err.ip == "120.230.136.230"
    assert err.explanation_en == (
        "DingTalk saw this call come from IP 120.230.136.230; add it to the app's "
        "服务器出口IP (开发配置 → 安全设置)."
    )
    assert "120.230.136.230" in err.explanation and "服务器出口IP" in err.explanation


def test_ip_error_without_ip_still_explains() -> None:
    err = error_from_api(
        {"code": "Forbidden.AccessDenied.IpNotInWhiteList", "message": "访问ip不在白名单之中"},
        path="/v1.0/oauth2/accessToken",
        status=403,
    )
    assert isinstance(err, IpNotWhitelisted)
    assert err.ip is None
    assert "egress IP" in err.explanation_en


def test_permission_error_names_the_console_permission_for_the_endpoint() -> None:
    err = error_from_oapi(
        {"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限"},
        path="/topapi/v2/user/get",
        status=200,
    )
    assert isinstance(err, PermissionDenied)
    assert err.permission == "成员信息读权限 (qyapi_get_member)"
    assert "成员信息读权限 (qyapi_get_member)" in err.explanation
    assert "权限管理" in err.explanation_en


def test_permission_error_prefers_required_scopes() -> None:
    err = error_from_api(
        {
            "code": "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            "message": "没有调用该接口的权限",
            "accessdenieddetail": {"requiredScopes": ["Contact.User.Read"]},
        },
        path="/v1.0/contact/users/me",
        status=403,
    )
    assert isinstance(err, PermissionDenied)
    assert err.permission == "通讯录个人信息读权限 (Contact.User.Read)"


@pytest.mark.parametrize(
    ("path", "permission"),
    [
        ("/topapi/v2/department/listsub", "通讯录部门信息读权限 (qyapi_get_department_list)"),
        ("/topapi/v2/user/list", "通讯录部门成员读权限 (qyapi_get_department_member)"),
        (
            "/topapi/v2/user/getbymobile",
            "根据手机号获取成员基本信息权限 (qyapi_get_member_by_mobile)",
        ),
        (
            "/v1.0/oauth2/userAccessToken",
            "获取钉钉开放接口用户访问凭证的基础权限 (open_app_api_base)",
        ),
    ],
)
def test_permission_names_per_endpoint(path: str, permission: str) -> None:
    err = error_from_oapi(
        {"errcode": 60011, "errmsg": "没有调用该接口的权限"}, path=path, status=200
    )
    assert isinstance(err, PermissionDenied)
    assert err.permission == permission


@pytest.mark.parametrize(
    ("err", "zh", "en"),
    [
        (
            InvalidCredentials(path="/gettoken"),
            "AppKey 或 AppSecret 不正确",
            "Wrong AppKey or AppSecret",
        ),
        (TokenInvalid(path="/x"), "访问令牌无效或已过期", "invalid or expired"),
        (AuthCodeInvalid(path="/x"), "授权码已过期或已被使用", "expired or was already used"),
        (RateLimited(path="/x", errcode=90018), "调用频率超限", "Rate limited"),
        (RateLimited(path="/x", errcode=90020), "本月接口调用次数已用完", "monthly API quota"),
        (UserNotFound(path="/x"), "找不到该用户", "User not found"),
        (ServerBusy(path="/x"), "系统繁忙", "busy"),
        (TransportError("x", kind="timeout"), "超时", "timed out"),
        (TransportError("x", kind="tls"), "TLS", "TLS"),
        (TransportError("x", kind="connect"), "无法连接钉钉", "Could not reach DingTalk"),
        (UnexpectedResponse(path="/x"), "不是钉钉的 JSON", "not DingTalk JSON"),
    ],
)
def test_explanations(err: DingTalkError, zh: str, en: str) -> None:
    assert zh in err.explanation
    assert en in err.explanation_en


@pytest.mark.parametrize(
    ("body", "status", "hint"),
    [
        ({"errcode": 22, "errmsg": "Invalid method"}, 200, "/oapi-dingtalk-com/"),
        ({"errcode": 404, "errmsg": "请求的URI地址不存在"}, 200, "swapped"),
        ({"code": "InvalidAction.NotFound", "message": "not found"}, 404, "/api-dingtalk-com/"),
        ({"errcode": 40056, "errmsg": "不合法的agentid"}, 200, "AgentId"),
        ({"errcode": 50002, "errmsg": "员工不在授权范围"}, 200, "visibility"),
    ],
)
def test_other_codes_get_a_hint(body: dict[str, Any], status: int, hint: str) -> None:
    make = error_from_api if "code" in body else error_from_oapi
    err = make(body, path="/topapi/x", status=status)
    assert type(err) is DingTalkError
    assert hint in err.explanation_en
    assert err.explanation != DingTalkError.hint_default.zh
