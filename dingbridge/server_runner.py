"""Run the server with uvicorn (uvloop and httptools where installed)."""

from __future__ import annotations

import importlib.util
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from dingbridge.settings import Settings

if TYPE_CHECKING:
    from dingbridge.context import AppContext
    from dingbridge.spaces.directory_sync import SyncReport

T = TypeVar("T")


def event_loop_choice(platform: str = sys.platform) -> str:
    """uvicorn's ``loop`` setting: uvloop where installed; on Windows the selector loop, since
    uvicorn would pick the Proactor loop there and psycopg's async mode (PostgreSQL) refuses it."""
    if importlib.util.find_spec("uvloop"):
        return "uvloop"
    return "asyncio:SelectorEventLoop" if platform == "win32" else "asyncio"


def http_protocol() -> Any:
    """uvicorn's ``http`` setting: the guarded httptools protocol (head and body limits, a
    deadline for the request head: :mod:`dingbridge.http_guard`); h11 where httptools is not
    installed (its own 64 KiB head limit, no head deadline)."""
    if importlib.util.find_spec("httptools"):
        from dingbridge.http_guard import GuardedHttpToolsProtocol

        return GuardedHttpToolsProtocol
    return "h11"


class PortInUse(OSError):
    """The port to listen on is taken (or the address is not this machine's)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        super().__init__(f"cannot listen on {host}:{port}: {reason}")
        self.host, self.port, self.reason = host, port, reason


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, made before anything else starts, so a busy port is
    known before the database is touched; uvicorn serves on it. :class:`PortInUse` if taken.

    ``SO_REUSEADDR`` (not on Windows, where it would let another program share the port) lets
    a quick restart reuse a port whose old connections linger in TIME_WAIT, as uvicorn does.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if sys.platform != "win32":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(host, port, exc.strerror or str(exc)) from None
    return sock


def run_server(settings: Settings, sock: socket.socket | None = None) -> None:
    """Serve until stopped, on ``sock`` when given (see :func:`listening_socket`)."""
    import uvicorn

    from dingbridge.app import create_app
    from dingbridge.logs import setup_logging

    setup_logging(settings.log_level)
    sock = sock or listening_socket(settings.host, settings.port)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop=event_loop_choice(),
        http=http_protocol(),
        # Idle keep-alive connections close after 5 s (uvicorn's default, stated here). No
        # limit_concurrency: slow clients would count against it and crowd out real users;
        # the guard (dingbridge.http_guard) bounds what each connection may hold instead.
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=64 * 1024,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxy_list,
        server_header=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


def with_server_context(settings: Settings, work: Callable[[AppContext], Awaitable[T]]) -> T:
    """Run ``work`` with the server's context (its database and the KV named by the settings,
    so what it ends — sessions, app tokens, gate sessions — ends on the running servers too),
    for one command: no Stream connections, no schedule; closed again."""
    import asyncio
    from dataclasses import replace

    from dingbridge.app import create_app

    async def main() -> T:
        quiet = replace(settings, event_streams=False, directory_sync_hour=-1)
        app = create_app(quiet, announce=lambda _message: None)
        async with app.router.lifespan_context(app):
            context: AppContext = app.state.context
            return await work(context)

    return asyncio.run(main())


def run_directory_sync(settings: Settings, space_id: int, *, dry_run: bool) -> SyncReport:
    """``dingbridge member sync``: one run in the server's context."""
    from dingbridge.events.sync_run import run_sync

    async def work(context: AppContext) -> SyncReport:
        return await run_sync(context, space_id, dry_run=dry_run, actor="cli")

    return with_server_context(settings, work)


def set_member_status(settings: Settings, space_id: int, member_id: int, status: str) -> None:
    """``dingbridge member disable|enable``: a member disabled loses every session at once."""
    from dingbridge.spaces.members import set_member_status as set_status

    async def work(context: AppContext) -> None:
        async with context.db.transaction() as session:
            await set_status(session, space_id, member_id, status, actor="cli")

    with_server_context(settings, work)


def delete_member(settings: Settings, space_id: int, member_id: int) -> None:
    """``dingbridge member delete``: the member's sessions end, then the member is deleted."""
    from dingbridge.signin.member_sessions import delete_member as delete

    async def work(context: AppContext) -> None:
        await delete(context, space_id, member_id, actor="cli")

    with_server_context(settings, work)
