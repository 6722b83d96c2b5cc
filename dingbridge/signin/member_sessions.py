"""A member's signed-in session in one space: what it stands for, how it starts and ends.

The session lives in the shared :class:`~dingbridge.sessions.SessionStore` (idle and absolute
timeouts there), path ``/{space}/``, subject ``"{space}:{member}"`` so an admin can end all of
a member's sessions. A member disabled, deleted or unbound by anything (console, API, CLI,
DingTalk events, the catch-up sync) loses every session as soon as the change commits
(:func:`access_ended`, see :mod:`dingbridge.spaces.members`). Every page view also checks the
member (through :mod:`dingbridge.signin.space_cache`): a change made by a process that could
not end the sessions itself (a CLI command without the servers' KV) signs the member out at
their next request.
The cookie that carries the session id is the web layer's (:mod:`dingbridge.web.space.cookies`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dingbridge.errors import NotFound
from dingbridge.sessions import Session
from dingbridge.signin.binding_flow import unbind
from dingbridge.signin.pending import DingTalkIdentity
from dingbridge.signin.space_cache import MemberView
from dingbridge.spaces import audit
from dingbridge.spaces import members as member_ops
from dingbridge.spaces.members import AccessEnded, get_member

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)


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


def _session_data(member_id: int, identity: DingTalkIdentity) -> dict[str, Any]:
    return {"member_id": member_id, "corp_id": identity.corp_id, "userid": identity.userid}


async def create_session(
    context: AppContext, space_id: int, member_id: int, identity: DingTalkIdentity
) -> Session:
    """A new session (fresh id: never one the browser brought)."""
    return await context.member_sessions.create(
        "member",
        subject(space_id, member_id),
        space_path(space_id),
        _session_data(member_id, identity),
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
        _session_data(member_id, identity),
    )


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
        await sessions_ended(context, space_id, member_id, None)
        return None
    return SignedIn(member, session)


async def sessions_ended(
    context: AppContext, space_id: int, member_id: int, handle: str | None
) -> None:
    """Tell the listeners (the OpenID provider: back-channel logout to apps) that one session
    (``handle``) or every session (``None``) of the member ended; a failing listener is logged,
    never stops the sign-out."""
    for listener in context.signin.session_listeners:
        try:
            await listener(space_id, member_id, handle)
        except Exception:
            log.exception("space %d: a session-end listener failed", space_id)


async def sign_out(context: AppContext, space_id: int, session_id: str) -> None:
    """The member signs out of this browser's session (and of the apps it signed in to)."""
    session = await context.member_sessions.get(session_id, space_path(space_id))
    await context.member_sessions.revoke(session_id)
    if session is not None and session.kind == "member":
        member_id = int(session.data.get("member_id", 0))
        await sessions_ended(context, space_id, member_id, session.handle)


async def revoke_member_sessions(context: AppContext, space_id: int, member_id: int) -> int:
    """THE way every session of a member ends: their dingbridge sessions here, then the
    listeners (the OpenID provider revokes the tokens apps hold and sends back-channel logout;
    the gate drops the member's gate sessions). The number of dingbridge sessions ended."""
    ended = await context.member_sessions.revoke_subject("member", subject(space_id, member_id))
    await sessions_ended(context, space_id, member_id, None)
    return ended


async def access_ended(context: AppContext, items: list[AccessEnded]) -> None:
    """The :data:`~dingbridge.spaces.members.ACCESS_ENDED` handler (registered by
    ``create_app``): after a transaction that disabled, deleted or unbound members has
    committed, each of them loses every session at once (audited when there were any)."""
    done: set[tuple[int, int]] = set()
    for item in items:
        if (item.space_id, item.member_id) in done:
            continue
        done.add((item.space_id, item.member_id))
        ended = await revoke_member_sessions(context, item.space_id, item.member_id)
        log.info(
            "space %d: member %d %s by %s: %d session(s) ended",
            item.space_id,
            item.member_id,
            item.why,
            item.actor,
            ended,
        )
        if ended:
            async with context.db.transaction() as session:
                await audit.record(
                    session,
                    item.actor,
                    "member.sessions_revoked",
                    f"space:{item.space_id}/member:{item.member_id}",
                    {"sessions": ended, "why": item.why},
                )


async def end_member_sessions(
    context: AppContext, space_id: int, member_id: int, *, actor: str
) -> int:
    """An admin ends every session of a member (audited); the number of sessions ended."""
    async with context.db.transaction() as session:
        member = await get_member(session, space_id, member_id)
        ended = await revoke_member_sessions(context, space_id, member.id)
        await audit.record(
            session,
            actor,
            "member.sessions_revoked",
            f"space:{space_id}/member:{member_id}",
            {"name": member.name, "sessions": ended},
        )
    return ended


async def unbind_and_sign_out(
    context: AppContext, space_id: int, binding_id: int, *, actor: str
) -> None:
    """Remove a binding (audited); the member's sessions end once it has committed."""
    async with context.db.transaction() as session:
        await unbind(session, space_id, binding_id, actor=actor)


async def delete_member(context: AppContext, space_id: int, member_id: int, *, actor: str) -> None:
    """Delete a member (audited). Their sessions end first, while the member and what apps
    hold for them still exist: back-channel logout names the member's subject."""
    async with context.db.session() as session:
        await get_member(session, space_id, member_id)  # NotFound before anything ends
    await revoke_member_sessions(context, space_id, member_id)
    async with context.db.transaction() as session:
        await member_ops.delete_member(session, space_id, member_id, actor=actor)
