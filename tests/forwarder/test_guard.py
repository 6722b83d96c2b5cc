"""Never an open proxy; optional caller token and CIDR allowlist."""

from __future__ import annotations

import pytest

from tests.forwarder.conftest import StartForwarder, raw_request


@pytest.mark.parametrize(
    ("request_line", "status", "error"),
    [
        ("CONNECT evil.example:443 HTTP/1.1", 405, "method_not_allowed"),
        ("CONNECT oapi.dingtalk.com:443 HTTP/1.1", 405, "method_not_allowed"),
        ("GET http://evil.example/steal HTTP/1.1", 403, "foreign_host"),
        ("GET https://evil.example:8443/oapi-dingtalk-com/gettoken HTTP/1.1", 403, "foreign_host"),
        ("GET http://user@127.0.0.1/gettoken HTTP/1.1", 400, "bad_target"),
        ("GET /oapi-dingtalk-com/../etc/passwd HTTP/1.1", 400, "bad_path"),
        ("GET /api-dingtalk-com/v1.0/%2e%2e/admin HTTP/1.1", 400, "bad_path"),
        ("GET /api-dingtalk-com/v1.0/%2E./admin HTTP/1.1", 400, "bad_path"),
        ("GET /oapi-dingtalk-com/./gettoken HTTP/1.1", 400, "bad_path"),
        ("GET /api-dingtalk-com/v1.0%2fcontact HTTP/1.1", 400, "bad_path"),
        ("GET /api-dingtalk-com/v1.0%2Fcontact HTTP/1.1", 400, "bad_path"),
        ("GET /oapi-dingtalk-com/a%5cb HTTP/1.1", 400, "bad_path"),
        ("GET /oapi-dingtalk-com/a%252e%252e/b HTTP/1.1", 400, "bad_path"),
        ("GET /oapi-dingtalk-com/a%00b HTTP/1.1", 400, "bad_path"),
        ("GET /oapi-dingtalk-com/a\\..\\b HTTP/1.1", 400, "bad_path"),
        ("OPTIONS * HTTP/1.1", 400, "bad_target"),
    ],
)
async def test_open_proxy_tricks_are_refused(
    start_forwarder: StartForwarder, request_line: str, status: int, error: str
) -> None:
    running = await start_forwarder()
    reply = await raw_request(
        running.port, f"{request_line}\r\nHost: evil.example\r\n\r\n".encode()
    )
    assert reply.status == status
    assert reply.json()["error"] == error
    assert reply.json()["detail"]
    assert running.oapi.requests == [] and running.api.requests == []


async def test_absolute_form_naming_this_forwarder_is_accepted(
    start_forwarder: StartForwarder,
) -> None:
    running = await start_forwarder(server_names=("dingtalk-forward.corp.example",))
    for host in ("127.0.0.1", "localhost", "dingtalk-forward.corp.example"):
        reply = await raw_request(
            running.port,
            f"GET http://{host}:{running.port}/oapi-dingtalk-com/gettoken?x=1 HTTP/1.1\r\n"
            f"Host: {host}\r\n\r\n".encode(),
        )
        assert reply.status == 200
    assert [r.target for r in running.oapi.requests] == ["/gettoken?x=1"] * 3


async def test_host_header_naming_another_host_is_ignored(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    reply = await running.get("/gettoken", headers="Host: api.evil.example\r\n")
    assert reply.status == 200
    assert running.oapi.requests[0].header("Host") == f"localhost:{running.oapi.port}"


async def test_two_host_headers_are_refused(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    reply = await raw_request(
        running.port, b"GET /gettoken HTTP/1.1\r\nHost: a\r\nHost: evil.example\r\n\r\n"
    )
    assert reply.status == 400 and reply.json()["error"] == "bad_host"


async def test_smuggling_framing_is_refused(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    reply = await raw_request(
        running.port,
        b"POST /gettoken HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    )
    assert reply.status == 400 and reply.json()["error"] == "bad_request"
    assert running.oapi.requests == []


async def test_token_is_required_compared_and_stripped(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(token="s3cret-token")
    missing = await running.get("/gettoken")
    wrong = await running.get("/gettoken", headers="X-Dingbridge-Token: nope\r\n")
    right = await running.get("/gettoken", headers="X-Dingbridge-Token: s3cret-token\r\n")
    assert (missing.status, missing.json()["error"]) == (401, "unauthorized")
    assert wrong.status == 401
    assert right.status == 200
    assert len(running.oapi.requests) == 1
    assert "x-dingbridge-token" not in running.oapi.requests[0].header_names()
    assert b"s3cret-token" not in missing.body + wrong.body


async def test_token_file_is_read(start_forwarder: StartForwarder, tmp_path: object) -> None:
    from pathlib import Path

    token_file = Path(str(tmp_path)) / "token"
    token_file.write_text("from-file\n", encoding="utf-8")
    running = await start_forwarder(token_file=str(token_file))
    assert (await running.get("/x", headers="X-Dingbridge-Token: from-file\r\n")).status == 200
    assert (await running.get("/x")).status == 401


async def test_cidr_allowlist_checks_the_peer_address(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(listen="0.0.0.0:0", allow=("127.0.0.2/32",))
    refused = await running.get("/gettoken", source="127.0.0.1")
    allowed = await running.get("/gettoken", source="127.0.0.2")
    assert refused.status == 403 and refused.json()["error"] == "forbidden"
    assert "127.0.0.1" in refused.json()["detail"]
    assert allowed.status == 200
    assert len(running.oapi.requests) == 1


async def test_cidr_allowlist_also_guards_reserved_paths(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(allow=("10.9.0.0/16",))
    assert (await running.get("/metrics")).status == 403
