"""The browser login pages: ``/oauth2/auth`` (login.dingtalk.com) and V1 ``/connect/qrconnect``.

The person picks a user of the app's corp (one button per user) or refuses; the page then
redirects to ``redirect_uri``. ``?userid=U`` picks U at once (handy for tests and scripts).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dingbridge.sim.credentials import Kind
from dingbridge.sim.html_pages import error_page, page
from dingbridge.sim.records import App, User
from dingbridge.sim.state import SimState


@dataclass(frozen=True)
class Flow:
    path: str
    client_param: str
    code_kind: Kind
    scopes: tuple[str, ...]
    keys: tuple[str, ...]  # parameters carried from the query into the pick forms
    both_code_names: bool


OAUTH2 = Flow(
    "/oauth2/auth",
    "client_id",
    Kind.OAUTH_CODE,
    ("openid", "openid corpid"),
    (
        "client_id",
        "redirect_uri",
        "response_type",
        "scope",
        "prompt",
        "state",
        "org_type",
        "corpId",
    ),
    True,
)
QRCONNECT = Flow(
    "/connect/qrconnect",
    "appid",
    Kind.SNS_CODE,
    ("snsapi_login", "snsapi_auth"),
    ("appid", "redirect_uri", "response_type", "scope", "state"),
    False,
)


class PageProblem(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _validate(flow: Flow, state: SimState, params: dict[str, str], request: Request) -> App:
    app = state.apps.get(params.get(flow.client_param, ""))
    if app is None:
        raise PageProblem(
            f"无效的{flow.client_param}：找不到这个应用，请检查 AppKey（Client ID）。"
        )
    request.scope["sim.app_key"] = app.app_key
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not app.allows_redirect(redirect_uri):
        raise PageProblem("redirect_uri 与应用「安全设置 → 重定向URL（回调域名）」中的配置不一致。")
    if params.get("response_type") != "code":
        raise PageProblem("response_type 参数不合法，只支持 code。")
    if params.get("scope") not in flow.scopes:
        raise PageProblem(f"scope 参数不合法，应为 {' 或 '.join(flow.scopes)}。")
    if flow is OAUTH2 and params.get("prompt") != "consent":
        raise PageProblem("prompt 参数不合法，应为 consent。")
    return app


def _redirect_to(redirect_uri: str, values: dict[str, str], status: int) -> RedirectResponse:
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(values)) if q)
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return RedirectResponse(target, status_code=status, headers={"cache-control": "no-store"})


def _find_user(state: SimState, userid: str) -> tuple[str, User] | None:
    for corp in state.corps.values():
        if userid in corp.users:
            return corp.corp_id, corp.users[userid]
    return None


def _complete(
    flow: Flow, state: SimState, app: App, params: dict[str, str], status: int
) -> Response:
    found = _find_user(state, params["userid"])
    corp = state.corps[app.corp_id]
    if found is None:
        raise PageProblem(f"找不到用户 {params['userid']}。", 404)
    corp_id, user = found
    if corp_id != app.corp_id:
        raise PageProblem(
            f"{user.name} 不是「{corp.name}」的成员，无法登录该企业内部应用（不支持跨企业登录）。",
            403,
        )
    if not user.active:
        raise PageProblem(f"{user.name} 尚未激活钉钉，无法登录。", 403)
    code = state.credentials.issue(flow.code_kind, corp_id, user.userid, app.app_key).value
    values = {"code": code}
    if flow.both_code_names:
        values["authCode"] = code
    values["state"] = params.get("state", "")
    return _redirect_to(params["redirect_uri"], values, status)


def _pick_form(
    flow: Flow, params: dict[str, str], label: str, extra: dict[str, str], css: str
) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(params[k])}">'
        for k in flow.keys
        if k in params
    )
    hidden += "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in extra.items()
    )
    return (
        f'<form method="post" action="{flow.path}">{hidden}'
        f'<button type="submit" class="{css}">{escape(label)}</button></form>'
    )


def _pick_page(flow: Flow, state: SimState, app: App, params: dict[str, str]) -> Response:
    corp = state.corps[app.corp_id]
    members = [u for u in corp.users.values() if u.active]
    buttons = "".join(
        _pick_form(flow, params, u.name, {"userid": u.userid, "decision": "allow"}, "primary")
        for u in members
    )
    others = "".join(
        _pick_form(
            flow, params, f"{u.name}（{c.name}）", {"userid": u.userid, "decision": "allow"}, ""
        )
        for c in state.corps.values()
        if c.corp_id != corp.corp_id
        for u in c.users.values()
    )
    deny = _pick_form(flow, params, "拒绝", {"decision": "deny"}, "deny")
    body = (
        f"<h1>登录「{escape(app.name or app.app_key)}」</h1>"
        f"<p>该应用属于 <strong>{escape(corp.name)}</strong>，"
        "将获取你的个人信息（昵称、头像、unionId）。</p>"
        '<p class="muted">选择用哪个钉钉账号登录（代替扫码）：</p>'
        f'<div class="users">{buttons}</div>'
        f'<h2>其他企业的账号</h2><div class="users">{others or "无"}</div>'
        f'<h2>不同意授权</h2><div class="users">{deny}</div>'
    )
    return page("钉钉登录授权", body)


async def _handle(flow: Flow, request: Request) -> Response:
    state: SimState = request.app.state.sim
    params: dict[str, str] = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        app = _validate(flow, state, params, request)
        if params.get("decision") == "deny":
            values = {"error": "access_denied", "state": params.get("state", "")}
            return _redirect_to(params["redirect_uri"], values, 303)
        if params.get("userid"):
            return _complete(flow, state, app, params, 303 if request.method == "POST" else 302)
        return _pick_page(flow, state, app, params)
    except PageProblem as problem:
        return error_page("钉钉登录", problem.message, problem.status)


async def oauth2_auth(request: Request) -> Response:
    return await _handle(OAUTH2, request)


async def qrconnect(request: Request) -> Response:
    return await _handle(QRCONNECT, request)


ROUTES = [
    Route("/oauth2/auth", oauth2_auth, methods=["GET", "POST"]),
    Route("/connect/qrconnect", qrconnect, methods=["GET", "POST"]),
    Route("/connect/oauth2/sns_authorize", qrconnect, methods=["GET"]),
]
