"""A member's signed-in session in one space: the cookie and what it stands for.

Cookie ``dingbridge_session``, path ``/{space}/`` (so a cookie of 10001 is never sent to, nor
accepted by, 10002), HttpOnly, SameSite=Lax, Secure when the server's external URL is https.
The session lives in the shared :class:`~dingbridge.sessions.SessionStore` (idle and absolute
timeouts there), subject ``"{space}:{member}"`` so an admin can end all of a member's sessions.
Every page view checks the member (through :mod:`dingbridge.signin.space_cache`, which drops
a space's entry when one of its members changes): a disabled or deleted member is signed out
at once, and their sessions are ended.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from dingbridge.errors import NotFound
from dingbridge.sessions import Session
from dingbridge.signin.pending import DingTalkIdentity
from dingbridge.signin.space_cache import MemberView
from dingbridge.web.context import AppContext, get_context

SESSION_COOKIE = "dingbridge_session"


def space_path(space_id: int) -> str:
    return f"/{space_id}/"


def subject(space_id: int, member_id: int) -> str:
    return f"{space_id}:{member_id}"


@dataclass(frozen=True)
class SignedIn:
    member: MemberView
    session: Session

    @property
    def corp_id(self) -> str:
        return str(self.session.data.get("corp_id", ""))

    @property
    def userid(self) -> str:
        return str(self.session.data.get("userid", ""))

    def form_token(self, key: bytes) -> str:
        """A per-session token for the sign-out form (CSRF)."""
        return hmac.new(key, self.session.handle.encode(), hashlib.sha256).hexdigest()[:32]


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


async def create_session(
    context: AppContext, space_id: int, member_id: int, identity: DingTalkIdentity
) -> Session:
    """A new session (fresh id: never one the browser brought)."""
    return await context.member_sessions.create(
        "member",
        subject(space_id, member_id),
        space_path(space_id),
        {"member_id": member_id, "corp_id": identity.corp_id, "userid": identity.userid},
    )


async def issue_session_ticket(
    context: AppContext, space_id: int, member_id: int, identity: DingTalkIdentity
) -> str:
    """A one-time ticket for the URL that starts the session when the browser brings it back
    (in-client sign-in: some WebViews drop cookies set on fetch responses)."""
    return await context.member_sessions.issue_start_ticket(
        "member",
        subject(space_id, member_id),
        space_path(space_id),
        {"member_id": member_id, "corp_id": identity.corp_id, "userid": identity.userid},
    )


def set_session_cookie(
    request: Request, response: Response, space_id: int, session_id: str
) -> None:
    max_age = int(get_context(request).settings.session_absolute)
    set_space_cookie(request, response, space_id, SESSION_COOKIE, session_id, max_age)


async def current_member(request: Request, space_id: int) -> SignedIn | None:
    """The signed-in, still active member of this space, or ``None``."""
    return await signed_in(get_context(request), space_id, request.cookies.get(SESSION_COOKIE, ""))


async def signed_in(context: AppContext, space_id: int, session_id: str) -> SignedIn | None:
    """The session ``session_id`` of an active member of this space, or ``None`` (the
    sessions of a member found disabled or deleted are ended)."""
    if not session_id:
        return None
    session = await context.member_sessions.get(session_id, space_path(space_id))
    if session is None or session.kind != "member":
        return None
    member_id = int(session.data.get("member_id", 0))
    try:
        member = await context.signin.spaces.member(space_id, member_id)
    except NotFound:  # the space was disabled or deleted
        return None
    if member is None or not member.active:
        await context.member_sessions.revoke_subject("member", session.subject)
        return None
    return SignedIn(member, session)


async def end_session(request: Request, response: Response, space_id: int) -> None:
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if session_id:
        await get_context(request).member_sessions.revoke(session_id)
    delete_space_cookie(response, space_id, SESSION_COOKIE)


async def revoke_member_sessions(context: AppContext, space_id: int, member_id: int) -> int:
    return await context.member_sessions.revoke_subject("member", subject(space_id, member_id))
