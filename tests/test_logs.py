"""The HTTP access line and request metrics: one line per request, secrets redacted."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from dingbridge.logs import AccessLogMiddleware, Message
from dingbridge.metrics import ServerMetrics
from dingbridge.web.request_metrics import RequestMetricsMiddleware
from tests.sim.asgi_call import call


async def answer_204(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def server_errors_counted(metrics: ServerMetrics) -> float:
    labels = {"method": "GET", "status": "5xx"}
    return metrics.registry.get_sample_value("dingbridge_http_requests_total", labels) or 0.0


async def raise_before_answering(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("boom")


async def test_access_line_names_the_request_without_its_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dingbridge.access")
    query = {"appkey": "dingpublic", "appsecret": "AS-9911", "code": "CODE-4242", "lang": "zh"}
    app = AccessLogMiddleware(answer_204)
    answer = await call(app, "GET", "/cb", query=query, peer="127.0.0.9")
    assert answer.status == 204
    [line] = [r.getMessage() for r in caplog.records if r.name == "dingbridge.access"]
    assert line.startswith("GET /cb?appkey=dingpublic&appsecret=***&code=***&lang=zh 204 ")
    assert line.endswith("ms 127.0.0.9")
    assert "AS-9911" not in caplog.text and "CODE-4242" not in caplog.text


async def test_a_request_that_raises_is_logged_and_counted_as_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dingbridge.access")
    metrics = ServerMetrics()
    app = AccessLogMiddleware(RequestMetricsMiddleware(raise_before_answering, metrics))
    with pytest.raises(RuntimeError):
        await call(app, "GET", "/boom")
    assert server_errors_counted(metrics) == 1
    [line] = [r.getMessage() for r in caplog.records if r.name == "dingbridge.access"]
    assert line.startswith("GET /boom 500 ")


async def test_other_scope_types_pass_straight_through() -> None:
    seen: list[str] = []

    async def lifespan_app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        return None

    await AccessLogMiddleware(RequestMetricsMiddleware(lifespan_app, ServerMetrics()))(
        {"type": "lifespan"}, receive, send
    )
    assert seen == ["lifespan"]
