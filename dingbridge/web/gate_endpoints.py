"""``/_dingbridge/…``: what a reverse proxy in front of a forward-auth app calls.

- ``/_dingbridge/auth/{space}/{app}`` — the check, for nginx ``auth_request``, Traefik
  ``forwardAuth`` and Caddy ``forward_auth``. 200 with the identity headers
  (:mod:`dingbridge.gate.identity_headers`) and ``X-Dingbridge-Cookie`` (the browser's cookies
  without dingbridge's, for the app); 401 when there is no gate session, 403 when the member
  may not use the app — both with ``X-Dingbridge-Sign-In``, the URL to send the browser to,
  and the sign-in's state cookie when the browser has none. With ``?redirect=1`` (Traefik,
  Caddy: they hand a non-2xx answer to the browser) those are a 302 to that URL instead.
  The original URL comes from ``X-Original-URL`` (the generated nginx config sets it) or
  ``X-Forwarded-Proto``/``-Host``/``-Uri``.
- ``/_dingbridge/callback?ticket=`` — on the app's host (the proxy passes ``/_dingbridge/`` to
  dingbridge): redeems the sign-in's ticket once, sets the gate cookie, returns to the app.
- ``/_dingbridge/sign_out`` — ends the gate sessions of this browser on this host.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dingbridge.context import get_context
from dingbridge.errors import NotFound
from dingbridge.gate import gate_sessions as gate
from dingbridge.gate.identity_headers import (
    APP_COOKIE_HEADER,
    SIGN_IN_HEADER,
    cookie_value,
    cookies_for_app,
)
from dingbridge.gate.return_urls import AppUrl, AppUrlError
from dingbridge.web.space.gate import gate_path
from dingbridge.web.space.pages import gettext_for, render
from dingbridge.web.urls import safe_next, server_base

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def _original_url(request: Request) -> str:
    headers = request.headers
    original = headers.get("x-original-url", "")
    if original:
        return original
    host = headers.get("x-forwarded-host", "")
    if not host:
        return ""
    proto = headers.get("x-forwarded-proto", "http").split(",")[0].strip()
    return f"{proto}://{host.split(',')[0].strip()}{headers.get('x-forwarded-uri', '/')}"


async def check(request: Request) -> Response:
    """The check (a plain Starlette route: a proxy calls it on every request to the app, and
    FastAPI's parameter handling would cost as much as the check itself)."""
    space_id, app_id = request.path_params["space_id"], request.path_params["app_id"]
    context = get_context(request)
    cookies = request.headers.get("cookie", "")
    session_id = cookie_value(cookies, gate.gate_cookie(app_id))
    verdict = await gate.check(context, space_id, app_id, session_id)
    if verdict.status == 200:
        response = Response(status_code=200)
        raw = response.raw_headers
        raw.extend((name.encode(), value.encode()) for name, value in verdict.headers.items())
        raw.append((APP_COOKIE_HEADER.encode(), cookies_for_app(cookies).encode("latin-1")))
        raw.append((b"cache-control", b"no-store"))
        return response
    state = cookie_value(cookies, gate.state_cookie(app_id)) or gate.new_state()
    original = _original_url(request)
    sign_in = server_base(request) + gate_path(space_id, app_id, original, state)
    redirect = request.query_params.get("redirect") == "1"
    response = Response(
        status_code=302 if redirect else verdict.status,
        headers={SIGN_IN_HEADER: sign_in, "Cache-Control": "no-store"},
    )
    if redirect:
        response.headers["Location"] = sign_in
    if not cookie_value(cookies, gate.state_cookie(app_id)):
        response.set_cookie(
            gate.state_cookie(app_id),
            state,
            max_age=gate.STATE_LIFETIME,
            path="/",
            httponly=True,
            samesite="lax",
            secure=original.lower().startswith("https:"),
        )
    return response


def _message(
    request: Request, title: str, message: str, *, again: str = "", status: int = 400
) -> Response:
    values = {
        "title": gettext_for(request, title),
        "message": gettext_for(request, message),
        "again": again,
        "bad": status >= 400,
        "reason": title,
    }
    return render(request, "space/gate_message.html", values, status=status)


@router.get("/_dingbridge/callback")
async def callback(request: Request) -> Response:
    context = get_context(request)
    ticket = await gate.redeem_ticket(context, request.query_params.get("ticket", ""))
    if ticket is None:
        return _message(
            request,
            "Cannot sign in",
            "This sign-in has expired or did not start in this browser. Please sign in again.",
        )
    try:
        found = (await context.signin.spaces.space(ticket.space_id)).app(ticket.app_id)
        app_url = AppUrl.parse(found.url if found is not None else "")
    except (NotFound, AppUrlError):
        found = None
    if found is None:
        return _message(request, "Cannot sign in", "This app no longer exists.", status=404)
    app = found
    sent_state = cookie_value(request.headers.get("cookie", ""), gate.state_cookie(app.id))
    if ticket.state and sent_state != ticket.state:
        log.info("space %d: app %d ticket came back without state", ticket.space_id, app.id)
        return _message(
            request,
            "Cannot sign in",
            "This sign-in has expired or did not start in this browser. Please sign in again.",
            again=ticket.return_url,
        )
    session_id, verdict = await gate.open_session(context, ticket)
    if verdict.status == 401:
        return _message(
            request,
            "Cannot sign in",
            "This sign-in has expired or did not start in this browser. Please sign in again.",
            again=ticket.return_url,
        )
    response = RedirectResponse(ticket.return_url, status_code=303)
    response.set_cookie(
        gate.gate_cookie(app.id),
        session_id,
        max_age=int(context.member_sessions.absolute_timeout),
        path="/",
        httponly=True,
        samesite="lax",
        secure=app_url.secure,
    )
    response.delete_cookie(gate.state_cookie(app.id), path="/", httponly=True, samesite="lax")
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/_dingbridge/sign_out")
async def sign_out(request: Request) -> Response:
    context = get_context(request)
    target = safe_next(request.query_params.get("rd"), prefix="/", default="")
    response: Response = (
        RedirectResponse(target, status_code=303)
        if target
        else _message(request, "Signed out", "You have signed out of this app.", status=200)
    )
    for name, value in request.cookies.items():
        if name.startswith(gate.GATE_COOKIE_PREFIX) and not name.startswith(
            gate.STATE_COOKIE_PREFIX
        ):
            await gate.end_session(context, value)
            response.delete_cookie(name, path="/", httponly=True, samesite="lax")
    return response


routes = [Route("/_dingbridge/auth/{space_id:int}/{app_id:int}", check, methods=ANY_METHOD)]
"""The check's route, placed first in the app (``create_app``)."""
