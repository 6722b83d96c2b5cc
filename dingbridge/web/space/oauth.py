"""Browser sign-in through DingTalk's OAuth page.

``GET /{space}/signin/dingtalk`` ("使用钉钉登录") makes a ``state`` bound to this browser and
goes to DingTalk's login page; DingTalk sends the browser back to the space URL (the
重定向URL), where :mod:`dingbridge.web.space.entry` hands the request to :func:`callback`.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.context import get_context
from dingbridge.signin import oauth_state
from dingbridge.signin.identity import SignInRefused, from_browser_code, with_mobile
from dingbridge.signin.member_sessions import create_session, space_path
from dingbridge.signin.pending import PENDING_COOKIE, PENDING_LIFETIME, DingTalkIdentity
from dingbridge.signin.resolve import client_for, resolve
from dingbridge.signin.space_cache import SpaceView
from dingbridge.web.space.cookies import delete_space_cookie, set_session_cookie, set_space_cookie
from dingbridge.web.space.refusals import refusal_page
from dingbridge.web.urls import space_address, space_next

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def redirect_uri(request: Request, space_id: int) -> str:
    """The OAuth redirect URL: the space URL itself (the vendor guide's 重定向URL)."""
    return space_address(request, space_id)


def _flow(space: SpaceView) -> str:
    return "oauth_v1" if space.config.api_version == "v1" else "oauth_v2"


@router.get("/{space_id:int}/signin/dingtalk")
async def start_browser_signin(request: Request, space_id: int) -> Response:
    """ "使用钉钉登录": a state bound to this browser, then DingTalk's OAuth page."""
    context = get_context(request)
    space = await context.signin.spaces.space(space_id)
    try:
        client = client_for(context, space.config)
    except SignInRefused as refused:
        return refusal_page(request, space_id, refused.reason)
    next_path = space_next(space_id, request.query_params.get("next"))
    started = oauth_state.start(context.signin.keys.oauth_state, space_id, next_path)
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


def _refused(request: Request, space_id: int, reason: str, detail: str | None = None) -> Response:
    response = refusal_page(request, space_id, reason, detail)
    delete_space_cookie(response, space_id, oauth_state.STATE_COOKIE)
    return response


async def callback(request: Request, space: SpaceView) -> Response:
    """The browser back from DingTalk's OAuth page at the space URL."""
    context = get_context(request)
    params = request.query_params
    space_id = space.id
    cookie = request.cookies.get(oauth_state.STATE_COOKIE, "")
    try:
        next_path = await oauth_state.finish(
            context.signin.keys.oauth_state, context.kv, cookie, params.get("state", ""), space_id
        )
    except oauth_state.StateInvalid as exc:
        log.warning("space %d: OAuth callback refused: %s", space_id, exc)
        context.metrics.signin(_flow(space), "state_invalid")
        return _refused(request, space_id, "state_invalid")
    if params.get("error"):
        context.metrics.signin(_flow(space), "cancelled")
        return _refused(request, space_id, "cancelled")
    code = params.get("authCode") or params.get("code") or ""
    try:
        client = client_for(context, space.config)
        identity = await from_browser_code(client, space_id, code)

        async def lookup(found: DingTalkIdentity) -> DingTalkIdentity:
            return await with_mobile(client, space_id, found)

        resolved = await resolve(context, space, identity, next_path, mobile_lookup=lookup)
    except SignInRefused as refused:
        context.metrics.signin(_flow(space), refused.reason)
        return _refused(request, space_id, refused.reason, refused.detail)
    except Exception:
        context.metrics.signin(_flow(space), "error")
        raise
    context.metrics.signin(_flow(space), resolved.result)
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
