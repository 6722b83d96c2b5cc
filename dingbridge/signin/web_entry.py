"""``/{space}/``: the one entry URL of an app space, and the sign-in routes under it.

``GET /{space}/`` shows, in order of what the request carries:

1. ``?ticket=``: a one-time ticket from a sign-in done by ``fetch()`` (in-client) is exchanged
   here, on a top-level navigation, for the session cookie (or the binding cookie), then the
   browser goes on to a clean URL. WebViews that drop cookies set on fetch() responses still
   sign in.
2. ``?state=`` with ``authCode``/``code`` or ``error``: the browser coming back from DingTalk's
   OAuth page (the space URL is the 重定向URL).
3. a valid session: the space home.
4. otherwise the entry page, whose script signs in inside DingTalk (JSAPI requestAuthCode →
   ``POST /{space}/signin/code``) or offers "使用钉钉登录" (``/{space}/signin/dingtalk``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from dingbridge.signin import oauth_state
from dingbridge.signin.binding_flow import bind_by_policy
from dingbridge.signin.identity import (
    SignInRefused,
    from_browser_code,
    from_client_code,
    with_mobile,
)
from dingbridge.signin.member_session import (
    SESSION_COOKIE,
    create_session,
    current_member,
    delete_space_cookie,
    end_session,
    issue_session_ticket,
    set_session_cookie,
    set_space_cookie,
    signed_in,
    space_path,
)
from dingbridge.signin.pages import render
from dingbridge.signin.pending import (
    PENDING_COOKIE,
    PENDING_LIFETIME,
    DingTalkIdentity,
    PendingBinding,
    PendingBindings,
)
from dingbridge.signin.refusals import refusal_page, refusal_text
from dingbridge.signin.space_cache import SpaceView
from dingbridge.signin.space_home import render_home
from dingbridge.spaces.dingtalk_clients import DingTalkNotConfigured
from dingbridge.spaces.dingtalk_settings import DingTalkConfig
from dingbridge.web.context import AppContext, get_context

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


# -------------------------------------------------------------------- helpers
async def load_space(context: AppContext, space_id: int) -> SpaceView:
    """The enabled space, its DingTalk settings and apps (from the in-process cache, which a
    committed change drops at once: see ``space_cache``); :class:`NotFound` otherwise."""
    return await context.signin.spaces.space(space_id)


def safe_next(space_id: int, value: str | None) -> str:
    """A post-sign-in destination inside this space only; the space home otherwise."""
    home = space_path(space_id)
    lowered = (value or "").lower()
    if (
        value
        and value.startswith(home)
        and not any(bad in lowered for bad in ("//", "\\", "/.", "%2e", "%2f", "%5c"))
        and all(c.isprintable() and not c.isspace() for c in value)
    ):
        return value
    return home


def base_url(request: Request) -> str:
    external = get_context(request).settings.external_url
    return (external or str(request.base_url)).rstrip("/")


def redirect_uri(request: Request, space_id: int) -> str:
    """The OAuth redirect URL: the space URL itself (seed step ④ 重定向URL)."""
    return base_url(request) + space_path(space_id)


@dataclass(frozen=True)
class Resolved:
    """Who a DingTalk user is in the space: a bound member, or a binding still to make."""

    identity: DingTalkIdentity
    member_id: int | None = None
    pending_token: str | None = None


async def resolve(
    context: AppContext,
    space: SpaceView,
    identity: DingTalkIdentity,
    next_path: str,
    *,
    mobile_lookup: Any = None,
) -> Resolved:
    """Bound → the member to sign in; not yet → a pending binding's token.

    :class:`SignInRefused` for a disabled member. ``mobile_lookup`` (an async function giving
    the identity with its DingTalk mobile) is called only when the policy needs the mobile.
    A returning user's binding comes from the space cache: no database access.
    """
    space_id = space.id
    member_id: int | None = None
    member = await context.signin.spaces.bound_member(space_id, identity.corp_id, identity.userid)
    if member is not None:
        if not member.active:
            log.info("space %d: disabled member %d refused", space_id, member.id)
            raise SignInRefused("member_disabled")
        member_id = member.id
    elif space.binding_policy != "sms":
        if mobile_lookup is not None:
            identity = await mobile_lookup(identity)
        async with context.db.transaction() as session:
            bound = await bind_by_policy(session, space_id, identity, space.binding_policy)
            member_id = bound.member.id if bound.member is not None else None
        context.metrics.binding(space.binding_policy, bound.result)  # after the commit
    if member_id is not None:
        return Resolved(identity, member_id=member_id)
    token = await PendingBindings(context.kv).start(
        PendingBinding(space_id=space_id, identity=identity, next_path=next_path)
    )
    return Resolved(identity, pending_token=token)


def _result(resolved: Resolved) -> str:
    """The sign-in metric's result: signed in, or a binding to make first."""
    return "ok" if resolved.member_id is not None else "bind_needed"


def _oauth_flow(space: SpaceView) -> str:
    return "oauth_v1" if space.config.api_version == "v1" else "oauth_v2"


def client_for(context: AppContext, config: DingTalkConfig) -> Any:
    try:
        return context.signin.clients.for_space(config)
    except DingTalkNotConfigured:
        raise SignInRefused("not_configured") from None


# -------------------------------------------------------------------- routes
@router.get("/{space_id:int}")
async def space_no_slash(request: Request, space_id: int) -> Response:
    query = request.url.query
    return RedirectResponse(space_path(space_id) + (f"?{query}" if query else ""), 308)


@router.get("/{space_id:int}/")
async def space_entry(request: Request, space_id: int) -> Response:
    context = get_context(request)
    params = request.query_params
    is_callback = params.get("state") is not None and bool(
        params.get("authCode") or params.get("code") or params.get("error")
    )
    space = await load_space(context, space_id)
    if not params.get("ticket") and not is_callback:
        # A signed-in page view: the session (KV) and the space cache, no database access.
        current = await signed_in(context, space_id, request.cookies.get(SESSION_COOKIE, ""))
        if current is not None:
            return render_home(request, space, current)
    if params.get("ticket"):
        return await _redeem_ticket(request, space_id, params["ticket"], params.get("next"))
    if is_callback:
        return await _oauth_callback(request, space)
    response = render(
        request,
        "space/entry.html",
        {
            "space": space,
            "config": space.config,
            "jsapi_url": context.settings.jsapi_url,
            "next": safe_next(space_id, params.get("next")),
            "signed_out": params.get("signed_out") == "1",
        },
    )
    if request.cookies.get(SESSION_COOKIE):
        delete_space_cookie(response, space_id, SESSION_COOKIE)  # stale or revoked
    return response


@router.post("/{space_id:int}/signin/code")
async def signin_with_client_code(request: Request, space_id: int) -> Response:
    """In-client 免登: the page posts ``{"code", "next"}`` as JSON; answers ``{"next"}``."""
    context = get_context(request)
    if "application/json" not in request.headers.get("content-type", ""):
        return JSONResponse({"error": "bad_request"}, status_code=415)
    try:
        body = await request.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    if not isinstance(code, str) or not code or len(code) > 200:
        return JSONResponse({"error": "bad_request"}, status_code=400)
    next_path = safe_next(space_id, body.get("next") if isinstance(body, dict) else None)
    space = await load_space(context, space_id)
    try:
        client = client_for(context, space.config)
        identity = await from_client_code(client, space_id, code)

        async def lookup(found: DingTalkIdentity) -> DingTalkIdentity:
            return await with_mobile(client, space_id, found)

        resolved = await resolve(context, space, identity, next_path, mobile_lookup=lookup)
    except SignInRefused as refused:
        context.metrics.signin("in_client", refused.reason)
        return JSONResponse(
            {"error": refused.reason, "message": refusal_text(request, refused.reason)},
            status_code=refused.status,
        )
    except Exception:
        context.metrics.signin("in_client", "error")
        raise
    context.metrics.signin("in_client", _result(resolved))
    if resolved.member_id is not None:  # the session starts when the ticket comes back
        ticket = await issue_session_ticket(
            context, space_id, resolved.member_id, resolved.identity
        )
    else:
        assert resolved.pending_token is not None
        ticket = await PendingBindings(context.kv).issue_ticket(resolved.pending_token)
    target = f"{space_path(space_id)}?ticket={quote(ticket)}&next={quote(next_path)}"
    return JSONResponse({"next": target}, headers={"Cache-Control": "no-store"})


@router.get("/{space_id:int}/signin/dingtalk")
async def start_browser_signin(request: Request, space_id: int) -> Response:
    """ "使用钉钉登录": a state bound to this browser, then DingTalk's OAuth page."""
    context = get_context(request)
    space = await load_space(context, space_id)
    try:
        client = client_for(context, space.config)
    except SignInRefused as refused:
        return refusal_page(request, space_id, refused.reason)
    next_path = safe_next(space_id, request.query_params.get("next"))
    started = oauth_state.start(context.signin.signing_key, space_id, next_path)
    url = client.oauth.login_url(redirect_uri(request, space_id), state=started.state)
    response = RedirectResponse(url, status_code=303, headers={"Cache-Control": "no-store"})
    set_space_cookie(
        request,
        response,
        space_id,
        oauth_state.STATE_COOKIE,
        started.cookie,
        oauth_state.STATE_LIFETIME,
    )
    return response


@router.post("/{space_id:int}/logout")
async def logout(request: Request, space_id: int) -> Response:
    current = await current_member(request, space_id)
    form = await request.form()
    response = RedirectResponse(f"{space_path(space_id)}?signed_out=1", status_code=303)
    if current is not None:
        sent = str(form.get("token", ""))
        if sent != current.form_token(get_context(request).signin.signing_key):
            return refusal_page(request, space_id, "state_invalid")
        log.info("space %d: member %d signed out", space_id, current.member.id)
    await end_session(request, response, space_id)
    return response


# -------------------------------------------------------------------- pieces of GET /{space}/
async def _redeem_ticket(
    request: Request, space_id: int, ticket: str, next_value: str | None
) -> Response:
    context = get_context(request)
    next_path = safe_next(space_id, next_value)
    session_id = await context.member_sessions.redeem_ticket(ticket)
    if session_id is not None:
        session = await context.member_sessions.get(session_id, space_path(space_id))
        if session is None:
            await context.member_sessions.revoke(session_id)
            context.metrics.signin("ticket", "state_invalid")
            return refusal_page(request, space_id, "state_invalid")
        context.metrics.signin("ticket", "ok")
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(request, response, space_id, session_id)
        return response
    pending = await PendingBindings(context.kv).redeem_ticket(ticket, space_id)
    if pending is not None:
        context.metrics.signin("ticket", "bind_needed")
        response = RedirectResponse(f"{space_path(space_id)}bind", status_code=303)
        set_space_cookie(request, response, space_id, PENDING_COOKIE, pending, PENDING_LIFETIME)
        return response
    # Used or expired: start over (a plain visit shows the entry page or the home).
    context.metrics.signin("ticket", "expired")
    return RedirectResponse(next_path, status_code=303)


async def _oauth_callback(request: Request, space: SpaceView) -> Response:
    context = get_context(request)
    params = request.query_params
    space_id = space.id
    cookie = request.cookies.get(oauth_state.STATE_COOKIE, "")
    try:
        next_path = await oauth_state.finish(
            context.signin.signing_key, context.kv, cookie, params.get("state", ""), space_id
        )
    except oauth_state.StateInvalid as exc:
        log.warning("space %d: OAuth callback refused: %s", space_id, exc)
        context.metrics.signin(_oauth_flow(space), "state_invalid")
        response = refusal_page(request, space_id, "state_invalid")
        delete_space_cookie(response, space_id, oauth_state.STATE_COOKIE)
        return response
    if params.get("error"):
        context.metrics.signin(_oauth_flow(space), "cancelled")
        response = refusal_page(request, space_id, "cancelled")
        delete_space_cookie(response, space_id, oauth_state.STATE_COOKIE)
        return response
    code = params.get("authCode") or params.get("code") or ""
    try:
        client = client_for(context, space.config)
        identity = await from_browser_code(client, space_id, code)

        async def lookup(found: DingTalkIdentity) -> DingTalkIdentity:
            return await with_mobile(client, space_id, found)

        resolved = await resolve(context, space, identity, next_path, mobile_lookup=lookup)
    except SignInRefused as refused:
        context.metrics.signin(_oauth_flow(space), refused.reason)
        response = refusal_page(request, space_id, refused.reason)
        delete_space_cookie(response, space_id, oauth_state.STATE_COOKIE)
        return response
    except Exception:
        context.metrics.signin(_oauth_flow(space), "error")
        raise
    context.metrics.signin(_oauth_flow(space), _result(resolved))
    if resolved.member_id is not None:
        started = await create_session(context, space_id, resolved.member_id, resolved.identity)
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(request, response, space_id, started.id)
    else:
        assert resolved.pending_token is not None
        response = RedirectResponse(f"{space_path(space_id)}bind", status_code=303)
        set_space_cookie(
            request, response, space_id, PENDING_COOKIE, resolved.pending_token, PENDING_LIFETIME
        )
    delete_space_cookie(response, space_id, oauth_state.STATE_COOKIE)
    return response
