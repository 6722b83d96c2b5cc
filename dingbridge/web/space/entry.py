"""``/{space}/``: the one entry URL of an app space, and sign-out.

``GET /{space}/`` shows, in order of what the request carries:

1. ``?ticket=``: a one-time ticket from a sign-in done by ``fetch()`` (in-client) is exchanged
   here, on a top-level navigation, for the session cookie (or the binding cookie), then the
   browser goes on to a clean URL. WebViews that drop cookies set on fetch() responses still
   sign in.
2. ``?state=`` with ``authCode``/``code`` or ``error``: the browser coming back from DingTalk's
   OAuth page (the space URL is the 重定向URL): :func:`dingbridge.web.space.oauth.callback`.
3. a valid session: the space home.
4. otherwise the entry page, whose script signs in inside DingTalk (JSAPI requestAuthCode →
   ``POST /{space}/signin/code``, :mod:`~dingbridge.web.space.in_client`) or offers
   "使用钉钉登录" (``/{space}/signin/dingtalk``, :mod:`~dingbridge.web.space.oauth`).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.context import get_context
from dingbridge.signin.member_sessions import signed_in, space_path
from dingbridge.signin.pending import PENDING_COOKIE, PENDING_LIFETIME, PendingBindings
from dingbridge.web.space import oauth
from dingbridge.web.space.cookies import (
    SESSION_COOKIE,
    current_member,
    delete_space_cookie,
    end_session,
    set_session_cookie,
    set_space_cookie,
)
from dingbridge.web.space.home import render_home
from dingbridge.web.space.pages import render
from dingbridge.web.space.refusals import refusal_page
from dingbridge.web.urls import space_next

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


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
    space = await context.signin.spaces.space(space_id)
    # login=1: an app's sign-in (the OpenID provider) sent the browser: sign in now, even over
    # a live session, and in a browser go straight on to DingTalk's OAuth page.
    for_app = params.get("login") == "1"
    if not params.get("ticket") and not is_callback and not for_app:
        # A signed-in page view: the session (KV) and the space cache, no database access.
        current = await signed_in(context, space_id, request.cookies.get(SESSION_COOKIE, ""))
        if current is not None:
            return render_home(request, space, current)
    if params.get("ticket"):
        return await _redeem_ticket(request, space_id, params["ticket"], params.get("next"))
    if is_callback:
        return await oauth.callback(request, space)
    response = render(
        request,
        "space/entry.html",
        {
            "space": space,
            "config": space.config,
            "jsapi_url": context.settings.jsapi_url,
            "next": space_next(space_id, params.get("next")),
            "signed_out": params.get("signed_out") == "1",
            "for_app": for_app,
        },
    )
    if request.cookies.get(SESSION_COOKIE):
        delete_space_cookie(response, space_id, SESSION_COOKIE)  # stale or revoked
    return response


@router.post("/{space_id:int}/logout")
async def logout(request: Request, space_id: int) -> Response:
    current = await current_member(request, space_id)
    form = await request.form()
    response = RedirectResponse(f"{space_path(space_id)}?signed_out=1", status_code=303)
    if current is not None:
        sent = str(form.get("token", ""))
        if sent != current.form_token(get_context(request).signin.keys.logout_form):
            return refusal_page(request, space_id, "state_invalid")
        log.info("space %d: member %d signed out", space_id, current.member.id)
    await end_session(request, response, space_id)
    return response


async def _redeem_ticket(
    request: Request, space_id: int, ticket: str, next_value: str | None
) -> Response:
    context = get_context(request)
    next_path = space_next(space_id, next_value)
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
