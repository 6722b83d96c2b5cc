"""The cookies of a space's pages: all scoped to the space path (``/{space}/``), HttpOnly,
SameSite=Lax, Secure when the server's external URL is https. A cookie of 10001 is never sent
to, nor accepted by, 10002.

- ``dingbridge_session``: the member's session id (:mod:`dingbridge.signin.member_sessions`);
- the binding cookie and the OAuth state cookie (their modules name them).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.signin.member_sessions import SignedIn, sign_out, signed_in, space_path

SESSION_COOKIE = "dingbridge_session"


def set_space_cookie(
    request: Request, response: Response, space_id: int, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=space_path(space_id),
        httponly=True,
        samesite="lax",
        secure=get_context(request).settings.secure_cookies,
    )


def delete_space_cookie(response: Response, space_id: int, name: str) -> None:
    response.delete_cookie(name, path=space_path(space_id), httponly=True, samesite="lax")


def set_session_cookie(
    request: Request, response: Response, space_id: int, session_id: str
) -> None:
    max_age = int(get_context(request).settings.session_absolute)
    set_space_cookie(request, response, space_id, SESSION_COOKIE, session_id, max_age)


async def current_member(request: Request, space_id: int) -> SignedIn | None:
    """The signed-in, still active member of this space, or ``None``."""
    return await signed_in(get_context(request), space_id, request.cookies.get(SESSION_COOKIE, ""))


async def end_session(request: Request, response: Response, space_id: int) -> None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        await sign_out(get_context(request), space_id, session_id)
    delete_space_cookie(response, space_id, SESSION_COOKIE)
