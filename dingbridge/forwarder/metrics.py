"""Forwarder metrics in the Prometheus text format, written by hand: counting is a dict update
on the hot path (prometheus-client's locked counters cost several times more per request)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ForwarderMetrics:
    """Requests by route and status, upstream latency histogram, connection gauges."""

    def __init__(self) -> None:
        self.requests: dict[tuple[str, int], int] = {}
        self.upstream_errors: dict[tuple[str, str], int] = {}
        self.latency_counts: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.client_connections = 0
        # name -> callable returning (in_use, idle); registered by each upstream pool.
        self.pool_gauges: dict[str, Callable[[], tuple[int, int]]] = {}

    def count_request(self, route: str, status: int) -> None:
        key = (route, status)
        self.requests[key] = self.requests.get(key, 0) + 1

    def count_upstream_error(self, upstream: str, error: str) -> None:
        key = (upstream, error)
        self.upstream_errors[key] = self.upstream_errors.get(key, 0) + 1

    def observe_upstream_latency(self, upstream: str, seconds: float) -> None:
        counts = self.latency_counts.get(upstream)
        if counts is None:
            counts = self.latency_counts[upstream] = [0] * (len(LATENCY_BUCKETS) + 1)
            self.latency_sum[upstream] = 0.0
        counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum[upstream] += seconds

    def render(self) -> bytes:
        """The Prometheus text exposition (version 0.0.4)."""
        out: list[str] = [
            "# HELP dingbridge_forward_requests_total Requests answered, by route and status.",
            "# TYPE dingbridge_forward_requests_total counter",
        ]
        for (route, status), value in sorted(self.requests.items()):
            out.append(
                f'dingbridge_forward_requests_total{{route="{route}",status="{status}"}} {value}'
            )
        out += [
            "# HELP dingbridge_forward_upstream_errors_total Upstream failures, by kind.",
            "# TYPE dingbridge_forward_upstream_errors_total counter",
        ]
        for (upstream, error), value in sorted(self.upstream_errors.items()):
            out.append(
                f'dingbridge_forward_upstream_errors_total{{upstream="{upstream}",'
                f'error="{error}"}} {value}'
            )
        out += [
            "# HELP dingbridge_forward_upstream_seconds Time from sending a request upstream to "
            "the end of its response.",
            "# TYPE dingbridge_forward_upstream_seconds histogram",
        ]
        for upstream, counts in sorted(self.latency_counts.items()):
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), counts, strict=True):
                cumulative += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(
                    f'dingbridge_forward_upstream_seconds_bucket{{upstream="{upstream}",'
                    f'le="{le}"}} {cumulative}'
                )
            out.append(
                f'dingbridge_forward_upstream_seconds_sum{{upstream="{upstream}"}} '
                f"{self.latency_sum[upstream]:.6f}"
            )
            out.append(
                f'dingbridge_forward_upstream_seconds_count{{upstream="{upstream}"}} {cumulative}'
            )
        out += [
            "# HELP dingbridge_forward_upstream_connections Upstream connections by state.",
            "# TYPE dingbridge_forward_upstream_connections gauge",
        ]
        for upstream, gauge in sorted(self.pool_gauges.items()):
            in_use, idle = gauge()
            out.append(
                f'dingbridge_forward_upstream_connections{{upstream="{upstream}",state="in_use"}} '
                f"{in_use}"
            )
            out.append(
                f'dingbridge_forward_upstream_connections{{upstream="{upstream}",state="idle"}} '
                f"{idle}"
            )
        out += [
            "# HELP dingbridge_forward_client_connections Open client connections.",
            "# TYPE dingbridge_forward_client_connections gauge",
            f"dingbridge_forward_client_connections {self.client_connections}",
        ]
        return ("\n".join(out) + "\n").encode("utf-8")
