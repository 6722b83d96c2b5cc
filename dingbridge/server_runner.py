"""Run the server with uvicorn (uvloop and httptools where installed)."""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING

from dingbridge.settings import Settings

if TYPE_CHECKING:
    from dingbridge.spaces.directory_sync import SyncReport


def event_loop_choice(platform: str = sys.platform) -> str:
    """uvicorn's ``loop`` setting: uvloop where installed; on Windows the selector loop, since
    uvicorn would pick the Proactor loop there and psycopg's async mode (PostgreSQL) refuses it."""
    if importlib.util.find_spec("uvloop"):
        return "uvloop"
    return "asyncio:SelectorEventLoop" if platform == "win32" else "asyncio"


def run_server(settings: Settings) -> None:
    import uvicorn

    from dingbridge.app import create_app
    from dingbridge.logs import setup_logging

    setup_logging(settings.log_level)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop=event_loop_choice(),
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=False,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )


def run_directory_sync(settings: Settings, space_id: int, *, dry_run: bool) -> SyncReport:
    """``dingbridge member sync``: the server's context (database, the KV named by the
    settings, so sessions end on the running servers too), one run, closed again."""
    import asyncio
    from dataclasses import replace

    from dingbridge.app import create_app
    from dingbridge.context import AppContext
    from dingbridge.events.sync_run import run_sync

    async def main() -> SyncReport:
        # One run: no Stream connections, no schedule in this process.
        quiet = replace(settings, event_streams=False, directory_sync_hour=-1)
        app = create_app(quiet, announce=lambda _message: None)
        async with app.router.lifespan_context(app):
            context: AppContext = app.state.context
            return await run_sync(context, space_id, dry_run=dry_run, actor="cli")

    return asyncio.run(main())
