"""Pooled HTTP/1.1 keep-alive connections to one upstream (TLS verified, SNI, optional source
address), as bare asyncio protocols: the forwarding hot path takes an idle connection without
awaiting anything.

Failures are raised as :class:`UpstreamError` carrying the HTTP status the caller should answer
(502 for refused/TLS/reset, 504 for timeouts) and a short machine-readable kind.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections import deque
from typing import Protocol, cast

from dingbridge.forwarder.settings import ForwarderSettings, Upstream

logger = logging.getLogger(__name__)


class UpstreamError(Exception):
    """An upstream failure, with the status the forwarder answers and a short kind."""

    def __init__(self, status: int, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail


class ConnectionOwner(Protocol):
    """What a bound upstream connection reports to (the exchange using it)."""

    def upstream_data(self, data: memoryview) -> None: ...
    def upstream_lost(self, exc: Exception | None) -> None: ...
    def upstream_pause_writing(self) -> None: ...
    def upstream_resume_writing(self) -> None: ...


READ_BUFFER_SIZE = 64 * 1024


class UpstreamConnection(asyncio.BufferedProtocol):
    """One TCP(+TLS) connection to an upstream; forwards events to its current owner.

    A buffered protocol: reads land in one preallocated buffer per connection (with TLS, the
    copying path would allocate and shrink a 256 KiB bytes object for every read).
    """

    __slots__ = ("buffer", "closed", "idle_since", "owner", "pool", "reused", "transport")

    def __init__(self, pool: UpstreamPool) -> None:
        self.pool = pool
        self.buffer = memoryview(bytearray(READ_BUFFER_SIZE))
        self.transport: asyncio.Transport | None = None
        self.owner: ConnectionOwner | None = None
        self.closed = False
        self.reused = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        owner = self.owner
        if owner is not None:
            owner.upstream_data(self.buffer[:nbytes])
        else:  # unsolicited bytes on an idle connection: it is no longer usable
            self.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        owner, self.owner = self.owner, None
        if owner is not None:
            owner.upstream_lost(exc)

    def pause_writing(self) -> None:
        if self.owner is not None:
            self.owner.upstream_pause_writing()

    def resume_writing(self) -> None:
        if self.owner is not None:
            self.owner.upstream_resume_writing()

    def close(self) -> None:
        """Drop the connection (never returned to the pool)."""
        self.owner = None
        if not self.closed:
            self.closed = True
            self.pool.forget(self)
            if self.transport is not None:
                self.transport.abort()


def make_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    context.set_alpn_protocols(["http/1.1"])
    return context


class UpstreamPool:
    """Keep-alive connections to one upstream, at most ``pool_size`` at a time."""

    def __init__(
        self,
        upstream: Upstream,
        settings: ForwarderSettings,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self.upstream = upstream
        self.settings = settings
        self.ssl_context = ssl_context if upstream.tls else None
        self.idle: list[UpstreamConnection] = []
        self.in_use = 0
        self.connecting = 0
        self.waiters: deque[asyncio.Future[UpstreamConnection | None]] = deque()
        self.loop = asyncio.get_running_loop()
        self.closed = False
        self.connections_opened = 0
        self._sweep: asyncio.TimerHandle | None = None
        self.local_addr = (settings.source_address, 0) if settings.source_address else None

    def gauge(self) -> tuple[int, int]:
        return self.in_use, len(self.idle)

    # -- hot path ---------------------------------------------------------------------------
    def take_idle(self) -> UpstreamConnection | None:
        """An idle pooled connection, marked in use, or ``None`` (never waits)."""
        idle = self.idle
        while idle:
            conn = idle.pop()
            if conn.closed or conn.transport is None or conn.transport.is_closing():
                continue
            conn.reused = True
            self.in_use += 1
            return conn
        return None

    def release(self, conn: UpstreamConnection) -> None:
        """Return a connection whose exchange finished cleanly (response read in full)."""
        conn.owner = None
        self.in_use -= 1
        if conn.closed or self.closed:
            conn.close()
            self._wake_for_slot()
            return
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                conn.reused = True
                waiter.set_result(conn)
                return
        conn.idle_since = self.loop.time()
        self.idle.append(conn)
        if self._sweep is None:
            self._sweep = self.loop.call_later(self.settings.idle_timeout, self._sweep_idle)

    def forget(self, conn: UpstreamConnection) -> None:
        """Called when a connection closes: drop it from the idle list or the in-use count."""
        if conn in self.idle:
            self.idle.remove(conn)

    def discard(self, conn: UpstreamConnection) -> None:
        """Close a connection that was in use and free its slot."""
        conn.close()
        self.in_use -= 1
        self._wake_for_slot()

    # -- slow path --------------------------------------------------------------------------
    async def acquire(self) -> UpstreamConnection:
        """A connection in use: idle, newly opened, or handed over by a releasing exchange."""
        conn = self.take_idle()
        if conn is not None:
            return conn
        if self.in_use + self.connecting >= self.settings.pool_size:
            waiter: asyncio.Future[UpstreamConnection | None] = (
                asyncio.get_running_loop().create_future()
            )
            self.waiters.append(waiter)
            try:
                handed = await asyncio.wait_for(waiter, self.settings.pool_timeout)
            except TimeoutError:
                raise UpstreamError(
                    504,
                    "pool_timeout",
                    f"no free connection to {self.upstream.name} upstream within "
                    f"{self.settings.pool_timeout:g}s ({self.settings.pool_size} in use)",
                ) from None
            if handed is not None:
                return handed
        return await self.open_new()

    async def open_new(self) -> UpstreamConnection:
        """Open a fresh connection counted as in use."""
        self.connecting += 1
        try:
            conn = await self._connect()
        except BaseException:
            self.connecting -= 1
            self._wake_for_slot()
            raise
        self.connecting -= 1
        self.in_use += 1
        return conn

    async def probe(self) -> None:
        """Open and close one fresh connection (TCP, and TLS when https); raise on failure."""
        conn = await self._connect()
        conn.close()

    async def _connect(self) -> UpstreamConnection:
        up = self.upstream
        loop = asyncio.get_running_loop()
        try:
            _transport, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(self),
                    up.host,
                    up.port,
                    ssl=self.ssl_context,
                    server_hostname=up.host if self.ssl_context is not None else None,
                    local_addr=self.local_addr,
                    ssl_handshake_timeout=(
                        self.settings.connect_timeout if self.ssl_context is not None else None
                    ),
                ),
                self.settings.connect_timeout,
            )
        except TimeoutError:
            raise UpstreamError(
                504,
                "connect_timeout",
                f"connecting to {up.name} upstream {up.host}:{up.port} took more than "
                f"{self.settings.connect_timeout:g}s",
            ) from None
        except ssl.SSLError as exc:
            reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
            raise UpstreamError(
                502,
                "tls_error",
                f"TLS with {up.name} upstream {up.host}:{up.port} failed: {reason}",
            ) from None
        except ConnectionRefusedError:
            raise UpstreamError(
                502,
                "connection_refused",
                f"{up.name} upstream {up.host}:{up.port} refused the connection",
            ) from None
        except OSError as exc:
            raise UpstreamError(
                502,
                "connect_error",
                f"cannot connect to {up.name} upstream {up.host}:{up.port}: {exc.strerror or exc}",
            ) from None
        self.connections_opened += 1
        return conn

    def _wake_for_slot(self) -> None:
        """A slot freed up: let the first waiter open its own connection."""
        while self.waiters and self.in_use + self.connecting < self.settings.pool_size:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep_idle(self) -> None:
        self._sweep = None
        loop = asyncio.get_running_loop()
        cutoff = loop.time() - self.settings.idle_timeout
        for conn in [c for c in self.idle if c.idle_since <= cutoff]:
            conn.close()
        if self.idle:
            self._sweep = loop.call_later(self.settings.idle_timeout / 2, self._sweep_idle)

    def close(self) -> None:
        self.closed = True
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        for conn in list(self.idle):
            conn.close()
        self.idle.clear()
        for waiter in self.waiters:
            if not waiter.done():
                waiter.cancel()
