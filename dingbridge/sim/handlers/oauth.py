"""Browser OAuth on the api host: user tokens and contact users."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from dingbridge.sim.credentials import Grant, Kind, Lookup
from dingbridge.sim.endpoints import Call, api_endpoint
from dingbridge.sim.errors import NO_PERMISSION_API, ApiError
from dingbridge.sim.records import App, User
from dingbridge.sim.user_views import contact_me

NOT_FOUND = ApiError(404, "invalidParameter.user.notFound", "找不到该用户")


def _client(call: Call) -> App:
    params = call.params
    app = call.state.apps.get(str(params.get("clientId", "")))
    if app is not None:
        call.set_app(app)
    if app is None or app.app_secret != params.get("clientSecret"):
        raise ApiError(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    call.require_ip(app, "api")
    call.require_qps(app, "api")
    if "open_app_api_base" not in app.permissions:
        raise ApiError(
            403,
            "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            NO_PERMISSION_API,
            accessdenieddetail={"requiredScopes": ["open_app_api_base"]},
        )
    return app


def _code_grant(call: Call, app: App) -> Grant:
    code = str(call.params.get("code") or "")
    grant, found = call.state.credentials.lookup(Kind.OAUTH_CODE, code)
    if grant is None or found is not Lookup.VALID or grant.app_key != app.app_key:
        raise ApiError(400, "invalidCode", "无效的授权码")
    call.state.credentials.consume(Kind.OAUTH_CODE, code)
    return grant


def _refresh_grant(call: Call, app: App) -> Grant:
    value = str(call.params.get("refreshToken") or "")
    grant, found = call.state.credentials.lookup(Kind.REFRESH_TOKEN, value)
    if grant is None or found is not Lookup.VALID or grant.app_key != app.app_key:
        raise ApiError(400, "invalidRefreshToken", "无效的refreshToken")
    return grant


@api_endpoint("oauth2.userAccessToken", None, auth="none", body=True)
async def user_access_token(call: Call) -> dict[str, Any]:
    app = _client(call)
    grant_type = call.params.get("grantType")
    if grant_type == "authorization_code":
        grant = _code_grant(call, app)
    elif grant_type == "refresh_token":
        grant = _refresh_grant(call, app)
    else:
        raise ApiError(400, "invalidParameter.grantType", "grantType参数不合法")
    credentials = call.state.credentials
    token = credentials.issue(Kind.USER_TOKEN, grant.corp_id, grant.userid, app.app_key)
    refresh = credentials.issue(Kind.REFRESH_TOKEN, grant.corp_id, grant.userid, app.app_key)
    return {
        "accessToken": token.value,
        "refreshToken": refresh.value,
        "expireIn": call.state.settings.user_token_lifetime,
        "corpId": grant.corp_id,
    }


def _user_for(call: Call, union_id: str) -> User:
    assert call.grant is not None
    if union_id == "me":
        if call.grant.kind is not Kind.USER_TOKEN:
            raise ApiError(400, "InvalidAuthentication", "不合法的access_token")
        user = call.state.user(call.grant.corp_id, call.grant.userid)
    else:
        corp = call.state.corps.get(call.grant.corp_id)
        user = corp.user_by_unionid(union_id) if corp else None
    if user is None:
        raise NOT_FOUND
    return user


@api_endpoint("contact.users.get", "Contact.User.Read", auth="app_or_user")
async def contact_user(call: Call) -> dict[str, Any]:
    assert call.app is not None
    user = _user_for(call, call.request.path_params["union_id"])
    return contact_me(user, call.app)


ROUTES = [
    Route("/v1.0/oauth2/userAccessToken", user_access_token, methods=["POST"]),
    Route("/v1.0/contact/users/{union_id}", contact_user, methods=["GET"]),
]
