"""What ``dingbridge serve`` refuses before the app sees a request: oversize heads and bodies,
and clients too slow to send their request head (slowloris).

uvicorn's httptools protocol has no limit on the size of a request head, none on the body
(a route that reads the body holds it all in memory) and no deadline for a request head: a
client that sends one header line a second holds its connection for ever, and 200 of them
hold 200. :class:`GuardedHttpToolsProtocol` adds, per connection:

- the request line and headers together at most :data:`MAX_HEAD_BYTES` → ``431``;
- a body at most :data:`MAX_BODY_BYTES` (``Content-Length`` checked before the app runs,
  a chunked body counted as it arrives) → ``413``;
- the request head complete within :data:`HEAD_TIMEOUT` seconds of its first byte (or of
  the connection, for a client that sends nothing) → ``408``.

Each refusal is a short plain-text answer with ``Connection: close``. Other users are not
slowed: a waiting connection costs a socket and a timer, never a task.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
HEAD_TIMEOUT = 10.0
LINGER_SECONDS = 2.0

_REASONS = {
    408: "request head not received in time",
    413: "request body too large",
    431: "request head too large",
}


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the answer is already written."""


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._body_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None
        self._refused = False

    # -- the deadline for a request head ---------------------------------------------------
    def _start_head_timer(self) -> None:
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self._refuse(408)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        if self._refused:  # our callback stopped the parser: the answer is written
            return
        super().send_400_response(msg)

    # -- parser callbacks ------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._head_bytes = 0
        self._body_bytes = 0
        self._start_head_timer()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        length = next((v for n, v in self.headers if n == b"content-length"), None)
        if length is not None and length.strip().isdigit() and int(length) > MAX_BODY_BYTES:
            self._refuse(413)
            raise _Refused
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        if self._body_bytes > MAX_BODY_BYTES:
            if self.cycle is not None and self.cycle.response_started:
                self.transport.close()  # too late for an answer: just stop
                self._refused = True
            else:
                self._refuse(413, this_request=True)
            raise _Refused
        super().on_body(body)

    def _count_head(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431)
            raise _Refused

    def _refuse(self, status: int, *, this_request: bool = False) -> None:
        """Answer ``status`` and close; the app never sees the request (``this_request``:
        its app task runs already, and must not write any more)."""
        self._refused = True
        self._stop_head_timer()
        peer = self.client[0] if self.client else "-"
        log.warning("refused a request from %s: %d %s", peer, status, _REASONS[status])
        text = _REASONS[status].encode("ascii")
        head = STATUS_LINE[status]
        if this_request and self.cycle is not None:
            self.cycle.disconnected = True
        self.transport.write(
            b"".join(
                [
                    head,
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(text)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    text,
                ]
            )
        )
        # A lingering close (as nginx does): closing now, with the client's unread bytes in
        # our receive buffer, would send a reset that can destroy the answer before the client
        # reads it. Send FIN, discard what still comes (data_received), close a moment later.
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()
