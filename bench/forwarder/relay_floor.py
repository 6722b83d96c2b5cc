"""The floor of the design: a relay that does nothing but copy bytes on uvloop + TLS.

    .venv/bin/python bench/forwarder/relay_floor.py PORT UPSTREAM_PORT CA_FILE

Each client connection borrows an upstream TLS connection for its lifetime (an idle one, or a new
one; given back when the client closes) and every read is written to the other side unchanged:
no HTTP parsing, routing, pool, metrics or log. Not a forwarder (the request target keeps its
prefix, Host is not rewritten): `instructions.py --targets floor` counts it to show what asyncio
protocols on uvloop with uvloop's TLS cost per request before any forwarder logic.
"""

from __future__ import annotations

import asyncio
import ssl
import sys

import uvloop

IDLE: list[tuple[asyncio.Transport, Upstream]] = []


class Upstream(asyncio.Protocol):
    def __init__(self, client: Client | None) -> None:
        self.client = client

    def data_received(self, data: bytes) -> None:
        transport = self.client.transport if self.client is not None else None
        if transport is not None:
            transport.write(data)


class Client(asyncio.Protocol):
    def __init__(self, upstream_port: int, context: ssl.SSLContext) -> None:
        self.upstream_port = upstream_port
        self.context = context
        self.transport: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.upstream_protocol: Upstream | None = None
        self.pending: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if IDLE:
            self.upstream, self.upstream_protocol = IDLE.pop()
            self.upstream_protocol.client = self
        else:
            asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.upstream, self.upstream_protocol = await loop.create_connection(
            lambda: Upstream(self),
            "localhost",
            self.upstream_port,
            ssl=self.context,
            server_hostname="localhost",
        )
        for data in self.pending:
            self.upstream.write(data)
        self.pending.clear()

    def data_received(self, data: bytes) -> None:
        if self.upstream is None:
            self.pending.append(data)
        else:
            self.upstream.write(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.upstream is not None and self.upstream_protocol is not None:
            self.upstream_protocol.client = None
            IDLE.append((self.upstream, self.upstream_protocol))


async def main(port: int, upstream_port: int, ca_file: str) -> None:
    context = ssl.create_default_context(cafile=ca_file)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: Client(upstream_port, context), "127.0.0.1", port, backlog=1024
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))
