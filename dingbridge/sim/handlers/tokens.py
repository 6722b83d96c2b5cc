"""App access tokens and JSAPI tickets, both generations."""

from __future__ import annotations

from typing import Any, Literal

from starlette.routing import Route

from dingbridge.sim.endpoints import Call, api_endpoint, oapi_endpoint
from dingbridge.sim.errors import ApiError, OapiError
from dingbridge.sim.records import App


def _app_by_secret(call: Call, key: Any, secret: Any) -> App | None:
    app = call.state.apps.get(str(key))
    if app is None:
        return None
    call.set_app(app)  # AppKeys are not secret: the request log shows them
    return app if app.app_secret == secret else None


def _admit_token_request(call: Call, app: App, family: Literal["oapi", "api"]) -> None:
    """After the key and secret are right: the IP whitelist (if so configured) and the QPS."""
    if call.state.settings.check_ip_on_gettoken:
        call.require_ip(app, family)
    call.require_qps(app, family)


@oapi_endpoint("gettoken", None, topapi=False, token=False)
async def gettoken(call: Call) -> dict[str, Any]:
    query = call.request.query_params  # a form body on GET is ignored, as upstream
    key, secret = query.get("appkey") or query.get("corpid"), query.get("appsecret")
    if not key or not (secret or query.get("corpsecret")):
        raise OapiError(40035, "缺少参数 corpid or appkey")
    if "appkey" not in query:
        raise OapiError(40089, "不合法的corpId或corpSecret")
    app = _app_by_secret(call, key, secret)
    if app is None:
        raise OapiError(40096, "不合法的appKey或appSecret")
    _admit_token_request(call, app, "oapi")
    grant = call.state.credentials.app_token(app.app_key, app.corp_id)
    return {"access_token": grant.value, "expires_in": call.state.settings.token_lifetime}


@api_endpoint("oauth2.accessToken", None, auth="none", body=True)
async def access_token(call: Call) -> dict[str, Any]:
    app = _app_by_secret(call, call.params.get("appKey"), call.params.get("appSecret"))
    if app is None:
        raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    _admit_token_request(call, app, "api")
    grant = call.state.credentials.app_token(app.app_key, app.corp_id)
    return {"accessToken": grant.value, "expireIn": call.state.settings.token_lifetime}


@api_endpoint("oauth2.corpToken", None, auth="none", body=True)
async def corp_token(call: Call) -> dict[str, Any]:
    """``POST /v1.0/oauth2/{corpId}/token``: an app token for one corp.

    Documented: 400 ``invalid.client``, 400 ``unsupported.grant.type``, 401
    ``unauthorized.client``; a corpId DingTalk does not know gave 500 ``unknownError`` [real].
    Our choice (not documented): a known corp that is not the app's → 401 ``unauthorized.client``.
    """
    if call.params.get("grant_type") != "client_credentials":
        raise ApiError(400, "unsupported.grant.type", "不支持的grant_type")
    app = _app_by_secret(call, call.params.get("client_id"), call.params.get("client_secret"))
    if app is None:
        raise ApiError(400, "invalid.client", "无效的client_id或client_secret")
    _admit_token_request(call, app, "api")
    corp_id = call.request.path_params["corp_id"]
    if corp_id not in call.state.corps:
        raise ApiError(500, "unknownError", "未知错误")
    if corp_id != app.corp_id:
        raise ApiError(401, "unauthorized.client", "应用未被授权访问该企业")
    grant = call.state.credentials.app_token(app.app_key, app.corp_id)
    return {"access_token": grant.value, "expires_in": call.state.settings.token_lifetime}


def _ticket(call: Call) -> tuple[str, int]:
    assert call.app is not None
    grant = call.state.credentials.jsapi_ticket(call.app.app_key, call.app.corp_id)
    return grant.value, round(grant.expires_at - call.state.clock.now())


@oapi_endpoint("get_jsapi_ticket", "qyapi_base", topapi=False)
async def get_jsapi_ticket(call: Call) -> dict[str, Any]:
    ticket, expires_in = _ticket(call)
    return {"ticket": ticket, "expires_in": expires_in}


@api_endpoint("oauth2.jsapiTickets", "qyapi_base")
async def jsapi_tickets(call: Call) -> dict[str, Any]:
    ticket, expires_in = _ticket(call)
    return {"jsapiTicket": ticket, "expireIn": expires_in}


ROUTES = [
    Route("/gettoken", gettoken, methods=["GET"]),
    Route("/get_jsapi_ticket", get_jsapi_ticket, methods=["GET"]),
    Route("/v1.0/oauth2/accessToken", access_token, methods=["POST"]),
    Route("/v1.0/oauth2/jsapiTickets", jsapi_tickets, methods=["POST"]),
    Route("/v1.0/oauth2/{corp_id}/token", corp_token, methods=["POST"]),
]
