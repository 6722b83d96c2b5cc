"""The admin console's session cookie and CSRF tokens.

Signed-in admins carry a server-side session (cookie ``dingbridge_admin``, HttpOnly,
SameSite=Lax, Secure behind https; path ``/`` so the JSON API under ``/api/v1/`` sees it too)
holding their CSRF token, which forms send as a field and API calls as the ``X-CSRF-Token``
header. Before sign-in (login and
setup forms) the token sits in its own cookie (``dingbridge_csrf``) and must match the form
field: a page on another site can neither read it nor set it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import Unauthorized
from dingbridge.sessions import Session

ADMIN_COOKIE = "dingbridge_admin"
CSRF_COOKIE = "dingbridge_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
ADMIN_PATH = "/admin/"
ADMIN_COOKIE_PATH = "/"


class LoginRequired(Unauthorized):
    """Raised for console pages without a valid admin session; HTML requests go to the login."""


@dataclass(frozen=True)
class AdminUser:
    username: str
    session: Session

    @property
    def csrf_token(self) -> str:
        token: str = self.session.data["csrf"]
        return token


async def current_admin(request: Request) -> AdminUser | None:
    cached: Any = getattr(request.state, "admin_user", None)
    if isinstance(cached, AdminUser):
        return cached
    session_id = request.cookies.get(ADMIN_COOKIE, "")
    if not session_id:
        return None
    session = await get_context(request).admin_sessions.get(session_id, ADMIN_PATH)
    if session is None or session.kind != "admin":
        return None
    user = AdminUser(username=session.subject, session=session)
    request.state.admin_user = user
    return user


async def require_admin(request: Request) -> AdminUser:
    user = await current_admin(request)
    if user is None:
        raise LoginRequired()
    return user


def set_cookie(
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age: int,
    path: str = ADMIN_PATH,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=get_context(request).settings.secure_cookies,
    )


async def start_admin_session(request: Request, response: Response, username: str) -> None:
    context = get_context(request)
    old = request.cookies.get(ADMIN_COOKIE, "")
    if old:
        await context.admin_sessions.revoke(old)
    session = await context.admin_sessions.create(
        "admin", username, ADMIN_PATH, {"csrf": secrets.token_urlsafe(32)}
    )
    # Earlier versions scoped the cookie to /admin/: drop such a cookie so it cannot shadow this.
    response.delete_cookie(ADMIN_COOKIE, path=ADMIN_PATH)
    set_cookie(
        request,
        response,
        ADMIN_COOKIE,
        session.id,
        context.settings.admin_session_absolute,
        path=ADMIN_COOKIE_PATH,
    )
    response.delete_cookie(CSRF_COOKIE, path=ADMIN_PATH)


async def end_admin_session(request: Request, response: Response) -> None:
    session_id = request.cookies.get(ADMIN_COOKIE, "")
    if session_id:
        await get_context(request).admin_sessions.revoke(session_id)
    response.delete_cookie(ADMIN_COOKIE, path=ADMIN_PATH)
    response.delete_cookie(ADMIN_COOKIE, path=ADMIN_COOKIE_PATH)


def anonymous_csrf_token(request: Request) -> str:
    """The pre-sign-in CSRF token of this browser; a new one when it has none yet."""
    token = request.cookies.get(CSRF_COOKIE, "")
    if len(token) < 32:
        token = getattr(request.state, "new_csrf", "") or secrets.token_urlsafe(32)
        request.state.new_csrf = token
    return token


def attach_anonymous_csrf(request: Request, response: Response) -> Response:
    """Set the CSRF cookie on ``response`` when this request created the token."""
    token = getattr(request.state, "new_csrf", "")
    if token:
        set_cookie(request, response, CSRF_COOKIE, token, 86400)
    return response


async def csrf_token(request: Request) -> str:
    user = await current_admin(request)
    return user.csrf_token if user else anonymous_csrf_token(request)
