"""The ASGI forwarder the server mounts: same routes, guard, pass-through and errors."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import pytest

from dingbridge.forwarder.access_log import ACCESS_LOGGER
from dingbridge.forwarder.asgi import ForwarderApp, create_forwarder_app
from dingbridge.forwarder.settings import ForwarderSettings
from tests.forwarder.fake_upstream import (
    FakeUpstream,
    LocalCA,
    RecordedRequest,
    Reply,
    json_reply,
    unused_port,
)

API_ERROR = b'{"code":"InvalidAuthentication","message":"bad token","requestid":"r-1"}'


async def api_handler(request: RecordedRequest) -> Reply:
    if request.target.startswith("/v1.0/bad"):
        return Reply(
            400,
            "Bad Request",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(API_ERROR))),
                ("x-acs-request-id", "r-1"),
            ],
            API_ERROR,
        )
    return json_reply(json.dumps({"target": request.target, "size": request.body_size}).encode())


@pytest.fixture
async def mounted(test_ca: LocalCA) -> AsyncIterator[tuple[ForwarderApp, FakeUpstream]]:
    upstream = await FakeUpstream(api_handler, test_ca.server_context).start()
    settings = dataclasses.replace(
        ForwarderSettings(),
        oapi=upstream.url("localhost"),
        api=upstream.url("localhost"),
        ca_file=str(test_ca.ca_file),
        token="tok-9",
    )
    app = create_forwarder_app(settings)
    yield app, upstream
    await app.aclose()
    await upstream.close()


async def call(
    app: ForwarderApp,
    method: str,
    path: str,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: list[bytes] | None = None,
    client: str = "127.0.0.1",
) -> tuple[int, dict[str, str], bytes]:
    chunks = list(body or [b""])
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": [(b"host", b"server.example"), *(headers or [])],
        "client": (client, 50000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    start = sent[0]
    response_headers = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], response_headers, b"".join(m.get("body", b"") for m in sent[1:])


TOKEN = [(b"x-dingbridge-token", b"tok-9")]


async def test_asgi_routes_both_prefixes_with_query_and_body(
    mounted: tuple[ForwarderApp, FakeUpstream],
) -> None:
    app, upstream = mounted
    status, _, body = await call(
        app, "GET", "/oapi-dingtalk-com/gettoken", b"appkey=a&appsecret=b", TOKEN
    )
    assert status == 200 and json.loads(body)["target"] == "/gettoken?appkey=a&appsecret=b"
    status, _, body = await call(
        app,
        "POST",
        "/api-dingtalk-com/v1.0/oauth2/accessToken",
        b"",
        [*TOKEN, (b"content-type", b"application/json"), (b"content-length", b"7")],
        [b'{"a":', b"1}"],
    )
    assert status == 200
    assert json.loads(body) == {"target": "/v1.0/oauth2/accessToken", "size": 7}
    recorded = upstream.requests[1]
    assert recorded.body == b'{"a":1}'
    assert recorded.header("Host") == f"localhost:{upstream.port}"
    assert "x-dingbridge-token" not in recorded.header_names()
    assert recorded.sni == "localhost"


async def test_asgi_passes_api_errors_through(mounted: tuple[ForwarderApp, FakeUpstream]) -> None:
    app, _ = mounted
    status, headers, body = await call(app, "GET", "/api-dingtalk-com/v1.0/bad", headers=TOKEN)
    assert (status, body) == (400, API_ERROR)
    assert headers["x-acs-request-id"] == "r-1"


async def test_asgi_refuses_tricks_token_and_unmounted_paths(
    mounted: tuple[ForwarderApp, FakeUpstream],
) -> None:
    app, upstream = mounted
    assert (await call(app, "GET", "/api-dingtalk-com/v1.0/x"))[0] == 401
    assert (await call(app, "GET", "/api-dingtalk-com/v1.0/%2e%2e/x", headers=TOKEN))[0] == 400
    assert (await call(app, "GET", "/gettoken", headers=TOKEN))[0] == 404
    assert (await call(app, "GET", "/healthz", headers=TOKEN))[0] == 404
    assert upstream.requests == []


async def test_asgi_upstream_down_is_502_json_and_logged_without_secrets(
    test_ca: LocalCA, caplog: pytest.LogCaptureFixture
) -> None:
    dead = unused_port()
    app = create_forwarder_app(
        dataclasses.replace(
            ForwarderSettings(), api=f"https://127.0.0.1:{dead}", ca_file=str(test_ca.ca_file)
        )
    )
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    try:
        status, _, body = await call(app, "GET", "/api-dingtalk-com/v1.0/x", b"access_token=AT-77")
    finally:
        await app.aclose()
    assert status == 502 and json.loads(body)["error"] == "connection_refused"
    assert "AT-77" not in caplog.text and "status=502" in caplog.text
