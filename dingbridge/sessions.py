"""Server-side sessions on the shared key-value store.

A session id is a random token (``secrets.token_urlsafe(32)``) that only the browser holds: the
store keys records by a SHA-256 *handle* of the id, so reading the store never yields a usable
cookie. Each session belongs to a ``scope`` (the cookie path, ``/10001/`` or ``/admin/``) and is
refused in any other scope.

A session ends at the first of: ``revoke``; ``idle_timeout`` seconds without use;
``absolute_timeout`` seconds after creation; ``revoke_subject`` for its kind and subject.
``revoke_subject`` bumps a per-subject generation counter that every ``get`` checks, so
revocation holds even if two instances raced on the subject's index of sessions.

Tickets cover WebViews that drop cookies: ``issue_ticket`` gives a short-lived one-time token
for the URL; ``redeem_ticket`` exchanges it once for a *new* session (the old one is revoked).
``issue_start_ticket`` is the cheaper form for a sign-in whose only way to the browser is the
URL: no session exists until the ticket is redeemed, and redeeming it starts the session (a
``revoke_subject`` in between makes the ticket worthless).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dingbridge.kv import KV

KINDS = ("admin", "member")
DEFAULT_IDLE_TIMEOUT = 8 * 3600.0
DEFAULT_ABSOLUTE_TIMEOUT = 7 * 24 * 3600.0
# last_seen is written back at most this often, so page views rarely cost a write.
DEFAULT_TOUCH_INTERVAL = 60.0


@dataclass
class Session:
    """A signed-in browser.

    ``id`` is the raw session id (the cookie value) for sessions from :meth:`SessionStore.create`
    and :meth:`SessionStore.get`; it is ``""`` in :meth:`SessionStore.list_subject` results,
    which only know ``handle`` (a hash of the id, safe to show; see ``revoke_handle``).
    """

    id: str
    kind: str
    subject: str
    scope: str
    created_at: float
    last_seen: float
    data: dict[str, Any] = field(default_factory=dict)
    handle: str = ""


def _check_new(kind: str, subject: str, scope: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"session kind must be one of {KINDS}, got {kind!r}")
    if not subject or not scope.startswith("/") or not scope.endswith("/"):
        raise ValueError("a session needs a subject and a scope path like '/10001/'")


def session_handle(session_id: str) -> str:
    """The storage handle of a session id: its SHA-256, hex."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(
        self,
        kv: KV,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        absolute_timeout: float = DEFAULT_ABSOLUTE_TIMEOUT,
        clock: Callable[[], float] = time.time,
        touch_interval: float = DEFAULT_TOUCH_INTERVAL,
    ) -> None:
        if not (idle_timeout > 0 and absolute_timeout > 0):
            raise ValueError("session timeouts must be positive")
        self._kv = kv
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self._clock = clock
        self._touch_interval = min(touch_interval, idle_timeout / 4)

    # -- keys ---------------------------------------------------------------------------
    @staticmethod
    def _record_key(handle: str) -> str:
        return f"sess:{handle}"

    @staticmethod
    def _subject_id(kind: str, subject: str) -> str:
        return hashlib.sha256(f"{kind}\0{subject}".encode()).hexdigest()[:40]

    def _index_key(self, kind: str, subject: str) -> str:
        return f"sess-subject:{self._subject_id(kind, subject)}"

    def _gen_key(self, kind: str, subject: str) -> str:
        return f"sess-gen:{self._subject_id(kind, subject)}"

    # -- helpers ------------------------------------------------------------------------
    def _ttl_for(self, created_at: float, last_seen: float) -> float:
        idle_left = last_seen + self.idle_timeout - self._clock()
        absolute_left = created_at + self.absolute_timeout - self._clock()
        return max(0.001, min(idle_left, absolute_left))

    async def _generation(self, kind: str, subject: str) -> int:
        raw = await self._kv.get(self._gen_key(kind, subject))
        return int(raw) if raw is not None else 0

    async def _load(self, handle: str) -> dict[str, Any] | None:
        raw = await self._kv.get(self._record_key(handle))
        if raw is None:
            return None
        record: dict[str, Any] = json.loads(raw)
        now = self._clock()
        if (
            now >= record["last_seen"] + self.idle_timeout
            or now >= record["created_at"] + self.absolute_timeout
            or record["gen"] != await self._generation(record["kind"], record["subject"])
        ):
            await self._kv.delete(self._record_key(handle))
            return None
        return record

    @staticmethod
    def _to_session(session_id: str, handle: str, record: dict[str, Any]) -> Session:
        return Session(
            id=session_id,
            kind=record["kind"],
            subject=record["subject"],
            scope=record["scope"],
            created_at=record["created_at"],
            last_seen=record["last_seen"],
            data=dict(record["data"]),
            handle=handle,
        )

    async def _save(self, handle: str, record: dict[str, Any]) -> None:
        ttl = self._ttl_for(record["created_at"], record["last_seen"])
        await self._kv.set(self._record_key(handle), json.dumps(record).encode(), ttl=ttl)

    async def _index(self, kind: str, subject: str) -> dict[str, float]:
        raw = await self._kv.get(self._index_key(kind, subject))
        entries: dict[str, float] = json.loads(raw) if raw is not None else {}
        now = self._clock()
        return {h: c for h, c in entries.items() if now < c + self.absolute_timeout}

    async def _save_index(self, kind: str, subject: str, entries: dict[str, float]) -> None:
        key = self._index_key(kind, subject)
        if entries:
            await self._kv.set(key, json.dumps(entries).encode(), ttl=self.absolute_timeout)
        else:
            await self._kv.delete(key)

    # -- API ----------------------------------------------------------------------------
    async def create(
        self, kind: str, subject: str, scope: str, data: dict[str, Any] | None = None
    ) -> Session:
        """Start a session with a fresh id (never reuse one the browser brought: no fixation).

        ``data`` must be JSON-serialisable (it is stored as JSON).
        """
        _check_new(kind, subject, scope)
        return await self._start(kind, subject, scope, data, created_at=None)

    async def _start(
        self,
        kind: str,
        subject: str,
        scope: str,
        data: dict[str, Any] | None,
        created_at: float | None,
    ) -> Session:
        session_id = secrets.token_urlsafe(32)
        handle = session_handle(session_id)
        now = self._clock()
        record: dict[str, Any] = {
            "kind": kind,
            "subject": subject,
            "scope": scope,
            "created_at": now if created_at is None else created_at,
            "last_seen": now,
            "data": dict(data or {}),
            "gen": await self._generation(kind, subject),
        }
        await self._save(handle, record)
        entries = await self._index(kind, subject)
        entries[handle] = record["created_at"]
        await self._save_index(kind, subject, entries)
        return self._to_session(session_id, handle, record)

    async def get(self, session_id: str, scope: str) -> Session | None:
        """The live session with this id in this scope, or ``None``. Refreshes ``last_seen``."""
        if not session_id:
            return None
        handle = session_handle(session_id)
        record = await self._load(handle)
        if record is None or record["scope"] != scope:
            return None
        now = self._clock()
        if now - record["last_seen"] >= self._touch_interval:
            record["last_seen"] = now
            await self._save(handle, record)
        return self._to_session(session_id, handle, record)

    async def get_by_handle(self, handle: str, scope: str) -> Session | None:
        """The live session with this handle in this scope, or ``None``; refreshes ``last_seen``
        like :meth:`get` (``id`` is ``""``). For holders of a handle only, such as the
        forward-auth gate, whose sessions stand on a member's session."""
        record = await self._load(handle) if handle else None
        if record is None or record["scope"] != scope:
            return None
        now = self._clock()
        if now - record["last_seen"] >= self._touch_interval:
            record["last_seen"] = now
            await self._save(handle, record)
        return self._to_session("", handle, record)

    async def revoke(self, session_id: str) -> None:
        """End one session (logout)."""
        if session_id:
            await self.revoke_handle(session_handle(session_id))

    async def revoke_handle(self, handle: str) -> None:
        """End one session by its handle (as listed by :meth:`list_subject`)."""
        raw = await self._kv.get(self._record_key(handle))
        await self._kv.delete(self._record_key(handle))
        if raw is None:
            return
        record = json.loads(raw)
        entries = await self._index(record["kind"], record["subject"])
        if entries.pop(handle, None) is not None:
            await self._save_index(record["kind"], record["subject"], entries)

    async def revoke_subject(self, kind: str, subject: str) -> int:
        """End every session of a subject; returns how many live sessions were ended."""
        live = await self.list_subject(kind, subject)
        await self._kv.incr(self._gen_key(kind, subject))
        for session in live:
            await self._kv.delete(self._record_key(session.handle))
        await self._kv.delete(self._index_key(kind, subject))
        return len(live)

    async def list_subject(self, kind: str, subject: str) -> list[Session]:
        """The subject's live sessions, oldest first (``id`` is ``""``; use ``handle``)."""
        entries = await self._index(kind, subject)
        sessions: list[Session] = []
        for handle in sorted(entries, key=entries.__getitem__):
            record = await self._load(handle)
            if record is not None:
                sessions.append(self._to_session("", handle, record))
        if len(sessions) != len(entries):
            await self._save_index(kind, subject, {s.handle: s.created_at for s in sessions})
        return sessions

    async def issue_start_ticket(
        self,
        kind: str,
        subject: str,
        scope: str,
        data: dict[str, Any] | None = None,
        ttl: float = 60,
    ) -> str:
        """A one-time token for a URL that :meth:`redeem_ticket` turns into a NEW session with
        these fields (as :meth:`create` would make now); worthless after ``revoke_subject``."""
        _check_new(kind, subject, scope)
        ticket = secrets.token_urlsafe(32)
        start = {
            "kind": kind,
            "subject": subject,
            "scope": scope,
            "data": dict(data or {}),
            "gen": await self._generation(kind, subject),
        }
        value = json.dumps({"start": start}).encode()
        await self._kv.set(f"sess-ticket:{session_handle(ticket)}", value, ttl=ttl)
        return ticket

    async def issue_ticket(self, session_id: str, ttl: float = 60) -> str:
        """A one-time token standing for this session, for a URL (WebViews that drop cookies)."""
        ticket = secrets.token_urlsafe(32)
        value = session_handle(session_id).encode()
        await self._kv.set(f"sess-ticket:{session_handle(ticket)}", value, ttl=ttl)
        return ticket

    async def redeem_ticket(self, ticket: str) -> str | None:
        """Exchange a ticket, once, for a NEW session id: for an :meth:`issue_ticket` ticket
        the ticket's session is revoked and the new one keeps its creation time (tickets cannot
        stretch a session past its absolute timeout); an :meth:`issue_start_ticket` ticket
        starts its session now.

        ``None`` when the ticket is unknown, expired, already used, or its session (or its
        subject's sessions, for a start ticket) ended.
        """
        if not ticket:
            return None
        ticket_handle = session_handle(ticket)
        key = f"sess-ticket:{ticket_handle}"
        handle = await self._kv.get(key)
        if handle is None:
            return None
        # Single use across instances: only the first redeemer claims the ticket.
        claimed = await self._kv.set_if_absent(f"sess-ticket-used:{ticket_handle}", b"1", ttl=600)
        await self._kv.delete(key)
        if not claimed:
            return None
        if handle.startswith(b"{"):  # from issue_start_ticket (a handle is hex)
            start = json.loads(handle)["start"]
            if start["gen"] != await self._generation(start["kind"], start["subject"]):
                return None
            started = await self._start(
                start["kind"], start["subject"], start["scope"], start["data"], created_at=None
            )
            return started.id
        record = await self._load(handle.decode())
        if record is None:
            return None
        await self.revoke_handle(handle.decode())
        fresh = await self._start(
            record["kind"],
            record["subject"],
            record["scope"],
            record["data"],
            created_at=record["created_at"],
        )
        return fresh.id
