"""The gate every simulated API call passes: token, IP whitelist, QPS, permission, envelope.

Handlers are small functions ``async def handler(call: Call) -> dict``; the decorators
``oapi_endpoint`` and ``api_endpoint`` turn them into Starlette endpoints that answer in the
right family's shape and record the call in the request log.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.sim.credentials import Grant, Kind, Lookup
from dingbridge.sim.errors import (
    IP_NOT_WHITELISTED,
    NO_PERMISSION,
    NO_PERMISSION_API,
    NO_PERMISSION_FLAT,
    QPS_LIMITED,
    ApiError,
    GatewayError,
    OapiError,
    api_error_body,
    api_response,
    oapi_error_body,
    oapi_request_id,
    oapi_response,
)
from dingbridge.sim.records import App, Corp
from dingbridge.sim.state import SimState

Handler = Callable[["Call"], Awaitable[dict[str, Any]]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class Call:
    request: Request
    state: SimState
    api: str
    peer: str
    params: dict[str, Any] = field(default_factory=dict)
    app: App | None = None
    grant: Grant | None = None

    @property
    def corp(self) -> Corp:
        assert self.app is not None, "endpoint without an app"
        return self.state.corps[self.app.corp_id]

    def set_app(self, app: App) -> None:
        self.app = app
        self.request.scope["sim.app_key"] = app.app_key

    def require_ip(self, app: App, family: Literal["oapi", "api"]) -> None:
        if app.allows_ip(self.peer):
            return
        message = IP_NOT_WHITELISTED.format(ip=self.peer, app_key=app.app_key)
        if family == "oapi":
            raise OapiError(60020, message)
        raise ApiError(403, "Forbidden.AccessDenied.IpNotInWhiteList", message)

    def require_qps(self, app: App, family: Literal["oapi", "api"]) -> None:
        if not self.state.over_qps(app.app_key, self.api):
            return
        if family == "oapi":
            raise OapiError(90018, QPS_LIMITED)
        raise ApiError(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", QPS_LIMITED)

    def int_param(self, name: str, default: int | None = None) -> int:
        """An integer from the query or body (form values arrive as strings)."""
        value = self.params.get(name, default)
        try:
            if value is None or isinstance(value, bool):
                raise ValueError(name)
            return int(value)
        except (TypeError, ValueError) as exc:
            raise OapiError(400002, "无效的参数") from exc

    def str_param(self, name: str) -> str:
        value = self.params.get(name)
        if not isinstance(value, str) or not value:
            raise OapiError(400002, "无效的参数")
        return value

    def has(self, permission: str) -> bool:
        return self.app is not None and permission in self.app.permissions


def peer_of(request: Request) -> str:
    client = request.scope.get("client")
    return str(client[0]) if client else "127.0.0.1"


async def _oapi_params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method != "POST":
        return params
    raw = await request.body()
    if not raw.strip():
        return params
    content_type = request.headers.get("content-type", "")
    try:
        if "json" in content_type or raw.lstrip()[:1] in (b"{", b"["):
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("body is not an object")
        else:
            body = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise OapiError(40035, "不合法的参数") from exc
    return {**params, **body}


def oapi_endpoint(
    api: str, permission: str | None, *, topapi: bool = True, token: bool = True
) -> Callable[[Handler], Endpoint]:
    """An oapi endpoint. ``topapi`` selects the errcode-88 wrapper and ``request_id``;
    ``token=False`` leaves credential checks to the handler (gettoken, sns)."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state: SimState = request.app.state.sim
            call = Call(request, state, api, peer_of(request))
            try:
                call.params = await _oapi_params(request)
                if token:
                    _oapi_token(call, topapi)
                    assert call.app is not None
                    call.require_ip(call.app, "oapi")
                    call.require_qps(call.app, "oapi")
                    if permission and not call.has(permission):
                        raise GatewayError("60011", NO_PERMISSION, NO_PERMISSION_FLAT)
                result = await handler(call)
            except (OapiError, GatewayError) as error:
                body, outcome = oapi_error_body(error, topapi)
                request.scope["sim.outcome"] = outcome
                return oapi_response(body)
            body = {"errcode": 0, "errmsg": "ok", **result}
            if topapi:
                body["request_id"] = body.get("request_id") or oapi_request_id()
            request.scope["sim.outcome"] = "ok"
            return oapi_response(body)

        return endpoint

    return decorate


def _oapi_token(call: Call, topapi: bool) -> None:
    value = call.params.get("access_token")
    if not value:
        if topapi:
            raise GatewayError("40000", "access_token is blank")
        raise OapiError(41001, "缺少access_token参数")
    grant, found = call.state.credentials.lookup(Kind.APP_TOKEN, str(value))
    app = call.state.apps.get(grant.app_key) if grant else None
    if found is not Lookup.VALID or app is None:
        raise GatewayError("40014", "不合法的access_token")
    call.grant = grant
    call.set_app(app)


AuthKind = Literal["app", "user", "app_or_user", "none"]


def api_endpoint(
    api: str, permission: str | None, *, auth: AuthKind = "app", body: bool = False
) -> Callable[[Handler], Endpoint]:
    """An api.dingtalk.com endpoint (JSON only, token in ``x-acs-dingtalk-access-token``)."""

    def decorate(handler: Handler) -> Endpoint:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            state: SimState = request.app.state.sim
            call = Call(request, state, api, peer_of(request))
            try:
                call.params = await _api_body(request, body)
                if auth != "none":
                    _api_token(call, auth)
                    assert call.app is not None
                    call.require_ip(call.app, "api")
                    call.require_qps(call.app, "api")
                    if permission and not call.has(permission):
                        raise ApiError(
                            403,
                            "Forbidden.AccessDenied.AccessTokenPermissionDenied",
                            NO_PERMISSION_API,
                            accessdenieddetail={"requiredScopes": [permission]},
                        )
                result = await handler(call)
            except ApiError as error:
                request.scope["sim.outcome"] = error.code
                return api_response(api_error_body(error), error.status)
            request.scope["sim.outcome"] = "ok"
            return api_response(result)

        return endpoint

    return decorate


async def _api_body(request: Request, required: bool) -> dict[str, Any]:
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    missing = ApiError(400, "Missingbody", "body is mandatory for this action.")
    if not raw.strip():
        if required:
            raise missing
        return {}
    if "json" not in content_type:
        raise missing
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, "InvalidParameter", "请求体不是合法的JSON") from exc
    if not isinstance(parsed, dict):
        raise ApiError(400, "InvalidParameter", "请求体不是合法的JSON")
    return parsed


def _api_token(call: Call, auth: AuthKind) -> None:
    value = call.request.headers.get("x-acs-dingtalk-access-token", "")
    if not value:
        raise ApiError(
            400, "AuthenticationFailed.MissingParameter", "缺少参数：x-acs-dingtalk-access-token"
        )
    kinds = {"app": [Kind.APP_TOKEN], "user": [Kind.USER_TOKEN]}.get(
        auth, [Kind.APP_TOKEN, Kind.USER_TOKEN]
    )
    for kind in kinds:
        grant, found = call.state.credentials.lookup(kind, value)
        if found is Lookup.EXPIRED and kind is Kind.USER_TOKEN:
            raise ApiError(400, "accesstoken.expired", "用户accessToken过期")
        app = call.state.apps.get(grant.app_key) if grant else None
        if found is Lookup.VALID and grant is not None and app is not None:
            call.grant = grant
            call.set_app(app)
            return
    raise ApiError(400, "InvalidAuthentication", "不合法的access_token")
