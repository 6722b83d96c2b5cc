"""The in-client side: our JSAPI script, ``/_sim/open`` (be "the DingTalk client" as a user),
and the two calls the script makes back (auth codes, ``dd.config`` verification).

``/_sim/open?...&client=legacy`` plays an old DingTalk client, whose JSAPI has only the legacy
``dd.runtime.permission.requestAuthCode``; the default client has the current
``dd.requestAuthCode({corpId, clientId})`` too. ``GET /_sim/jsapi/calls`` lists which API each
auth-code request used (``DELETE`` clears it).

The identity lives in a cookie on the simulator's host. Pages on another port of the same
host are same-site, so the SameSite=Lax cookie rides along on the script's credentialed
cross-origin requests (CORS answers echo the page's Origin and allow credentials).
"""

from __future__ import annotations

import base64
import hashlib
import json
from importlib import resources
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from dingbridge.sim.credentials import Kind
from dingbridge.sim.html_pages import error_page
from dingbridge.sim.state import SimState

COOKIE = "dingbridge_sim_client"
PLATFORMS = ("android", "ios", "pc")
CLIENT_VERSIONS = ("current", "legacy")
JSAPI_NAMES = ("requestAuthCode", "runtime.permission.requestAuthCode")
SCRIPT_PATH = "/_sim/jsapi/dingtalk.open.js"


def _client(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(COOKIE, "")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("platform") not in PLATFORMS:
        return None
    client = "legacy" if data.get("client") == "legacy" else "current"
    return {
        "userid": str(data.get("userid", "")),
        "platform": str(data["platform"]),
        "client": client,
    }


def _cors(request: Request, body: dict[str, Any]) -> JSONResponse:
    headers = {"cache-control": "no-store", "vary": "Origin"}
    origin = request.headers.get("origin")
    if origin:
        headers["access-control-allow-origin"] = origin
        headers["access-control-allow-credentials"] = "true"
    return JSONResponse(body, headers=headers)


async def script(request: Request) -> Response:
    source = resources.files("dingbridge.sim.jsapi").joinpath("dingtalk.open.js").read_text("utf-8")
    client = _client(request)
    baked = (
        json.dumps({"platform": client["platform"], "client": client["client"]})
        if client
        else "null"
    )
    return Response(
        source.replace("/*CLIENT*/null", baked),
        media_type="application/javascript; charset=utf-8",
        headers={"cache-control": "no-store"},
    )


async def open_in_client(request: Request) -> Response:
    state: SimState = request.app.state.sim
    userid = request.query_params.get("userid", "")
    url = request.query_params.get("url", "")
    platform = request.query_params.get("platform", "android")
    if platform not in PLATFORMS:
        return error_page("打开应用", f"platform 只能是 {'、'.join(PLATFORMS)}。")
    version = request.query_params.get("client", "current")
    if version not in CLIENT_VERSIONS:
        return error_page("打开应用", f"client 只能是 {'、'.join(CLIENT_VERSIONS)}。")
    if not url.startswith(("http://", "https://")):
        return error_page("打开应用", "url 参数必须是 http:// 或 https:// 开头的完整地址。")
    corp = next((c for c in state.corps.values() if userid in c.users), None)
    if corp is None:
        return error_page("打开应用", f"找不到用户 {userid}。", 404)
    user = corp.users[userid]
    if not user.active:
        return error_page("打开应用", f"{user.name} 尚未激活钉钉。", 403)
    value = base64.urlsafe_b64encode(
        json.dumps({"userid": userid, "platform": platform, "client": version}).encode()
    )
    # Like the workbench, fill the home page URL's $CORPID$ placeholder with the user's corp.
    url = url.replace("$CORPID$", corp.corp_id).replace("%24CORPID%24", corp.corp_id)
    response = RedirectResponse(url, status_code=302, headers={"cache-control": "no-store"})
    response.set_cookie(COOKIE, value.decode(), path="/", httponly=True, samesite="lax")
    return response


async def close_client(request: Request) -> Response:
    url = request.query_params.get("url", "")
    response: Response = (
        RedirectResponse(url, status_code=302)
        if url.startswith(("http://", "https://"))
        else JSONResponse({"ok": True})
    )
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def authcode(request: Request) -> Response:
    state: SimState = request.app.state.sim
    client = _client(request)
    if client is None:
        return _cors(request, {"errorCode": -1, "errorMessage": "当前不在钉钉客户端内"})
    corp_id = request.query_params.get("corpId", "")
    api = request.query_params.get("api", "")
    state.jsapi_calls.append(
        {
            "api": api if api in JSAPI_NAMES else "unknown",
            "corp_id": corp_id,
            "client_id": request.query_params.get("clientId", ""),
            "userid": client["userid"],
            "platform": client["platform"],
        }
    )
    corp = state.corps.get(corp_id)
    if corp is None or client["userid"] not in corp.users:
        message = f"对应企业没有该微应用或当前用户不在企业 {corp_id} 中"
        return _cors(request, {"errorCode": 3, "errorMessage": message})
    code = state.credentials.issue(Kind.AUTHCODE, corp_id, client["userid"]).value
    return _cors(request, {"code": code})


async def jsapi_calls(request: Request) -> Response:
    state: SimState = request.app.state.sim
    if request.method == "DELETE":
        state.jsapi_calls.clear()
    return JSONResponse({"calls": state.jsapi_calls}, headers={"cache-control": "no-store"})


def _config_problem(state: SimState, params: dict[str, str]) -> tuple[int, str] | None:
    corp = state.corps.get(params.get("corpId", ""))
    if corp is None:
        return 52010, "无效的corpid"
    agent = params.get("agentId", "")
    app = next((a for a in corp.apps.values() if str(a.agent_id) == agent), None)
    if app is None:
        return 52019, "无效的agentid"
    ticket = state.credentials.current_ticket(app.app_key)
    if ticket is None:
        return 52011, "jsapi ticket 读取失败"
    for name in ("nonceStr", "timeStamp", "signature"):
        if not params.get(name):
            return {"nonceStr": 52015, "timeStamp": 52018, "signature": 52016}[
                name
            ], f"无效的{name}"
    url = params.get("url", "")
    for candidate in dict.fromkeys([url, unquote(url)]):
        plain = (
            f"jsapi_ticket={ticket.value}&noncestr={params['nonceStr']}"
            f"&timestamp={params['timeStamp']}&url={candidate}"
        ).encode()
        if params["signature"].lower() in (
            hashlib.sha1(plain, usedforsecurity=False).hexdigest(),
            hashlib.sha256(plain).hexdigest(),
        ):
            return None
    return 52013, "签名校验失败"


async def verify_config(request: Request) -> Response:
    state: SimState = request.app.state.sim
    problem = _config_problem(state, dict(request.query_params))
    if problem is None:
        return _cors(request, {"ok": True})
    return _cors(request, {"ok": False, "errorCode": problem[0], "errorMessage": problem[1]})


ROUTES = [
    Route(SCRIPT_PATH, script, methods=["GET"]),
    Route("/_sim/open", open_in_client, methods=["GET"]),
    Route("/_sim/close", close_client, methods=["GET"]),
    Route("/_sim/jsapi/authcode", authcode, methods=["GET"]),
    Route("/_sim/jsapi/calls", jsapi_calls, methods=["GET", "DELETE"]),
    Route("/_sim/jsapi/config", verify_config, methods=["GET"]),
]
