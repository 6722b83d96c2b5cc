"""CPU cost per request of the DingTalk client's HTTP library under concurrency.

Runs a bare keep-alive HTTP server in a separate process, then sends requests with N in
flight (16 and 64 by default) from this process and prints CPU microseconds per request
(this process's process_time / requests) and requests per second.

Clients measured:
- aiohttp: one pooled ClientSession (what AiohttpTransport uses), GET + read body.
- transport: dingbridge's AiohttpTransport.request (the above plus our wrapper).
- raw: a bare asyncio Protocol + httptools response parser, one keep-alive connection
  per in-flight request: a floor for what any Python client could cost.

Usage:  .venv/bin/python bench/client/concurrency.py [--requests 20000] [--concurrency 16 64]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import time
from collections.abc import Awaitable, Callable

BODY = (
    b'{"errcode":0,"errmsg":"ok","result":{"userid":"user001","name":"\xe5\xbc\xa0\xe4\xbc\x9f"}}'
)
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\nConnection: keep-alive\r\n\r\n" + BODY
)


class BareServer(asyncio.Protocol):
    """Answers each request (headers-only GETs) with a fixed JSON body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4 :]
            self.transport.write(RESPONSE * count)


def serve(sock: socket.socket) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(BareServer, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


async def run_workers(concurrency: int, total: int, one: Callable[[], Awaitable[None]]) -> None:
    per_worker, extra = divmod(total, concurrency)

    async def worker(n: int) -> None:
        for _ in range(n):
            await one()

    await asyncio.gather(*(worker(per_worker + (i < extra)) for i in range(concurrency)))


async def bench_aiohttp(url: str, concurrency: int, total: int) -> None:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(url) as resp:
                await resp.read()

        await run_workers(concurrency, total, one)


async def bench_transport(url: str, concurrency: int, total: int) -> None:
    from dingbridge.dingtalk.transport import AiohttpTransport

    transport = AiohttpTransport(limit=concurrency)

    async def one() -> None:
        await transport.request("GET", url, headers={}, body=None, timeout=10)

    try:
        await run_workers(concurrency, total, one)
    finally:
        await transport.aclose()


class RawClient(asyncio.Protocol):
    def __init__(self) -> None:
        import httptools

        self.parser = httptools.HttpResponseParser(self)
        self.done: asyncio.Future[None] | None = None
        self.chunks: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    async def get(self, request: bytes) -> bytes:
        self.chunks = []
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        await self.done
        return b"".join(self.chunks)


async def bench_raw(host: str, port: int, concurrency: int, total: int) -> None:
    loop = asyncio.get_running_loop()
    request = f"GET /topapi/v2/user/get HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    conns = [(await loop.create_connection(RawClient, host, port))[1] for _ in range(concurrency)]
    per_worker, extra = divmod(total, concurrency)

    async def worker(conn: RawClient, n: int) -> None:
        for _ in range(n):
            await conn.get(request)

    await asyncio.gather(*(worker(c, per_worker + (i < extra)) for i, c in enumerate(conns)))
    for conn in conns:
        conn.transport.close()


def measure(name: str, run: Callable[[], Awaitable[None]], total: int, concurrency: int) -> None:
    """One fresh event loop; includes opening the pool's connections (amortised)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    asyncio.run(run())
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"{name:10s} in-flight={concurrency:3d} requests={total:6d} "
        f"cpu_us_per_request={cpu / total * 1e6:8.1f} req_per_s={total / wall:9.0f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--clients", nargs="+", default=["aiohttp", "transport", "raw"])
    args = parser.parse_args()

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    host, port = sock.getsockname()
    server = multiprocessing.get_context("spawn").Process(target=serve, args=(sock,), daemon=True)
    server.start()
    url = f"http://{host}:{port}/topapi/v2/user/get"
    time.sleep(0.5)
    try:
        for concurrency in args.concurrency:
            for name in args.clients:

                def make(total: int, name: str = name, c: int = concurrency) -> Awaitable[None]:
                    if name == "aiohttp":
                        return bench_aiohttp(url, c, total)
                    if name == "transport":
                        return bench_transport(url, c, total)
                    return bench_raw(host, port, c, total)

                asyncio.run(make(concurrency * 10))  # warm-up (imports, first connections)
                measure(name, lambda: make(args.requests), args.requests, concurrency)
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
