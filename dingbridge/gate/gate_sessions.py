"""Gate sessions: a member signed in to one forward-auth app, on that app's host.

dingbridge's own session cookie is scoped to dingbridge's host and ``/{space}/``, so the app's
host never sees it. As oauth2-proxy does, the gate keeps a session of its own there:

1. the sign-in step (``/{space}/gate/{app}``, a signed-in member allowed to use the app) issues
   a one-time **ticket** (60 s) bound to the app, the member's session and the return URL;
2. the browser brings it to ``/_dingbridge/callback`` on the app's host (the proxy passes that
   path to dingbridge), which redeems it once and sets the **gate cookie** there;
3. every request to the app is then **checked** with that cookie.

A check costs one KV read: the gate session entry holds the verdict and the encoded identity
headers. The entry is re-checked against dingbridge's state — the member's session (signing
out or an admin ending it), the member (disabled, deleted, departments), the app (deleted,
access changed) — when it is older than :data:`REVALIDATE_AFTER` seconds; such a check costs a
few more reads and one write. So a change of the app's access or the member's departments
reaches the gate within 30 s: the documented, bounded staleness of the one-read check. When a
member's sessions end — signing out of dingbridge (that session's gate sessions), disabled,
deleted, unbound, a DingTalk leave, an admin ending them (all of them) — the gate sessions end
at once: :func:`member_sessions_ended` (a session-end listener) deletes their entries, found
through the member's index of gate sessions (``gate-member:{space}:{member}``, written when a
gate session opens). The check itself still reads one key. A gate session lasts at most as
long as a member session (``--session-absolute``), and each re-check keeps the member's session
alive while the app is in use, as a page view would.

Entries are keyed by a SHA-256 of the cookie value (``gate:{hash}``), tickets likewise: the
KV never holds a usable cookie or ticket.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dingbridge.errors import NotFound
from dingbridge.gate.member_identity import member_identity
from dingbridge.signin.member_sessions import SignedIn, space_path

if TYPE_CHECKING:
    from dingbridge.context import AppContext

log = logging.getLogger(__name__)

FORWARD_AUTH = "forward_auth"
TICKET_TTL = 60.0
REVALIDATE_AFTER = 30.0
STATE_LIFETIME = 600
GATE_COOKIE_PREFIX = "_dingbridge_gate_"
STATE_COOKIE_PREFIX = "_dingbridge_gate_state_"


def now() -> float:
    """The gate's clock (wall time: entries are shared by every instance)."""
    return time.time()


def gate_cookie(app_id: int) -> str:
    """The gate cookie of an app (one per app: several apps may share a host)."""
    return f"{GATE_COOKIE_PREFIX}{app_id}"


def state_cookie(app_id: int) -> str:
    """The cookie that ties a sign-in to the browser that started it (no login CSRF)."""
    return f"{STATE_COOKIE_PREFIX}{app_id}"


def new_state() -> str:
    return secrets.token_urlsafe(16)


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _entry_key(session_id: str) -> str:
    return f"gate:{_hash(session_id)}"


@dataclass(frozen=True)
class Verdict:
    """A check's answer: 200 with the identity headers, 401 (sign in) or 403 (not allowed)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    space_id: int = 0
    app_id: int = 0


UNAUTHENTICATED = Verdict(401)


@dataclass(frozen=True)
class Ticket:
    space_id: int
    app_id: int
    member_id: int
    session_handle: str
    return_url: str
    state: str


async def issue_ticket(
    context: AppContext, app_id: int, current: SignedIn, return_url: str, state: str
) -> str:
    """A one-time ticket for ``/_dingbridge/callback`` on the app's host."""
    ticket = secrets.token_urlsafe(32)
    value = {
        "space": current.member.space_id,
        "app": app_id,
        "member": current.member.id,
        "session": current.session.handle,
        "rd": return_url,
        "state": state,
    }
    await context.kv.set(f"gate-ticket:{_hash(ticket)}", json.dumps(value).encode(), TICKET_TTL)
    return ticket


async def redeem_ticket(context: AppContext, ticket: str) -> Ticket | None:
    """The ticket's contents, once (``None`` when unknown, expired or already used)."""
    if not ticket or len(ticket) > 200:
        return None
    key = f"gate-ticket:{_hash(ticket)}"
    raw = await context.kv.get(key)
    if raw is None:
        return None
    # Single use across instances: only the first redeemer claims it.
    claimed = await context.kv.set_if_absent(f"gate-ticket-used:{_hash(ticket)}", b"1", 600)
    await context.kv.delete(key)
    if not claimed:
        return None
    value = json.loads(raw)
    return Ticket(
        int(value["space"]),
        int(value["app"]),
        int(value["member"]),
        str(value["session"]),
        str(value["rd"]),
        str(value["state"]),
    )


async def open_session(context: AppContext, ticket: Ticket) -> tuple[str, Verdict]:
    """Start the gate session of a redeemed ticket: its cookie value and first verdict (401
    when the member's session ended meanwhile; then no session is kept)."""
    session_id = secrets.token_urlsafe(32)
    record: dict[str, Any] = {
        "space": ticket.space_id,
        "app": ticket.app_id,
        "member": ticket.member_id,
        "session": ticket.session_handle,
        "created": now(),
        "checked": 0.0,
    }
    verdict = await _revalidate(context, session_id, record)
    if verdict.status != 401:
        await _index_session(context, record, _entry_key(session_id))
    return session_id, verdict


def _member_key(space_id: int, member_id: int) -> str:
    return f"gate-member:{space_id}:{member_id}"


async def _index_session(context: AppContext, record: dict[str, Any], entry_key: str) -> None:
    """Add a gate session to its member's index (a read and a write when a session opens;
    two opening at the same instant may drop one: that one still ends at its re-check)."""
    key = _member_key(record["space"], record["member"])
    lifetime = context.member_sessions.absolute_timeout
    raw = await context.kv.get(key)
    entries: dict[str, dict[str, Any]] = json.loads(raw) if raw is not None else {}
    at = now()
    entries = {k: v for k, v in entries.items() if v["until"] > at}
    entries[entry_key] = {"session": record["session"], "until": record["created"] + lifetime}
    await context.kv.set(key, json.dumps(entries).encode(), lifetime)


async def member_sessions_ended(
    context: AppContext, space_id: int, member_id: int, handle: str | None
) -> None:
    """A session-end listener (``SignInServices.session_listeners``): end the gate sessions
    that stand on the member's session ``handle``, or all of the member's (``None``)."""
    key = _member_key(space_id, member_id)
    raw = await context.kv.get(key)
    if raw is None:
        return
    entries: dict[str, dict[str, Any]] = json.loads(raw)
    ending = [k for k, v in entries.items() if handle is None or v["session"] == handle]
    for entry_key in ending:
        await context.kv.delete(entry_key)
        del entries[entry_key]
    if ending:
        log.info(
            "space %d: %d gate session(s) of member %d ended", space_id, len(ending), member_id
        )
    ttl = max((v["until"] for v in entries.values()), default=0.0) - now()
    if ttl > 0:
        await context.kv.set(key, json.dumps(entries).encode(), ttl)
    else:
        await context.kv.delete(key)


async def check(context: AppContext, space_id: int, app_id: int, session_id: str) -> Verdict:
    """The verdict on a request to app ``app_id`` carrying gate cookie ``session_id``: one KV
    read while the entry is fresh (see the module docstring)."""
    if not session_id or len(session_id) > 200:
        return UNAUTHENTICATED
    raw = await context.kv.get(_entry_key(session_id))
    if raw is None:
        return UNAUTHENTICATED
    record: dict[str, Any] = json.loads(raw)
    if record["space"] != space_id or record["app"] != app_id:
        return UNAUTHENTICATED  # another app's cookie (or a forged name): no entry of this app
    if now() - record["checked"] < REVALIDATE_AFTER:
        return Verdict(record["status"], record["headers"], space_id, app_id)
    return await _revalidate(context, session_id, record)


async def _revalidate(context: AppContext, session_id: str, record: dict[str, Any]) -> Verdict:
    space_id, app_id, member_id = record["space"], record["app"], record["member"]
    key = _entry_key(session_id)
    member_session = await context.member_sessions.get_by_handle(
        record["session"], space_path(space_id)
    )
    if (
        member_session is None
        or member_session.kind != "member"
        or int(member_session.data.get("member_id", 0)) != member_id
    ):
        await context.kv.delete(key)
        return UNAUTHENTICATED
    try:
        space = await context.signin.spaces.space(space_id)
    except NotFound:
        await context.kv.delete(key)
        return UNAUTHENTICATED
    app = space.app(app_id)
    member = await context.signin.spaces.member(space_id, member_id)
    if app is None or app.kind != FORWARD_AUTH or member is None:
        await context.kv.delete(key)
        return UNAUTHENTICATED
    headers: dict[str, str] = {}
    if app.allows(member):
        identity = await member_identity(
            context,
            member,
            corp_id=str(member_session.data.get("corp_id", "")),
            userid=str(member_session.data.get("userid", "")),
        )
        headers = identity.headers()
        status = 200
    else:
        log.info("space %d: member %d may not use app %d", space_id, member_id, app_id)
        status = 403
    record.update(status=status, headers=headers, checked=now())
    ttl = record["created"] + context.member_sessions.absolute_timeout - now()
    if ttl <= 0:
        await context.kv.delete(key)
        return UNAUTHENTICATED
    await context.kv.set(key, json.dumps(record).encode(), ttl)
    return Verdict(status, headers, space_id, app_id)


async def end_session(context: AppContext, session_id: str) -> None:
    """Sign out of the gate (the member's dingbridge session is left alone)."""
    if session_id and len(session_id) <= 200:
        await context.kv.delete(_entry_key(session_id))
