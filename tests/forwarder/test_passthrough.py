"""The seed's three routes, prefix strip, and byte-exact pass-through both ways."""

from __future__ import annotations

import json

from tests.forwarder.conftest import RawClient, StartForwarder, raw_request
from tests.forwarder.fake_upstream import RecordedRequest, Reply, json_reply

# DingTalk's two error styles, exactly as the hosts send them.
OAPI_ERROR = '{"errcode":40014,"errmsg":"不合法的access_token"}'.encode()
API_ERROR = (
    b'{"requestid":"5D4F8C2E-1A2B-4C3D-9E8F-001122334455","code":"InvalidAuthentication",'
    b'"message":"\xe4\xb8\x8d\xe5\x90\x88\xe6\xb3\x95\xe7\x9a\x84accessToken"}'
)


async def test_each_route_strips_its_prefix_and_reaches_its_upstream(
    start_forwarder: StartForwarder,
) -> None:
    running = await start_forwarder()
    await running.get("/oapi-dingtalk-com/gettoken?appkey=k&appsecret=s")
    await running.get("/api-dingtalk-com/v1.0/contact/users/me")
    await running.get("/topapi/v2/user/get?access_token=t")
    await running.get("/oapi-dingtalk-com")  # no trailing slash: the "/" location, unchanged
    oapi_targets = [r.target for r in running.oapi.requests]
    assert oapi_targets == [
        "/gettoken?appkey=k&appsecret=s",
        "/topapi/v2/user/get?access_token=t",
        "/oapi-dingtalk-com",
    ]
    assert [r.target for r in running.api.requests] == ["/v1.0/contact/users/me"]


async def test_host_header_is_the_upstream_and_sni_is_sent(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    await running.get("/api-dingtalk-com/v1.0/x", headers="Host: evil.example\r\n")
    request = running.api.requests[0]
    assert request.header("Host") == f"localhost:{running.api.port}"
    assert [name for name in request.header_names() if name == "host"] == ["host"]
    assert request.sni == "localhost"


async def test_query_string_is_passed_byte_for_byte(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    query = "?a=%E4%B8%AD&b=1+2&c=%2F&empty=&flag&dup=1&dup=2&x=a%26b"
    await running.get("/oapi-dingtalk-com/topapi/list" + query)
    assert running.oapi.requests[0].target == "/topapi/list" + query


async def test_request_headers_and_body_reach_the_upstream_unchanged(
    start_forwarder: StartForwarder,
) -> None:
    running = await start_forwarder()
    body = json.dumps({"userid": "user001", "language": "zh_CN"}).encode()
    raw = (
        b"POST /oapi-dingtalk-com/topapi/v2/user/get?access_token=tok HTTP/1.1\r\n"
        b"Host: fwd\r\nContent-Type: application/json\r\nX-Acs-Dingtalk-Access-Token: abc\r\n"
        b"X-Custom: One\r\nX-Custom: Two\r\nConnection: keep-alive, X-Hop\r\nX-Hop: drop me\r\n"
        b"Keep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\nTE: trailers\r\n"
        b"Upgrade-Insecure-Requests: 1\r\n"
        b"Content-Length: %d\r\n\r\n%b" % (len(body), body)
    )
    reply = await raw_request(running.port, raw)
    assert reply.status == 200
    request = running.oapi.requests[0]
    assert request.body == body
    assert request.header("Content-Length") == str(len(body))
    assert request.header("X-Acs-Dingtalk-Access-Token") == "abc"
    assert [v for k, v in request.headers if k == "X-Custom"] == ["One", "Two"]
    names = request.header_names()
    for hop in ("connection", "keep-alive", "proxy-authorization", "te", "x-hop"):
        assert hop not in names
    assert "upgrade-insecure-requests" in names  # an end-to-end header that merely starts alike


async def test_chunked_request_body_is_streamed_upstream(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()
    raw = (
        b"POST /api-dingtalk-com/v1.0/oauth2/accessToken HTTP/1.1\r\nHost: f\r\n"
        b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n3\r\n1}\n\r\n0\r\n\r\n'
    )
    reply = await raw_request(running.port, raw)
    assert reply.status == 200
    request = running.api.requests[0]
    assert request.body == b'{"a":1}\n'
    assert request.header("Transfer-Encoding") == "chunked"


async def test_dingtalk_error_styles_pass_through_byte_exact(
    start_forwarder: StartForwarder,
) -> None:
    async def oapi(request: RecordedRequest) -> Reply:
        reply = json_reply(OAPI_ERROR)
        reply.headers.append(("Server", "DingTalk/1.0.0"))
        return reply

    async def api(request: RecordedRequest) -> Reply:
        return Reply(
            400,
            "Bad Request",
            [
                ("Content-Type", "application/json;charset=utf-8"),
                ("x-acs-request-id", "5D4F8C2E"),
                ("x-acs-trace-id", "abc123"),
                ("Content-Length", str(len(API_ERROR))),
            ],
            API_ERROR,
        )

    running = await start_forwarder(oapi_handler=oapi, api_handler=api)
    reply = await running.get("/topapi/v2/user/getuserinfo?access_token=bad")
    assert (reply.status, reply.reason, reply.body) == (200, "OK", OAPI_ERROR)
    assert reply.header("Server") == "DingTalk/1.0.0"
    assert reply.header("Content-Type") == "application/json;charset=UTF-8"
    reply = await running.get("/api-dingtalk-com/v1.0/contact/users/me")
    assert (reply.status, reply.reason, reply.body) == (400, "Bad Request", API_ERROR)
    assert reply.header("x-acs-request-id") == "5D4F8C2E"
    assert reply.header("x-acs-trace-id") == "abc123"
    assert reply.header("Content-Length") == str(len(API_ERROR))


async def test_chunked_response_is_reframed_and_hop_headers_dropped(
    start_forwarder: StartForwarder,
) -> None:
    async def parts() -> object:
        for part in (b'{"errcode":', b"0,", b'"errmsg":"ok"}'):
            yield part

    async def oapi(request: RecordedRequest) -> Reply:
        return Reply(
            200,
            "OK",
            [
                ("Content-Type", "application/json"),
                ("Transfer-Encoding", "chunked"),
                ("Connection", "keep-alive, X-Secret-Hop"),
                ("X-Secret-Hop", "1"),
                ("Keep-Alive", "timeout=60"),
            ],
            chunks=parts(),  # type: ignore[arg-type]
        )

    running = await start_forwarder(oapi_handler=oapi)
    reply = await running.get("/gettoken")
    assert reply.body == b'{"errcode":0,"errmsg":"ok"}'
    names = [k.lower() for k, _ in reply.headers]
    assert "x-secret-hop" not in names and "keep-alive" not in names
    assert reply.header("Transfer-Encoding") == "chunked"


async def test_http10_client_gets_a_close_delimited_body(start_forwarder: StartForwarder) -> None:
    async def parts() -> object:
        yield b"hello "
        yield b"world"

    async def oapi(request: RecordedRequest) -> Reply:
        return Reply(200, "OK", [("Transfer-Encoding", "chunked")], chunks=parts())  # type: ignore[arg-type]

    running = await start_forwarder(oapi_handler=oapi)
    client = await RawClient.connect(running.port)
    await client.send(b"GET /x HTTP/1.0\r\n\r\n")
    data = await client.reader.read()
    await client.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert body == b"hello world"
    assert b"transfer-encoding" not in head.lower()


async def test_head_request_returns_headers_only_and_keeps_the_connection(
    start_forwarder: StartForwarder,
) -> None:
    async def oapi(request: RecordedRequest) -> Reply:
        reply = json_reply(b'{"errcode":0}')
        if request.method == "HEAD":
            reply.body = b""
        return reply

    running = await start_forwarder(oapi_handler=oapi)
    client = await RawClient.connect(running.port)
    reply = await client.request(b"HEAD /gettoken HTTP/1.1\r\nHost: f\r\n\r\n", head_request=True)
    assert reply.status == 200 and reply.header("Content-Length") == "13"
    reply = await client.request(b"GET /gettoken HTTP/1.1\r\nHost: f\r\n\r\n")
    assert reply.body == b'{"errcode":0}'
    await client.close()


async def test_pipelined_requests_are_answered_in_order(start_forwarder: StartForwarder) -> None:
    async def oapi(request: RecordedRequest) -> Reply:
        return json_reply(request.target.encode())

    running = await start_forwarder(oapi_handler=oapi)
    client = await RawClient.connect(running.port)
    await client.send(b"".join(b"GET /n%d HTTP/1.1\r\nHost: f\r\n\r\n" % i for i in range(5)))
    bodies = [(await client.read_reply()).body for _ in range(5)]
    await client.close()
    assert bodies == [b"/n%d" % i for i in range(5)]


async def test_expect_continue_is_answered_and_not_forwarded(
    start_forwarder: StartForwarder,
) -> None:
    running = await start_forwarder()
    client = await RawClient.connect(running.port)
    await client.send(
        b"POST /gettoken HTTP/1.1\r\nHost: f\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    )
    interim = await client.reader.readuntil(b"\r\n\r\n")
    assert interim.startswith(b"HTTP/1.1 100")
    reply = await client.request(b"{}")
    await client.close()
    assert reply.status == 200
    assert running.oapi.requests[0].body == b"{}"
    assert "expect" not in running.oapi.requests[0].header_names()
