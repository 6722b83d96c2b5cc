"""Logging: one setup for the server, one line per request, secrets redacted.

The request line names method, path (query values redacted), status, duration and client. Setup
links, session ids, AppSecrets and codes never reach the logging module: code that holds them
passes them around but never logs them; this module's filter is a second line of defence.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from dingbridge.redact import redact_target, redact_text

log = logging.getLogger(__name__)
access_log = logging.getLogger("dingbridge.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secret-looking values masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str = "INFO", stream: Any = None) -> None:
    """Configure the root logger once (idempotent): plain lines on stderr, redacted."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:
        if getattr(handler, "_dingbridge", False):
            return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter())
    handler._dingbridge = True  # type: ignore[attr-defined]
    root.addHandler(handler)


class RequestEndHook:
    """ASGI middleware base: after each HTTP request, ``request_finished(scope, status, seconds)``.

    ``status`` is the answer's status, or 500 when the app raised before starting one.
    Other scope types (lifespan, websocket) pass straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            self.request_finished(scope, status, time.perf_counter() - started)

    def request_finished(self, scope: Scope, status: int, seconds: float) -> None:
        raise NotImplementedError


class AccessLogMiddleware(RequestEndHook):
    """Logs one line per HTTP request: ``GET /admin/spaces 200 3.1ms 127.0.0.1``."""

    def request_finished(self, scope: Scope, status: int, seconds: float) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        target = redact_target(scope["path"] + (f"?{query}" if query else ""))
        client = scope.get("client")
        access_log.info(
            "%s %s %d %.1fms %s",
            scope["method"],
            target,
            status,
            seconds * 1000,
            client[0] if client else "-",
        )
