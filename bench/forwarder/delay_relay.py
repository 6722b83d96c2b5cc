"""A TCP relay that holds every chunk 15 ms in each direction: a 30 ms round trip on loopback
(this kernel has no netem qdisc). TLS passes through untouched. The TCP handshake costs one round
trip too: the relay reads nothing from a new client for 30 ms (SYN out, SYN-ACK back).

    python bench/forwarder/delay_relay.py LISTEN_PORT TARGET_HOST TARGET_PORT [ONE_WAY_MS]
"""

from __future__ import annotations

import asyncio
import sys


class _Half(asyncio.Protocol):
    """One side of a relayed connection; passes what it receives to ``peer`` after ``delay``."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: _Half | None = None
        self.waiting: list[bytes] = []  # delivered before the peer connection existed
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.loop.call_later(self.delay, self._deliver, data)

    def _deliver(self, data: bytes) -> None:
        peer = self.peer
        if peer is None or peer.transport is None:
            self.waiting.append(data)
        elif not peer.transport.is_closing():
            peer.transport.write(data)

    def attach(self, peer: _Half) -> None:
        self.peer = peer
        for data in self.waiting:
            self._deliver(data)
        self.waiting.clear()
        if self.closed:
            self._close_peer()

    def eof_received(self) -> bool:
        self.loop.call_later(self.delay, self._close_peer)
        return True

    def _close_peer(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.loop.call_later(self.delay, self._close_peer)


async def relay(listen_port: int, host: str, port: int, one_way: float) -> None:
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def connect_target(client: _Half) -> None:
        try:
            _, target = await loop.create_connection(lambda: _Half(one_way), host, port)
        except OSError:
            if client.transport is not None:
                client.transport.close()
            return
        target.attach(client)
        client.attach(target)

    def factory() -> _Half:
        client = _Half(one_way)

        def handshake() -> None:  # SYN reaches the far side after one_way ...
            task = loop.create_task(connect_target(client))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        def established() -> None:  # ... and the SYN-ACK comes back after another one_way
            if client.transport is not None and not client.transport.is_closing():
                client.transport.resume_reading()

        def made(transport: asyncio.BaseTransport) -> None:
            _Half.connection_made(client, transport)
            transport.pause_reading()  # type: ignore[attr-defined]
            loop.call_later(one_way, handshake)
            loop.call_later(2 * one_way, established)

        client.connection_made = made  # type: ignore[method-assign]
        return client

    server = await loop.create_server(factory, "127.0.0.1", listen_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    delay_ms = float(sys.argv[4]) if len(sys.argv) > 4 else 15.0
    asyncio.run(relay(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), delay_ms / 1000))
