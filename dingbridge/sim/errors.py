"""DingTalk's error envelopes and the responses that carry them.

- ``OapiError``: a flat oapi error, HTTP 200 ``{"errcode", "errmsg"}``.
- ``GatewayError``: an authentication/authorisation failure. On ``/topapi/*`` it is wrapped as
  errcode 88 with a *string* ``sub_code``; on flat oapi endpoints it shows as a flat errcode.
- ``ApiError``: api.dingtalk.com, HTTP 4xx/5xx ``{"code", "message", "requestid"}``.
"""

from __future__ import annotations

import json
import secrets
import string
import uuid
from typing import Any

from starlette.responses import Response

OAPI_CONTENT_TYPE = "application/json;charset=UTF-8"
API_CONTENT_TYPE = "application/json;charset=utf-8"

IP_NOT_WHITELISTED = (
    "访问ip不在白名单之中，请参考FAQ：https://open.dingtalk.com/document/org-faq/app-faq,"
    "request ip={ip} appKey({app_key})"
)
NO_PERMISSION = "没有调用该接口的权限"
NO_PERMISSION_FLAT = "没有调用该接口的权限，接口权限申请参考：https://developers.dingtalk.com/document/app/add-api-permission"
NO_PERMISSION_API = "没有调用该接口的权限，接口权限申请参考：https://open.dingtalk.com/document/orgapp-server/add-api-permission"
QPS_LIMITED = "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了"


class SimError(Exception):
    """Base of the simulator's DingTalk-shaped errors."""


class OapiError(SimError):
    def __init__(self, errcode: int, errmsg: str, **extra: Any) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg, self.extra = errcode, errmsg, extra


class GatewayError(SimError):
    def __init__(self, sub_code: str, sub_msg: str, flat_msg: str | None = None) -> None:
        super().__init__(f"88/{sub_code} {sub_msg}")
        self.sub_code, self.sub_msg = sub_code, sub_msg
        self.flat_msg = flat_msg or sub_msg


class ApiError(SimError):
    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.extra = status, code, message, extra


def oapi_request_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(13))


def api_request_id() -> str:
    return str(uuid.uuid4()).upper()


def oapi_response(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        media_type=None,
        headers={"content-type": OAPI_CONTENT_TYPE, "server": "DingTalk/1.0.0"},
    )


def api_response(body: dict[str, Any], status: int = 200) -> Response:
    request_id = body.get("requestid") or api_request_id()
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        media_type=None,
        headers={
            "content-type": API_CONTENT_TYPE,
            "x-acs-request-id": request_id,
            "x-acs-trace-id": secrets.token_hex(16),
        },
    )


def oapi_error_body(error: OapiError | GatewayError, topapi: bool) -> tuple[dict[str, Any], str]:
    """The body of an oapi error and the request-log outcome for it."""
    body: dict[str, Any]
    if isinstance(error, GatewayError) and topapi:
        body = {
            "errcode": 88,
            "sub_code": error.sub_code,
            "sub_msg": error.sub_msg,
            "errmsg": f"ding talk error[subcode={error.sub_code},submsg={error.sub_msg}]",
        }
        outcome = f"88/{error.sub_code}"
    elif isinstance(error, GatewayError):
        body = {"errcode": int(error.sub_code), "errmsg": error.flat_msg}
        outcome = error.sub_code
    else:
        body = {"errcode": error.errcode, "errmsg": error.errmsg, **error.extra}
        outcome = str(error.errcode)
    if topapi:
        body["request_id"] = oapi_request_id()
    return body, outcome


def api_error_body(error: ApiError) -> dict[str, Any]:
    return {
        "requestid": api_request_id(),
        "code": error.code,
        "message": error.message,
        **error.extra,
    }
