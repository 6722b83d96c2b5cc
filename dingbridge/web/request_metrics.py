"""Prometheus metrics of the HTTP server itself: requests by method and status class."""

from __future__ import annotations

from dingbridge.logs import ASGIApp, RequestEndHook, Scope
from dingbridge.metrics import ServerMetrics


class RequestMetricsMiddleware(RequestEndHook):
    """Counts each HTTP request by method and status class and observes its duration, in the
    app's own :class:`ServerMetrics` (several apps in one process keep separate counts)."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        super().__init__(app)
        self.metrics = metrics

    def request_finished(self, scope: Scope, status: int, seconds: float) -> None:
        self.metrics.http_request(scope["method"], status, seconds)
