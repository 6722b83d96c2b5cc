"""Prometheus metrics of the HTTP server itself: requests by method and status class."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram

from dingbridge.logs import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter("dingbridge_http_requests_total", "HTTP requests served", ["method", "status"])
LATENCY = Histogram("dingbridge_http_request_seconds", "HTTP request duration", ["method"])


class RequestMetricsMiddleware:
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
            method = scope["method"] if scope["method"] in ("GET", "POST", "HEAD") else "OTHER"
            REQUESTS.labels(method, f"{status // 100}xx").inc()
            LATENCY.labels(method).observe(time.perf_counter() - started)
