"""Run the server with uvicorn (uvloop and httptools where installed)."""

from __future__ import annotations

import importlib.util

from dingbridge.settings import Settings


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
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        access_log=False,
        log_config=None,
        proxy_headers=True,
        server_header=False,
    )
