"""The client side: one asyncio protocol per accepted connection, parsing requests with
httptools, checking them (peer allowlist, routing guard, token, size cap) and running their
exchanges one at a time (pipelined requests wait their turn, reading paused meanwhile)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, cast

import httptools

from dingbridge.forwarder.exchange import PAUSE_QUEUED, Exchange
from dingbridge.forwarder.http_framing import REQUEST_DROP
from dingbridge.forwarder.local_responses import error_response
from dingbridge.forwarder.policy import TOKEN_HEADER_LOWER
from dingbridge.forwarder.routing import Refusal, Reserved

if TYPE_CHECKING:
    from dingbridge.forwarder.server import Forwarder

BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH"})
# A request line and headers larger than this get 431; a request head not complete this many
# seconds after its first byte (or the connection, when nothing comes) gets 408. Without
# them, one header line a second held a connection for ever (slowloris).
MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT = 10.0


class _HeadRefused(Exception):
    """Raised in a parser callback to stop parsing: the refusal is already written."""


class ClientConnection(asyncio.Protocol):
    """One client connection of ``dingbridge forward``."""

    def __init__(self, forwarder: Forwarder) -> None:
        self.forwarder = forwarder
        self.loop = forwarder.loop
        self.transport: asyncio.Transport | None = None
        self.peer = "-"
        self.allowed = True
        self.parser = httptools.HttpRequestParser(self)
        self.parsing: Exchange | None = None
        self.active: Exchange | None = None
        self.queue: deque[Exchange] = deque()
        self.pause_reasons = 0
        self.read_paused = False
        self.write_paused = False
        self.closed = False
        self.no_more_requests = False
        self.last_activity = 0.0
        self.idle_timer: asyncio.TimerHandle | None = None
        self.feeding = False  # inside data_received: upstream writes are batched
        self.batching = False  # inside an upstream read: client writes are batched
        self.out: list[bytes] = []
        self.head_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.refused = False

    # -- the request head's size and deadline ----------------------------------------------
    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self.head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.closed:
            return
        if self.active is not None:  # a pipelined head behind a running exchange: wait
            self._start_head_timer()
            return
        self._refuse_head(408, "request_timeout", f"request head not received in {HEAD_TIMEOUT:g}s")

    def _count_head(self, size: int) -> None:
        self.head_bytes += size
        if self.head_bytes > MAX_HEAD_BYTES:
            self._refuse_head(431, "header_too_large", f"request head over {MAX_HEAD_BYTES} bytes")
            raise _HeadRefused

    def _refuse_head(self, status: int, error: str, detail: str) -> None:
        self.refused = True
        self._stop_head_timer()
        if self.transport is None:
            return
        if self.active is None:
            self.transport.write(error_response(status, error, detail, keep_alive=False))
            self.transport.close()
        else:
            self.abort()

    # -- transport events ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple) and peername:
            self.peer = str(peername[0])
        self.allowed = self.forwarder.policy.peer_allowed(self.peer if peername else None)
        self.forwarder.metrics.client_connections += 1
        self.forwarder.clients.add(self)
        self.last_activity = self.loop.time()
        self.idle_timer = self.loop.call_later(
            self.forwarder.settings.client_timeout, self._check_idle
        )
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        if self.refused:
            return
        self.last_activity = self.loop.time()
        self.feeding = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.no_more_requests = True  # the request was forwarded without its Upgrade
        except httptools.HttpParserError as exc:
            if not self.refused:
                self._protocol_error(exc)
        finally:
            self.feeding = False
            active = self.active
            if active is not None and active.up_batch:
                active.flush_upstream()

    def eof_received(self) -> bool:
        if self.active is None:
            return False
        self.no_more_requests = True
        return True  # keep the write side open to finish the response

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.forwarder.metrics.client_connections -= 1
        self.forwarder.clients.discard(self)
        if self.idle_timer is not None:
            self.idle_timer.cancel()
        self._stop_head_timer()
        active, self.active = self.active, None
        if active is not None:
            active.client_lost()
        self.queue.clear()

    def _active_upstream(self) -> asyncio.Transport | None:
        """The transport of the upstream connection the active exchange is bound to, if any."""
        active = self.active
        if active is None or active.upstream is None:
            return None
        return active.upstream.transport

    def pause_writing(self) -> None:
        self.write_paused = True
        upstream = self._active_upstream()
        if upstream is not None:
            upstream.pause_reading()

    def resume_writing(self) -> None:
        self.write_paused = False
        upstream = self._active_upstream()
        if upstream is not None:
            upstream.resume_reading()

    # -- request parser callbacks ----------------------------------------------------------
    def on_message_begin(self) -> None:
        self.parsing = Exchange(self, self.forwarder, self.loop.time())
        self.head_bytes = 0
        self._start_head_timer()

    def on_url(self, url: bytes) -> None:
        exchange = self.parsing
        assert exchange is not None
        self._count_head(len(url))
        exchange.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        exchange = self.parsing
        assert exchange is not None
        self._count_head(len(name) + len(value) + 4)
        exchange.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        exchange = self.parsing
        assert exchange is not None
        self._prepare(exchange)
        if self.active is None and not self.queue:
            self.active = exchange
            exchange.start()
        else:
            self.queue.append(exchange)
            self.pause_for(PAUSE_QUEUED)

    def on_body(self, body: bytes) -> None:
        exchange = self.parsing
        assert exchange is not None
        exchange.request_body(body)

    def on_message_complete(self) -> None:
        exchange = self.parsing
        assert exchange is not None
        exchange.request_complete()

    # -- request checks and upstream request head ------------------------------------------
    def _prepare(self, exchange: Exchange) -> None:
        parser = self.parser
        forwarder = self.forwarder
        exchange.method = method = parser.get_method()
        exchange.version = parser.get_http_version()
        exchange.keep_alive = parser.should_keep_alive() and not self.no_more_requests
        host_count = 0
        token: bytes | None = None
        content_length: bytes | None = None
        connection_tokens: set[bytes] | None = None
        out: list[bytes] = []
        add = out.extend
        for name, value in exchange.headers:
            lname = name.lower()
            if lname in REQUEST_DROP or lname.startswith(b"proxy-"):
                if lname == b"host":
                    host_count += 1
                elif lname == b"content-length":
                    content_length = value
                elif lname == b"transfer-encoding":
                    exchange.chunked_in = True
                elif lname == TOKEN_HEADER_LOWER:
                    token = value
                elif lname == b"expect":
                    exchange.expect_continue = value.strip().lower() == b"100-continue"
                elif lname == b"connection":
                    connection_tokens = {t.strip().lower() for t in value.split(b",")}
                continue
            add((name, b": ", value, b"\r\n"))
        if content_length is not None and not exchange.chunked_in:
            exchange.content_length = int(content_length)
        if not self.allowed:
            exchange.refuse(403, "forbidden", f"callers from {self.peer} are not allowed here")
            return
        if host_count > 1:
            exchange.refuse(400, "bad_host", "more than one Host header")
            return
        decision = forwarder.routes.resolve(method, exchange.url)
        if isinstance(decision, Refusal):
            exchange.refuse(decision.status, decision.error, decision.detail)
            return
        if isinstance(decision, Reserved):
            exchange.route_name = decision.name
            if method not in (b"GET", b"HEAD"):
                exchange.refuse(405, "method_not_allowed", f"/{decision.name} answers GET only")
            else:
                exchange.reserved = decision.name
            return
        exchange.route_name = decision.name
        if not forwarder.policy.token_ok(token):
            exchange.refuse(
                401,
                "unauthorized",
                "missing X-Dingbridge-Token header"
                if token is None
                else "wrong X-Dingbridge-Token header",
            )
            return
        limit = forwarder.settings.max_body_bytes
        if exchange.content_length is not None and exchange.content_length > limit:
            exchange.refuse(413, "body_too_large", f"request body is larger than {limit} bytes")
            return
        if connection_tokens and connection_tokens - REQUEST_DROP:
            kept: list[bytes] = []
            for index in range(0, len(out), 4):
                if out[index].lower() not in connection_tokens:
                    kept += out[index : index + 4]
            out = kept
        upstream = decision.upstream
        exchange.pool = forwarder.pools[upstream.name]
        if exchange.chunked_in:
            framing = b"Transfer-Encoding: chunked\r\n"
        elif exchange.content_length is not None:
            framing = b"Content-Length: %d\r\n" % exchange.content_length
        elif method in BODY_METHODS:
            framing = b"Content-Length: 0\r\n"
        else:
            framing = b""
        exchange.head = b"%b %b HTTP/1.1\r\nHost: %b\r\n%b%b\r\n" % (
            method,
            decision.target,
            forwarder.host_headers[upstream.name],
            b"".join(out),
            framing,
        )

    # -- used by exchanges -----------------------------------------------------------------
    def write(self, data: bytes) -> None:
        if self.batching:
            self.out.append(data)
            return
        transport = self.transport
        if transport is not None and not self.closed:
            transport.write(data)

    def flush(self) -> None:
        """End a batch: send what was written during it in one write."""
        self.batching = False
        out = self.out
        if out:
            transport = self.transport
            if transport is not None and not self.closed:
                transport.write(out[0] if len(out) == 1 else b"".join(out))
            out.clear()

    def abort(self) -> None:
        self.out.clear()
        if self.transport is not None:
            self.transport.abort()

    def pause_for(self, reason: int) -> None:
        self.pause_reasons |= reason
        if not self.read_paused and self.transport is not None and not self.closed:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_for(self, reason: int) -> None:
        self.pause_reasons &= ~reason
        if self.read_paused and not self.pause_reasons and not self.closed:
            self.read_paused = False
            assert self.transport is not None
            self.transport.resume_reading()

    def exchange_finished(self, exchange: Exchange, keep_alive: bool) -> None:
        if self.active is not exchange:
            return
        self.active = None
        self.last_activity = self.loop.time()
        if not keep_alive or self.closed:
            self.flush()
            self.queue.clear()
            if self.transport is not None:
                self.transport.close()
            return
        if self.queue:
            following = self.queue.popleft()
            if not self.queue:
                self.resume_for(PAUSE_QUEUED)
            self.active = following
            following.start()
        elif self.no_more_requests and self.transport is not None:
            self.flush()
            self.transport.close()

    def _protocol_error(self, exc: Exception) -> None:
        if self.active is None and self.transport is not None:
            detail = str(exc) or "malformed HTTP request"
            self.transport.write(error_response(400, "bad_request", detail, keep_alive=False))
            self.transport.close()
        else:
            self.abort()

    def _check_idle(self) -> None:
        self.idle_timer = None
        if self.closed:
            return
        timeout = self.forwarder.settings.client_timeout
        idle_for = self.loop.time() - self.last_activity
        if self.active is None and not self.queue and idle_for >= timeout:
            if self.transport is not None:
                self.transport.close()
            return
        delay = timeout - idle_for if self.active is None else timeout
        self.idle_timer = self.loop.call_later(max(delay, 0.5), self._check_idle)

    def close_if_idle(self) -> None:
        if self.active is None and not self.queue and self.transport is not None:
            self.transport.close()
