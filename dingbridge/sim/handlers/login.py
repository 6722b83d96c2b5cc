"""免登 code exchange and the V1 SNS code exchange."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from starlette.routing import Route

from dingbridge.sim.credentials import Grant, Kind, Lookup
from dingbridge.sim.endpoints import Call, oapi_endpoint
from dingbridge.sim.errors import OapiError
from dingbridge.sim.records import User
from dingbridge.sim.user_views import open_id


def _consume_authcode(call: Call, errmsg: str) -> User:
    """Single use, 5 minutes, bound to corp + user: anything else is 40078."""
    code = str(call.params.get("code") or "")
    credentials = call.state.credentials
    grant, found = credentials.lookup(Kind.AUTHCODE, code)
    if grant is None or found is not Lookup.VALID or grant.corp_id != call.corp.corp_id:
        raise OapiError(40078, errmsg)
    credentials.consume(Kind.AUTHCODE, code)
    user = call.corp.users.get(grant.userid)
    if user is None:
        raise OapiError(60121, "找不到该用户")
    return user


def _device_id(user: User) -> str:
    return hashlib.md5(f"device:{user.userid}".encode(), usedforsecurity=False).hexdigest()


@oapi_endpoint("v2.user.getuserinfo", "qyapi_base")
async def getuserinfo_v2(call: Call) -> dict[str, Any]:
    user = _consume_authcode(call, "nonexistent temp auth code")
    return {
        "result": {
            "userid": user.userid,
            "unionid": user.unionid,
            "associated_unionid": "",
            "device_id": _device_id(user),
            "sys": user.sys_level in (1, 2),
            "sys_level": user.sys_level,
            "name": user.name,
        }
    }


@oapi_endpoint("user.getuserinfo", "qyapi_base", topapi=False)
async def getuserinfo_v1(call: Call) -> dict[str, Any]:
    user = _consume_authcode(call, "不存在的临时授权码")
    return {
        "userid": user.userid,
        "name": user.name,
        "deviceId": _device_id(user),
        "is_sys": user.sys_level in (1, 2),
        "sys_level": user.sys_level,
    }


def sns_signature(app_secret: str, timestamp: str) -> str:
    """base64(HMAC-SHA256(AppSecret, timestamp)), before URL-encoding."""
    digest = hmac.new(app_secret.encode(), timestamp.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@oapi_endpoint("sns.getuserinfo_bycode", None, topapi=False, token=False)
async def sns_getuserinfo_bycode(call: Call) -> dict[str, Any]:
    query = call.request.query_params
    key, timestamp = query.get("accessKey", ""), query.get("timestamp", "")
    signature = query.get("signature", "").replace(" ", "+")
    if not key or not timestamp or not signature:
        raise OapiError(853001, "缺少签名参数accessKey、timestamp或signature")
    app = call.state.apps.get(key)
    if app is None:
        raise OapiError(88, "不合法的access_token")
    call.set_app(app)
    call.require_ip(app, "oapi")
    call.require_qps(app, "oapi")
    window = call.state.settings.sns_timestamp_window * 1000
    if not timestamp.isdigit() or abs(int(timestamp) - call.state.clock.now() * 1000) > window:
        raise OapiError(853002, "timestamp超出有效时间范围")
    if not secrets.compare_digest(signature, sns_signature(app.app_secret, timestamp)):
        raise OapiError(853003, "签名校验失败")
    grant = call.state.credentials.consume(Kind.SNS_CODE, str(call.params.get("tmp_auth_code", "")))
    user = _sns_user(call, grant, app.app_key)
    return {
        "user_info": {
            "nick": user.name,
            "unionid": user.unionid,
            "openid": open_id(user, app),
            "main_org_auth_high_level": True,
            "dingId": "$:LWCP_v1:$"
            + hashlib.md5(user.unionid.encode(), usedforsecurity=False).hexdigest()[:24],
        }
    }


def _sns_user(call: Call, grant: Grant | None, app_key: str) -> User:
    if grant is None or grant.app_key != app_key:
        raise OapiError(40078, "不存在的临时授权码")
    user = call.state.user(grant.corp_id, grant.userid)
    if user is None:
        raise OapiError(60121, "找不到该用户")
    return user


ROUTES = [
    Route("/topapi/v2/user/getuserinfo", getuserinfo_v2, methods=["POST"]),
    Route("/user/getuserinfo", getuserinfo_v1, methods=["GET"]),
    Route("/sns/getuserinfo_bycode", sns_getuserinfo_bycode, methods=["POST"]),
]
