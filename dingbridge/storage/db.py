"""The database engine: one async engine per app, SQLite (WAL) or PostgreSQL by URL.

:meth:`Database.on_commit` tells in-process caches what a committed transaction changed: every
ORM object added, modified or deleted in any session of this database is turned into a key by
the listener's ``key`` function when it is flushed, and the listener gets the set of keys once
the outermost transaction has committed (never for a rollback, nor for a savepoint alone).
For SQLite, :meth:`Database.data_version` also tells when *any* connection (another process
included: a CLI command, a second server on the same file) has committed.

:meth:`Database.note` and :meth:`Database.after_commit` let domain code ask for async work once
a transaction has committed (a member disabled: their sessions end): code inside the
transaction notes an item under a topic; once the outermost transaction has committed, the
handler registered for the topic is awaited with the items — at the end of
:meth:`Database.transaction`, before it returns to its caller; for a session committed some
other way, in a task started at the commit (:meth:`Database.settle` waits for those). Nothing
runs for a rollback; notes of a topic without a handler (a CLI process with no server around
it) are dropped.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
# How long /readyz keeps saying "full" / "read-only" after a write failed so, unless a write
# succeeds first (a full disk or read-only file is only seen when something is written).
WRITE_FAILURE_MEMORY = 30.0


def database_failure(exc: BaseException) -> str | None:
    """What a database error says about the database, when it is not the request's fault:
    ``"full"`` (SQLITE_FULL: disk or size limit), ``"read-only"`` (SQLITE_READONLY: file,
    folder or mount), ``"busy"`` (locked past the busy timeout) or ``"unreachable"`` (no
    connection: PostgreSQL down or restarting). None for anything else (a bug, a constraint)."""
    if isinstance(exc, IntegrityError):
        return None
    if isinstance(exc, DBAPIError):
        text_ = str(exc.orig if exc.orig is not None else exc).lower()
        if "full" in text_ and ("disk" in text_ or "database" in text_):
            return "full"
        if "readonly" in text_ or "read-only" in text_:
            return "read-only"
        if "database is locked" in text_:
            return "busy"
        if exc.connection_invalidated:
            return "unreachable"
        server = not isinstance(exc.orig, sqlite3.Error)  # PostgreSQL: the link, not the file
        return (
            "unreachable" if server and isinstance(exc, OperationalError | InterfaceError) else None
        )
    return None


def async_url(url: str) -> str:
    """The SQLAlchemy URL for the async drivers (aiosqlite, psycopg)."""
    return _with_driver(url, sqlite="sqlite+aiosqlite", postgres="postgresql+psycopg")


def sync_url(url: str) -> str:
    """The SQLAlchemy URL for the sync drivers (sqlite3, psycopg), used by migrations."""
    return _with_driver(url, sqlite="sqlite", postgres="postgresql+psycopg")


def _with_driver(url: str, *, sqlite: str, postgres: str) -> str:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername=sqlite).render_as_string(hide_password=False)
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername=postgres).render_as_string(hide_password=False)
    raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def install_sqlite_pragmas(engine: Any) -> None:
    """WAL journal, a busy timeout and foreign keys on every new SQLite connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


ChangeKey = Callable[[object], Hashable | None]
ChangeListener = Callable[[set[Hashable]], None]


@dataclass(frozen=True)
class _Watch:
    key: ChangeKey
    listener: ChangeListener


_WROTE = "dingbridge_wrote"  # Session.info entry: this transaction flushed a change
_CHANGED = "dingbridge_changed"  # Session.info entry: {watch index: keys} of this transaction
_NOTES = "dingbridge_notes"  # Session.info entry: {topic: [items]} noted in this transaction
_MANAGED = "dingbridge_managed"  # Session.info flag: Database.transaction runs the notes
AfterCommit = Callable[[list[Any]], Awaitable[None]]


class Database:
    """The app's engine and session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"pool_pre_ping": not is_sqlite(url)}
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        if is_sqlite(url):
            install_sqlite_pragmas(self.engine.sync_engine)
        self._watches: list[_Watch] = []
        database = make_url(url).database if is_sqlite(url) else None
        self._sqlite_file = database if database and database != ":memory:" else None
        self._probe: sqlite3.Connection | None = None
        self._write_failure: tuple[str, float] | None = None
        # A session class of this database's own, so its change listeners see only its sessions.
        tracked: type[Session] = type("TrackedSession", (Session,), {})
        event.listen(tracked, "after_flush", self._collect)
        event.listen(tracked, "after_commit", self._committed)
        event.listen(tracked, "after_rollback", self._rolled_back)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=tracked
        )
        self._after_commit: dict[str, AfterCommit] = {}
        self._running: set[asyncio.Task[None]] = set()

    # -- async work after a commit ------------------------------------------------------------
    @staticmethod
    def note(session: AsyncSession | Session, topic: str, item: Any) -> None:
        """Ask for ``topic``'s handler to be awaited with ``item`` once this transaction has
        committed (see the module docstring)."""
        notes: dict[str, list[Any]] = session.info.setdefault(_NOTES, {})
        notes.setdefault(topic, []).append(item)

    def after_commit(self, topic: str, handler: AfterCommit) -> None:
        """Await ``handler(items)`` after each commit of a transaction that noted ``topic``
        items (one handler per topic; a second registration replaces the first)."""
        self._after_commit[topic] = handler

    async def _run_notes(self, notes: dict[str, list[Any]]) -> None:
        for topic, items in notes.items():
            handler = self._after_commit.get(topic)
            if handler is None:
                log.debug("no handler for %d %r note(s): dropped", len(items), topic)
                continue
            try:
                await handler(items)
            except Exception:  # committed already: log, let the other topics run
                log.exception("after-commit handler for %r failed", topic)

    async def settle(self) -> None:
        """Wait for the after-commit work of sessions committed outside :meth:`transaction`."""
        while pending := [task for task in self._running if not task.done()]:
            await asyncio.gather(*pending, return_exceptions=True)

    def on_commit(self, key: ChangeKey, listener: ChangeListener) -> None:
        """After each commit that changed ORM objects, call ``listener`` with the set of
        ``key(obj)`` for them (``None`` keys left out). Both run synchronously inside the
        session's flush and commit: no I/O, no awaiting."""
        self._watches.append(_Watch(key, listener))

    def note_failure(self, kind: str) -> None:
        """A request failed with :func:`database_failure` ``kind``: /readyz tells for a while."""
        if kind in ("full", "read-only"):
            self._write_failure = (kind, time.monotonic())

    def write_failure(self) -> str | None:
        """ "full" or "read-only" when a write failed so lately and none has succeeded since."""
        if self._write_failure is None:
            return None
        kind, when = self._write_failure
        if time.monotonic() - when > WRITE_FAILURE_MEMORY:
            self._write_failure = None
            return None
        return kind

    def _collect(self, session: Session, _flush_context: object) -> None:
        session.info[_WROTE] = True
        if not self._watches:
            return
        objects = [*session.new, *session.dirty, *session.deleted]
        if not objects:
            return
        changed: dict[int, set[Hashable]] = session.info.setdefault(_CHANGED, {})
        for index, watch in enumerate(self._watches):
            keys = changed.setdefault(index, set())
            keys.update(k for k in map(watch.key, objects) if k is not None)

    @staticmethod
    def _rolled_back(session: Session) -> None:
        if not session.in_nested_transaction():
            session.info.pop(_CHANGED, None)
            session.info.pop(_NOTES, None)
            session.info.pop(_WROTE, None)

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint: the outer transaction may still roll back
        if session.info.pop(_WROTE, False):
            self._write_failure = None  # writing works again
        changed: dict[int, set[Hashable]] = session.info.pop(_CHANGED, {})
        for index, keys in changed.items():
            if keys:
                try:
                    self._watches[index].listener(keys)
                except Exception:  # a cache must not fail a committed transaction
                    log.exception("commit listener failed")
        if not session.info.get(_MANAGED) and (notes := session.info.pop(_NOTES, None)):
            try:
                task = asyncio.get_running_loop().create_task(self._run_notes(notes))
            except RuntimeError:  # no loop (a synchronous session): nobody to run them
                log.warning("after-commit notes dropped: no event loop")
                return
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def session(self) -> AsyncSession:
        """A new session; use ``async with db.session() as s, s.begin(): ...``."""
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success, rolled back on error; the
        after-commit work noted in it (:meth:`note`) is done before this returns."""
        async with self._sessions() as session:
            session.info[_MANAGED] = True
            async with session.begin():
                yield session
            notes = session.info.pop(_NOTES, None)
        if notes:
            await self._run_notes(notes)

    async def ping(self) -> None:
        """Raise when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    def data_version(self) -> int | None:
        """SQLite: a number that changes whenever another connection (any process, this one's
        engine included) commits to the database file: ``PRAGMA data_version`` on a private
        connection, read synchronously (a few microseconds, no thread hop, no lock: WAL). ``None``
        for PostgreSQL, an in-memory database, or when it cannot be read just now."""
        if self._sqlite_file is None:
            return None
        try:
            if self._probe is None:
                self._probe = sqlite3.connect(
                    Path(self._sqlite_file).resolve().as_uri() + "?mode=rw",
                    uri=True,
                    timeout=0.05,
                    isolation_level=None,
                    check_same_thread=False,
                )
            row = self._probe.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            self._close_probe()
            return None
        return int(row[0])

    def _close_probe(self) -> None:
        if self._probe is not None:
            self._probe.close()
            self._probe = None

    async def dispose(self) -> None:
        await self.settle()
        self._close_probe()
        await self.engine.dispose()
