"""``POST /{space}/signin/code``: the in-client 免登 sign-in.

The entry page's script, inside the DingTalk client, gets an auth code from the JSAPI and posts
``{"code", "next"}`` as JSON; the answer is ``{"next"}``, a URL with a one-time ticket that the
page navigates to (:mod:`dingbridge.web.space.entry` exchanges it for the cookie).
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.signin.identity import SignInRefused, from_client_code, with_mobile
from dingbridge.signin.member_sessions import issue_session_ticket, space_path
from dingbridge.signin.pending import DingTalkIdentity, PendingBindings
from dingbridge.signin.resolve import client_for, resolve
from dingbridge.web.space.refusals import refusal_text
from dingbridge.web.urls import space_next

router = APIRouter(include_in_schema=False)


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
    next_path = space_next(space_id, body.get("next") if isinstance(body, dict) else None)
    space = await context.signin.spaces.space(space_id)
    try:
        client = client_for(context, space.config)
        identity = await from_client_code(client, space_id, code)

        async def lookup(found: DingTalkIdentity) -> DingTalkIdentity:
            return await with_mobile(client, space_id, found)

        resolved = await resolve(context, space, identity, next_path, mobile_lookup=lookup)
    except SignInRefused as refused:
        context.metrics.signin("in_client", refused.reason)
        return JSONResponse(
            {
                "error": refused.reason,
                "message": refusal_text(request, refused.reason, refused.detail),
            },
            status_code=refused.status,
        )
    except Exception:
        context.metrics.signin("in_client", "error")
        raise
    context.metrics.signin("in_client", resolved.result)
    if resolved.member_id is not None:  # the session starts when the ticket comes back
        ticket = await issue_session_ticket(
            context, space_id, resolved.member_id, resolved.identity
        )
    else:
        assert resolved.pending_token is not None
        ticket = await PendingBindings(context.kv).issue_ticket(resolved.pending_token)
    target = f"{space_path(space_id)}?ticket={quote(ticket)}&next={quote(next_path)}"
    return JSONResponse({"next": target}, headers={"Cache-Control": "no-store"})
