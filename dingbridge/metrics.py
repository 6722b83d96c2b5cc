"""The server's own Prometheus metrics: DingTalk calls, token fetches, sign-ins, bindings.

One :class:`ServerMetrics` per app (``create_app``), each with its own ``CollectorRegistry``,
so several apps in one process (the tests) never share counts or collide on names; the
``/metrics`` route renders it after the default registry (the process and Python collectors;
HTTP request counts are in this registry too, see ``web/request_metrics.py``).

Every label value is bounded: endpoints are the API paths our code calls (the two with an id in
the path are reduced to their template), outcomes are "ok", "transport:<kind>" or DingTalk's
error code (checked for shape, and past :data:`MAX_SERIES` new values count as "other"),
flows, results and policies are fixed words. Never a userid, mobile, code, token or space id.

==============================================  =====================================
``dingbridge_dingtalk_calls_total``             {endpoint, outcome}, per HTTP attempt
``dingbridge_dingtalk_call_seconds``            histogram {endpoint}
``dingbridge_dingtalk_token_fetches_total``     {kind, outcome}: app tokens, JSAPI tickets
``dingbridge_signins_total``                    {flow, result}
``dingbridge_bindings_total``                   {policy, result}
``dingbridge_dingtalk_paced_waits_total``       {budget}: calls that waited for a turn
``dingbridge_dingtalk_paced_wait_seconds``      histogram {budget}: how long they waited
``dingbridge_dingtalk_paced_refusals_total``    {budget}: calls not sent (turn too far)
==============================================  =====================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["MAX_SERIES", "ServerMetrics", "call_endpoint", "call_outcome"]

MAX_SERIES = 500
"""Distinct (endpoint, outcome) pairs kept; later new ones are counted with outcome "other"."""

_TEMPLATES = (
    (re.compile(r"/v1\.0/oauth2/[^/]+/token"), "/v1.0/oauth2/{corpId}/token"),
    (re.compile(r"/v1\.0/contact/users/(?!me$)[^/]+"), "/v1.0/contact/users/{unionId}"),
)
_STATIC_PATH = re.compile(r"/[A-Za-z0-9_./-]{1,100}")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_TRANSPORT_KINDS = frozenset({"connect", "timeout", "tls", "dropped"})
TOKEN_KINDS = {
    "/gettoken": "app_token",
    "/v1.0/oauth2/accessToken": "app_token",
    "/get_jsapi_ticket": "jsapi_ticket",
    "/v1.0/oauth2/jsapiTickets": "jsapi_ticket",
    "/v1.0/oauth2/{corpId}/token": "corp_token",
}
_LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def call_endpoint(path: str) -> str:
    """The endpoint label of a DingTalk API path: no query, ids replaced by their name."""
    path = path.split("?", 1)[0]
    if path.startswith("/v1.0/"):
        for pattern, template in _TEMPLATES:
            if pattern.fullmatch(path):
                return template
    return path if _STATIC_PATH.fullmatch(path) else "other"


def call_outcome(outcome: str) -> str:
    """The outcome label from the client's observer value ("ok", "transport:<kind>",
    "<ErrorClass>:<effective code>"): "ok", "transport:<kind>", the code (the error class
    when DingTalk gave none), or "error"."""
    if outcome == "ok":
        return outcome
    kind, _, code = outcome.partition(":")
    if kind == "transport":
        return outcome if code in _TRANSPORT_KINDS else "transport:other"
    if code and code != "None":
        return code if _CODE.fullmatch(code) else "other"
    return kind if kind and _CODE.fullmatch(kind) else "error"


@dataclass(frozen=True, slots=True)
class _CallSeries:
    counters: tuple[Counter, ...]
    latency: Histogram


class ServerMetrics:
    """The counters of one server app and the registry ``/metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.dingtalk_calls = Counter(
            "dingbridge_dingtalk_calls_total",
            "DingTalk HTTP calls (each attempt) by endpoint and outcome",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.dingtalk_seconds = Histogram(
            "dingbridge_dingtalk_call_seconds",
            "DingTalk HTTP call duration (each attempt)",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.token_fetches = Counter(
            "dingbridge_dingtalk_token_fetches_total",
            "App token and JSAPI ticket fetches from DingTalk (each attempt) by kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.signins = Counter(
            "dingbridge_signins_total",
            "Sign-in attempts by flow and result",
            ["flow", "result"],
            registry=self.registry,
        )
        self.bindings = Counter(
            "dingbridge_bindings_total",
            "Binding attempts (DingTalk user to member) by policy and result",
            ["policy", "result"],
            registry=self.registry,
        )
        self.work_notices = Counter(
            "dingbridge_work_notices_total",
            "DingTalk work notifications (binding, sync_stopped, stream_down) by result",
            ["kind", "result"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "dingbridge_http_requests_total",
            "HTTP requests served",
            ["method", "status"],
            registry=self.registry,
        )
        self.http_seconds = Histogram(
            "dingbridge_http_request_seconds",
            "HTTP request duration",
            ["method"],
            registry=self.registry,
        )
        self.paced_waits = Counter(
            "dingbridge_dingtalk_paced_waits_total",
            "DingTalk calls that waited for their turn under a shared budget (api: per app "
            "and API per second; egress: per egress address per 20 s)",
            ["budget"],
            registry=self.registry,
        )
        self.paced_wait_seconds = Histogram(
            "dingbridge_dingtalk_paced_wait_seconds",
            "Seconds DingTalk calls waited for their turn",
            ["budget"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.paced_refusals = Counter(
            "dingbridge_dingtalk_paced_refusals_total",
            "DingTalk calls not sent: their turn was further away than dingtalk_max_wait",
            ["budget"],
            registry=self.registry,
        )
        # label children looked up once: labels() takes a lock and builds a tuple every time
        self._calls: dict[tuple[str, str], _CallSeries] = {}

    def dingtalk_call(self, path: str, outcome: str, seconds: float) -> None:
        """The DingTalk client's ``observer``: one HTTP attempt."""
        series = self._calls.get((path, outcome))
        if series is None:
            series = self._series(path, outcome)
        for counter in series.counters:
            counter.inc()
        series.latency.observe(seconds)

    def _series(self, path: str, outcome: str) -> _CallSeries:
        endpoint = call_endpoint(path)
        label = call_outcome(outcome) if len(self._calls) < MAX_SERIES else "other"
        counters = [self.dingtalk_calls.labels(endpoint, label)]
        token_kind = TOKEN_KINDS.get(endpoint)
        if token_kind is not None:
            counters.append(self.token_fetches.labels(token_kind, label))
        series = _CallSeries(tuple(counters), self.dingtalk_seconds.labels(endpoint))
        if len(self._calls) < MAX_SERIES and endpoint == path:  # templated paths: not kept
            self._calls[(path, outcome)] = series
        return series

    def pacing(self, event: str, budget: str, seconds: float) -> None:
        """The DingTalk pacer: a call that waited ``seconds`` ("wait") or was refused."""
        budget = budget if budget in ("api", "egress") else "other"
        if event == "refused":
            self.paced_refusals.labels(budget).inc()
        else:
            self.paced_waits.labels(budget).inc()
            self.paced_wait_seconds.labels(budget).observe(seconds)

    def http_request(self, method: str, status: int, seconds: float) -> None:
        """One HTTP request the server answered (method folded to GET/POST/HEAD/OTHER)."""
        method = method if method in ("GET", "POST", "HEAD") else "OTHER"
        self.http_requests.labels(method, f"{status // 100}xx").inc()
        self.http_seconds.labels(method).observe(seconds)

    def signin(self, flow: str, result: str) -> None:
        self.signins.labels(flow, result).inc()

    def binding(self, policy: str, result: str) -> None:
        self.bindings.labels(policy, result).inc()

    def work_notice(self, kind: str, result: str) -> None:
        self.work_notices.labels(kind, result).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
