"""Keep-alive reuse, streaming of large bodies, and 502/504 answers on upstream failures."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import tracemalloc

from tests.forwarder.conftest import RawClient, StartForwarder, raw_request
from tests.forwarder.fake_upstream import RecordedRequest, Reply, json_reply, unused_port


async def test_many_calls_reuse_few_upstream_connections(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder()

    async def caller(n: int) -> None:
        client = await RawClient.connect(running.port)
        for _ in range(n):
            reply = await client.request(b"GET /gettoken HTTP/1.1\r\nHost: f\r\n\r\n")
            assert reply.status == 200
        await client.close()

    await asyncio.gather(*(caller(25) for _ in range(4)))
    for _ in range(20):  # new client connection per call: upstream connections still reused
        assert (await running.get("/gettoken")).status == 200
    assert len(running.oapi.requests) == 120
    assert running.oapi.connections <= 4


async def test_large_bodies_stream_both_ways_without_being_buffered(
    start_forwarder: StartForwarder,
) -> None:
    size = 48 * 1024 * 1024  # far beyond any buffer (socket, pool replay, body buffer)
    chunk = b"x" * 65536
    received = {"bytes": 0}

    async def download(request: RecordedRequest) -> Reply:
        async def parts() -> object:
            for _ in range(size // len(chunk)):
                yield chunk

        return Reply(200, "OK", [("Transfer-Encoding", "chunked")], chunks=parts())  # type: ignore[arg-type]

    running = await start_forwarder(oapi_handler=download, max_body_bytes=size * 2)
    tracemalloc.start()
    try:
        client = await RawClient.connect(running.port)
        await client.send(b"GET /media/download HTTP/1.1\r\nHost: f\r\n\r\n")
        head = await client.reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        # read slowly at first: the forwarder must pause the upstream, not pile bytes up
        await asyncio.sleep(0.3)
        _, peak_while_stalled = tracemalloc.get_traced_memory()
        while True:
            line = await client.reader.readline()
            length = int(line.strip(), 16)
            data = await client.reader.readexactly(length + 2)
            received["bytes"] += length
            if length == 0:
                break
            del data
        _, peak = tracemalloc.get_traced_memory()
        await client.close()
    finally:
        tracemalloc.stop()
    assert received["bytes"] == size
    assert peak_while_stalled < 16 * 1024 * 1024
    assert peak < 24 * 1024 * 1024


async def test_large_request_body_is_streamed_upstream(start_forwarder: StartForwarder) -> None:
    size = 40 * 1024 * 1024
    running = await start_forwarder(max_body_bytes=size)
    client = await RawClient.connect(running.port)
    await client.send(
        b"POST /media/upload HTTP/1.1\r\nHost: f\r\nContent-Length: %d\r\n\r\n" % size
    )
    tracemalloc.start()
    block = b"y" * (1024 * 1024)
    for _ in range(size // len(block)):
        client.writer.write(block)
        await client.writer.drain()
    reply = await client.read_reply()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    await client.close()
    assert reply.status == 200
    assert running.oapi.requests[0].body_size == size
    assert running.oapi.requests[0].body_sha256 == hashlib.sha256(block * 40).hexdigest()
    assert peak < 12 * 1024 * 1024  # forwarder and fake upstream together, for 40 MiB sent


async def test_body_over_the_cap_is_refused_with_413(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(max_body_bytes=1000)
    reply = await raw_request(
        running.port, b"POST /x HTTP/1.1\r\nHost: f\r\nContent-Length: 5000\r\n\r\n"
    )
    assert reply.status == 413 and reply.json()["error"] == "body_too_large"
    client = await RawClient.connect(running.port)
    await client.send(b"POST /x HTTP/1.1\r\nHost: f\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(3):
        await client.send(b"200\r\n" + b"z" * 512 + b"\r\n")
    reply = await client.read_reply()
    await client.close()
    assert reply.status == 413 and reply.json()["error"] == "body_too_large"
    assert running.oapi.requests == []


async def test_upstream_down_gives_502_json(start_forwarder: StartForwarder) -> None:
    dead_port = unused_port()
    running = await start_forwarder(oapi=f"https://127.0.0.1:{dead_port}")
    reply = await running.get("/gettoken?appsecret=shh")
    assert reply.status == 502
    body = reply.json()
    assert body["error"] == "connection_refused"
    assert str(dead_port) in body["detail"]
    assert "Traceback" not in reply.body.decode() and "shh" not in reply.body.decode()


async def test_untrusted_certificate_gives_502_tls_error(start_forwarder: StartForwarder) -> None:
    running = await start_forwarder(ca_file=None)  # system CAs do not know the test CA
    reply = await running.get("/gettoken")
    assert reply.status == 502
    assert reply.json()["error"] == "tls_error"
    assert "certificate" in reply.json()["detail"].lower()


async def test_reset_before_reply_gives_502(start_forwarder: StartForwarder) -> None:
    async def reset(request: RecordedRequest) -> Reply:
        return Reply(close=True, status=200, reason="OK", headers=[("Content-Length", "100")])

    running = await start_forwarder(oapi_handler=reset)
    reply = await running.get("/gettoken")
    # the head arrived, the body did not: the reply is cut, never passed off as complete
    assert reply.status in (0, 200)
    assert len(reply.body) < 100


async def test_slow_upstream_gives_504_json(start_forwarder: StartForwarder) -> None:
    async def slow(request: RecordedRequest) -> Reply:
        return Reply(hang=True)

    running = await start_forwarder(oapi_handler=slow, read_timeout=0.3)
    reply = await running.get("/gettoken")
    assert reply.status == 504
    assert reply.json()["error"] == "read_timeout"


async def test_connect_timeout_gives_504(start_forwarder: StartForwarder) -> None:
    # a listening socket whose accept queue is full never completes new handshakes
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        running = await start_forwarder(oapi=f"https://127.0.0.1:{port}", connect_timeout=0.3)
        reply = await running.get("/gettoken")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
    assert reply.status == 504
    assert reply.json()["error"] == "connect_timeout"


async def test_stale_pooled_connection_is_retried_transparently(
    start_forwarder: StartForwarder,
) -> None:
    async def once_then_close(request: RecordedRequest) -> Reply:
        reply = json_reply(b'{"errcode":0}')
        reply.close = True  # closes after replying, without saying so
        return reply

    running = await start_forwarder(oapi_handler=once_then_close)
    for _ in range(3):
        reply = await running.get("/gettoken")
        assert reply.status == 200 and reply.body == b'{"errcode":0}'
    assert len(running.oapi.requests) == 3


async def test_pool_exhausted_gives_504_pool_timeout(start_forwarder: StartForwarder) -> None:
    release = asyncio.Event()
    holding = asyncio.Event()

    async def held(request: RecordedRequest) -> Reply:
        if request.target == "/hold":
            holding.set()
            await release.wait()
        return json_reply(b"{}")

    running = await start_forwarder(oapi_handler=held, pool_size=1, pool_timeout=0.2)
    holder = asyncio.create_task(running.get("/hold"))
    await asyncio.wait_for(holding.wait(), 5)
    reply = await running.get("/other")
    release.set()
    assert (await holder).status == 200
    assert reply.status == 504
    assert reply.json()["error"] == "pool_timeout"
