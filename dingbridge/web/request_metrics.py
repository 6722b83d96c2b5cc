"""Prometheus metrics of the HTTP server itself: requests by method and status class."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from dingbridge.logs import RequestEndHook, Scope

REQUESTS = Counter("dingbridge_http_requests_total", "HTTP requests served", ["method", "status"])
LATENCY = Histogram("dingbridge_http_request_seconds", "HTTP request duration", ["method"])


class RequestMetricsMiddleware(RequestEndHook):
    """Counts each HTTP request by method and status class and observes its duration."""

    def request_finished(self, scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in ("GET", "POST", "HEAD") else "OTHER"
        REQUESTS.labels(method, f"{status // 100}xx").inc()
        LATENCY.labels(method).observe(seconds)
