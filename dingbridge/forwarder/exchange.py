"""One forwarded request/response (an *exchange*): request framing upstream, response parsing
with httptools, re-framing for the client (the head itself: ``http_framing.py``), flow control,
timeouts, retry of a stale pooled connection, and the final access-log line.

The exchange is both the owner of its upstream connection and the protocol object of its
response parser (httptools calls ``on_status``/``on_header``/... on it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import httptools

from dingbridge.forwarder.http_framing import client_response_head
from dingbridge.forwarder.local_responses import error_response
from dingbridge.forwarder.upstream_pool import UpstreamConnection, UpstreamError, UpstreamPool

if TYPE_CHECKING:
    from dingbridge.forwarder.access_log import AccessLog
    from dingbridge.forwarder.metrics import ForwarderMetrics
    from dingbridge.forwarder.settings import ForwarderSettings

REPLAY_LIMIT = 64 * 1024
BUFFER_LIMIT = 256 * 1024
CHUNK_END = b"0\r\n\r\n"

# Reasons the client connection pauses reading from its client (bit flags; reading resumes
# when no reason is left).
PAUSE_UPSTREAM_BLOCKED = 1  # the upstream does not take request bytes
PAUSE_BUFFER_FULL = 2  # request body waiting for an upstream connection beyond BUFFER_LIMIT
PAUSE_QUEUED = 4  # a pipelined request waits for the active one


class _HeadResponseDone(Exception):
    """Raised from on_headers_complete to stop the parser after a HEAD response's headers."""


class ExchangeClient(Protocol):
    """What an exchange needs of the client connection it answers."""

    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport | None
    active: Exchange | None
    feeding: bool
    batching: bool
    write_paused: bool
    peer: str

    def write(self, data: bytes) -> None: ...
    def flush(self) -> None: ...
    def exchange_finished(self, exchange: Exchange, keep_alive: bool) -> None: ...
    def pause_for(self, reason: int) -> None: ...
    def resume_for(self, reason: int) -> None: ...
    def abort(self) -> None: ...


class ExchangeHost(Protocol):
    """What an exchange needs of the forwarder that runs it."""

    settings: ForwarderSettings
    metrics: ForwarderMetrics
    access_log: AccessLog
    watched: set[Exchange]

    def spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]: ...
    def answer_reserved(self, exchange: Exchange) -> None: ...


class Exchange:
    """A request from a client connection and its forwarded (or local) response."""

    __slots__ = (
        "body_buf",
        "buffered",
        "bytes_in",
        "bytes_out",
        "chunk_out",
        "chunked_in",
        "client",
        "close_after",
        "close_delimited",
        "content_length",
        "error",
        "expect_continue",
        "finished",
        "head",
        "headers",
        "host",
        "interim",
        "keep_alive",
        "last_io",
        "local",
        "local_close",
        "method",
        "pool",
        "replay",
        "request_done",
        "reserved",
        "resp_headers",
        "resp_reason",
        "response_done",
        "response_started",
        "retried",
        "route_name",
        "rparser",
        "status",
        "t0",
        "t_sent",
        "up_batch",
        "upstream",
        "upstream_keep",
        "url",
        "version",
        "write_blocked_since",
    )

    def __init__(self, client: ExchangeClient, host: ExchangeHost, t0: float) -> None:
        self.client = client
        self.host = host
        self.t0 = t0
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.method = b""
        self.version = "1.1"
        self.keep_alive = True
        self.route_name = "-"
        self.local: bytes | None = None
        self.local_close = False
        self.reserved: str | None = None
        self.pool: UpstreamPool | None = None
        self.head = b""
        self.chunked_in = False
        self.content_length: int | None = None
        self.expect_continue = False
        self.bytes_in = 0
        self.bytes_out = 0
        self.body_buf: list[bytes] = []
        self.buffered = 0
        self.replay: list[bytes] | None = []
        self.request_done = False
        self.upstream: UpstreamConnection | None = None
        self.rparser: httptools.HttpResponseParser | None = None
        self.resp_reason = b""
        self.resp_headers: list[tuple[bytes, bytes]] = []
        self.interim = False
        self.response_started = False
        self.response_done = False
        self.chunk_out = False
        self.close_delimited = False
        self.close_after = False
        self.upstream_keep = False
        self.status = 0
        self.error: str | None = None
        self.finished = False
        self.retried = False
        self.t_sent = 0.0
        self.last_io = 0.0
        self.write_blocked_since = 0.0
        self.up_batch: list[bytes] = []

    # -- local answers ---------------------------------------------------------------------
    def refuse(self, status: int, error: str, detail: str) -> None:
        """Answer locally with a JSON error; close afterwards if a request body would follow."""
        has_body = self.chunked_in or bool(self.content_length)
        self.local_close = has_body or not self.keep_alive
        self.local = error_response(status, error, detail, keep_alive=not self.local_close)
        self.status = status
        self.error = error

    def answer_local(self, response: bytes, status: int) -> None:
        """Write a locally made response now (the exchange is active)."""
        if self.finished:
            return
        transport = self.client.transport
        if transport is not None:
            transport.write(response)
        self.bytes_out += len(response)
        self.status = status
        self.response_started = self.response_done = True
        if self.local_close:
            self.finish(close=True)
        elif self.request_done:
            self.finish()

    # -- request side ----------------------------------------------------------------------
    def start(self) -> None:
        """Become the client's active exchange: answer locally or forward upstream."""
        if self.local is not None:
            self.answer_local(self.local, self.status)
            return
        if self.reserved is not None:
            self.host.answer_reserved(self)
            return
        if self.expect_continue and not self.request_done:
            transport = self.client.transport
            if transport is not None:
                transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        pool = self.pool
        assert pool is not None
        conn = pool.take_idle()
        if conn is not None:
            self.bind(conn)
        else:
            self.host.spawn(self._acquire(pool, fresh=False))

    async def _acquire(self, pool: UpstreamPool, fresh: bool) -> None:
        try:
            conn = await (pool.open_new() if fresh else pool.acquire())
        except UpstreamError as exc:
            self.fail(exc.status, exc.kind, exc.detail)
            return
        if self.finished:
            pool.release(conn)
            return
        self.bind(conn)

    def bind(self, conn: UpstreamConnection) -> None:
        self.upstream = conn
        conn.owner = self
        self.rparser = httptools.HttpResponseParser(self)
        transport = conn.transport
        assert transport is not None
        pending = self.replay if self.retried and self.replay is not None else self.body_buf
        client = self.client
        if client.feeding:  # more of the request may follow in this read: write once, later
            self.up_batch.append(self.head)
            self.up_batch.extend(pending)
        elif pending:
            transport.write(self.head + b"".join(pending))
        else:
            transport.write(self.head)
        self.body_buf = []
        if self.buffered:
            self.buffered = 0
            client.resume_for(PAUSE_BUFFER_FULL)
        self.t_sent = self.last_io = client.loop.time()
        if client.write_paused:
            transport.pause_reading()
        self.host.watched.add(self)

    def flush_upstream(self) -> None:
        """Write what the last client read produced for the upstream in one go."""
        batch = self.up_batch
        conn = self.upstream
        if conn is not None and conn.transport is not None:
            conn.transport.write(batch[0] if len(batch) == 1 else b"".join(batch))
        batch.clear()

    def _send(self, data: bytes) -> None:
        replay = self.replay
        if replay is not None:
            if self.bytes_in > REPLAY_LIMIT:
                self.replay = None
            else:
                replay.append(data)
        conn = self.upstream
        if conn is not None and conn.transport is not None:
            if self.client.feeding:
                self.up_batch.append(data)
            else:
                conn.transport.write(data)
        elif not self.response_started:
            self.body_buf.append(data)
            self.buffered += len(data)
            if self.buffered > BUFFER_LIMIT:
                self.client.pause_for(PAUSE_BUFFER_FULL)

    def request_body(self, body: bytes) -> None:
        self.bytes_in += len(body)
        if self.local is not None or self.reserved is not None or self.response_done:
            return
        if self.bytes_in > self.host.settings.max_body_bytes:
            self.too_large()
            return
        if self.chunked_in:
            self._send(b"%x\r\n%b\r\n" % (len(body), body))
        else:
            self._send(body)

    def request_complete(self) -> None:
        self.request_done = True
        if self.finished:
            return
        if (
            self.chunked_in
            and self.local is None
            and self.reserved is None
            and not self.response_done
        ):
            self._send(CHUNK_END)
        if self.response_done and self.client.active is self:
            self.finish(close=self.local_close)

    def too_large(self) -> None:
        limit = self.host.settings.max_body_bytes
        self.fail(413, "body_too_large", f"request body is larger than {limit} bytes", close=True)

    # -- upstream events (ConnectionOwner) -------------------------------------------------
    def upstream_data(self, data: memoryview) -> None:
        client = self.client
        self.last_io = client.loop.time()
        parser = self.rparser
        assert parser is not None
        client.batching = True  # the response head and body leave in one write
        try:
            parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, _HeadResponseDone):
                self._response_complete()
            elif not self.finished:
                raise
        except httptools.HttpParserError:
            self.fail(502, "bad_response", "the upstream sent an invalid HTTP response")
        finally:
            client.flush()

    def upstream_lost(self, exc: Exception | None) -> None:
        conn, self.upstream = self.upstream, None
        if conn is None or self.finished or self.response_done:
            return
        pool = self.pool
        assert pool is not None
        pool.discard(conn)
        if self.response_started and self.close_delimited:
            self.upstream_keep = False
            if self.chunk_out:
                self.client.write(CHUNK_END)
            self._response_complete()
            return
        if (
            not self.response_started
            and conn.reused
            and not self.retried
            and self.replay is not None
            and not self.interim
        ):
            self.retried = True  # a pooled connection the upstream had already closed
            self.host.spawn(self._acquire(pool, fresh=True))
            return
        detail = "the upstream closed the connection before the response was complete"
        if exc is not None:
            detail += f" ({type(exc).__name__})"
        self.fail(502, "upstream_reset", detail)

    def upstream_pause_writing(self) -> None:
        self.write_blocked_since = self.client.loop.time()
        self.client.pause_for(PAUSE_UPSTREAM_BLOCKED)

    def upstream_resume_writing(self) -> None:
        self.write_blocked_since = 0.0
        self.last_io = self.client.loop.time()
        self.client.resume_for(PAUSE_UPSTREAM_BLOCKED)

    # -- response parser callbacks ---------------------------------------------------------
    def on_status(self, reason: bytes) -> None:
        self.resp_reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.resp_headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.rparser
        assert parser is not None
        status = parser.get_status_code()
        if status < 200:
            self.interim = True  # 1xx interim responses are not passed on
            return
        self.status = status
        head, self.chunk_out, self.close_delimited, self.close_after = client_response_head(
            status,
            self.resp_reason,
            self.resp_headers,
            method=self.method,
            version=self.version,
            keep_alive=self.keep_alive,
        )
        self.response_started = True
        self.client.write(head)
        self.bytes_out += len(head)
        if self.method == b"HEAD":
            self.upstream_keep = parser.should_keep_alive()
            raise _HeadResponseDone

    def on_body(self, body: bytes) -> None:
        self.bytes_out += len(body)
        if self.chunk_out:
            self.client.write(b"%x\r\n%b\r\n" % (len(body), body))
        else:
            self.client.write(body)

    def on_message_complete(self) -> None:
        if self.interim:
            self.interim = False
            self.resp_headers = []
            self.resp_reason = b""
            return
        if self.chunk_out:
            self.client.write(CHUNK_END)
        parser = self.rparser
        assert parser is not None
        self.upstream_keep = parser.should_keep_alive()
        self._response_complete()

    def _response_complete(self) -> None:
        self.response_done = True
        loop = self.client.loop
        forwarder = self.host
        pool = self.pool
        assert pool is not None
        forwarder.metrics.observe_upstream_latency(pool.upstream.name, loop.time() - self.t_sent)
        conn, self.upstream = self.upstream, None
        if conn is not None:
            if self.request_done and self.upstream_keep and not conn.closed:
                pool.release(conn)
            else:
                pool.discard(conn)
        self.finish(close=not self.request_done)

    # -- timeouts and failures -------------------------------------------------------------
    def check_timeouts(self, now: float) -> None:
        """Called about every quarter timeout by the forwarder's ticker while bound."""
        if self.finished or self.response_done or self.upstream is None:
            return
        settings = self.host.settings
        if self.write_blocked_since:
            if now - self.write_blocked_since >= settings.write_timeout:
                self.fail(
                    504,
                    "write_timeout",
                    f"the upstream accepted no request bytes for {settings.write_timeout:g}s",
                )
        elif self.client.write_paused:
            self.last_io = now  # the client is slow, not the upstream
        elif now - self.last_io >= settings.read_timeout:
            self.fail(
                504, "read_timeout", f"the upstream sent nothing for {settings.read_timeout:g}s"
            )

    def fail(self, status: int, kind: str, detail: str, close: bool = False) -> None:
        """Answer an upstream failure with a JSON error (or cut the reply if one started)."""
        if self.finished:
            return
        self.error = kind
        pool = self.pool
        if pool is not None and status != 413:
            self.host.metrics.count_upstream_error(pool.upstream.name, kind)
        conn, self.upstream = self.upstream, None
        self.up_batch.clear()
        if conn is not None and pool is not None:
            pool.discard(conn)
        if self.response_started:
            self.client.abort()
            self.finish(close=True)
            return
        close = close or not self.request_done or not self.keep_alive
        response = error_response(status, kind, detail, keep_alive=not close)
        self.status = status
        self.response_started = self.response_done = True
        if self.client.active is self:
            self.client.write(response)
            self.bytes_out += len(response)
            self.finish(close=close)
        else:
            self.local = response
            self.local_close = close

    def client_lost(self) -> None:
        conn, self.upstream = self.upstream, None
        if conn is not None and self.pool is not None:
            self.pool.discard(conn)
        if not self.finished:
            if not self.response_done:
                self.status = self.status or 499
                self.error = self.error or "client_closed"
            self.finish(close=True)

    def finish(self, close: bool = False) -> None:
        if self.finished:
            return
        self.finished = True
        self.rparser = None  # the parser refers back to this exchange: break the cycle
        client = self.client
        forwarder = self.host
        forwarder.watched.discard(self)
        forwarder.metrics.count_request(self.route_name, self.status)
        access_log = forwarder.access_log
        if access_log.enabled:
            access_log.record(
                client.peer,
                self.method,
                self.url,
                self.route_name,
                self.status,
                client.loop.time() - self.t0,
                self.bytes_in,
                self.bytes_out,
                self.error,
            )
        client.exchange_finished(
            self, keep_alive=self.keep_alive and not close and not self.close_after
        )
