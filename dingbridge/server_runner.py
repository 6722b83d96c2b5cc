"""Run the server with uvicorn (uvloop and httptools where installed)."""

from __future__ import annotations

import importlib.util
import sys

from dingbridge.settings import Settings


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
