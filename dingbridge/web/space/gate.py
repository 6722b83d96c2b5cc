"""``/{space}/gate/{app}``: the forward-auth gate's sign-in step, on dingbridge's host.

The proxy in front of an app sends a browser without a gate session here (the check's
``X-Dingbridge-Sign-In``), with the URL it asked for (``rd=``, URL-safe base64) and the
``state`` it keeps in a cookie on the app's host. Here:

- not signed in → the space's own sign-in (``/{space}/?next=`` back here), so inside DingTalk
  it needs no page;
- signed in but not allowed to use the app → a 403 page that says so and whom to ask;
- allowed → a one-time ticket, and on to ``/_dingbridge/callback`` on the app's host, which
  sets the gate cookie there and returns to ``rd`` — only ever a URL of that app
  (:mod:`dingbridge.gate.return_urls`).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import NotFound
from dingbridge.gate.gate_sessions import FORWARD_AUTH, issue_ticket
from dingbridge.gate.return_urls import AppUrl, AppUrlError, decode_rd, encode_rd, safe_return_url
from dingbridge.signin.member_sessions import space_path
from dingbridge.web.space.cookies import current_member
from dingbridge.web.space.pages import render

router = APIRouter(include_in_schema=False)
_STATE = re.compile(r"[A-Za-z0-9_-]{8,64}")


def gate_path(space_id: int, app_id: int, return_url: str, state: str) -> str:
    """The sign-in step's path for this app, return URL and state."""
    path = f"/{space_id}/gate/{app_id}?rd={encode_rd(return_url)}"
    return path + (f"&state={state}" if state else "")


@router.get("/{space_id:int}/gate/{app_id:int}")
async def gate_sign_in(request: Request, space_id: int, app_id: int) -> Response:
    context = get_context(request)
    space = await context.signin.spaces.space(space_id)
    app = space.app(app_id)
    if app is None or app.kind != FORWARD_AUTH:
        raise NotFound("This app does not exist or is not behind the forward-auth gate.")
    try:
        app_url = AppUrl.parse(app.url)
    except AppUrlError as exc:
        raise NotFound("This app's URL cannot be protected by the gate.") from exc
    return_url = safe_return_url(app_url, decode_rd(request.query_params.get("rd")))
    state = request.query_params.get("state", "")
    state = state if _STATE.fullmatch(state) else ""
    current = await current_member(request, space_id)
    if current is None:
        here = gate_path(space_id, app_id, return_url, state)
        return RedirectResponse(f"{space_path(space_id)}?next={quote(here, safe='')}", 303)
    if not app.allows(current.member):
        values = {"space": space, "app": app, "member": current.member}
        return render(request, "space/gate_refused.html", values, status=403)
    ticket = await issue_ticket(context, app_id, current, return_url, state)
    return RedirectResponse(f"{app_url.origin}/_dingbridge/callback?ticket={ticket}", 303)
