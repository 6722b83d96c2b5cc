"""HTTP/1.1 framing rules the forwarder applies on both of its front ends.

- :data:`HOP_BY_HOP`: headers that belong to one connection and are never passed on.
- :data:`REQUEST_DROP`: request headers never passed upstream (hop-by-hop, ``Host``, which the
  upstream gets its own of, ``Content-Length``/``Expect``, which are re-framed, and the caller
  token).
- :func:`client_response_head`: the upstream's response head rewritten for the client (hop-by-hop
  headers dropped, body framing chosen for the client's HTTP version).
- :func:`response_head_from_raw`: the same, from the raw head bytes (the forwarder's hot path).
"""

from __future__ import annotations

import re

import httptools

from dingbridge.forwarder.policy import TOKEN_HEADER_LOWER

__all__ = [
    "HOP_BY_HOP",
    "REQUEST_DROP",
    "ResponseFraming",
    "client_response_head",
    "response_head_from_raw",
]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
REQUEST_DROP = HOP_BY_HOP | {b"host", b"content-length", b"expect", TOKEN_HEADER_LOWER}
RESPONSE_DROP = HOP_BY_HOP | {b"content-length"}

ResponseFraming = tuple[bytes, bool, bool, bool]
"""(head, chunk_out, close_delimited, close_after): the head to write to the client; whether the
body is re-chunked for it; whether the upstream body ends only when the upstream closes; whether
the client connection must close after this response (an HTTP/1.0 client and no length)."""


def client_response_head(
    status: int,
    reason: bytes,
    upstream_headers: list[tuple[bytes, bytes]],
    *,
    method: bytes,
    version: str,
    keep_alive: bool,
) -> ResponseFraming:
    """The client's response head for an upstream answer, and how its body is framed.

    ``method``/``version``/``keep_alive`` are the client request's. Headers that the upstream's
    ``Connection`` header names are dropped too.
    """
    content_length: bytes | None = None
    chunked = False
    drop = RESPONSE_DROP
    extra: set[bytes] | None = None
    out = [b"HTTP/1.1 %d %b\r\n" % (status, reason)]
    add = out.extend
    for name, value in upstream_headers:
        lname = name.lower()
        if lname in drop:
            if lname == b"content-length":
                content_length = value
            elif lname == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif lname == b"connection":
                extra = {t.strip().lower() for t in value.split(b",")} - drop
            continue
        add((name, b": ", value, b"\r\n"))
    if extra:  # end-to-end-looking headers that Connection names are hop-by-hop too
        kept = [out[0]]
        for index in range(1, len(out), 4):
            if out[index].lower() not in extra:
                kept += out[index : index + 4]
        out = kept
    chunk_out, close_delimited, close_after = _framing(
        out, status, content_length, chunked, method=method, version=version, keep_alive=keep_alive
    )
    return b"".join(out), chunk_out, close_delimited, close_after


def _framing(
    out: list[bytes],
    status: int,
    content_length: bytes | None,
    chunked: bool,
    *,
    method: bytes,
    version: str,
    keep_alive: bool,
) -> tuple[bool, bool, bool]:
    """Append the client's framing lines and the blank line to ``out``; (chunk_out,
    close_delimited, close_after) as in :data:`ResponseFraming`."""
    chunk_out = close_delimited = close_after = False
    has_body = method != b"HEAD" and status not in (204, 304)
    if not has_body:
        if content_length is not None and method == b"HEAD":
            out.append(b"Content-Length: %b\r\n" % content_length)
    elif content_length is not None and not chunked:
        out.append(b"Content-Length: %b\r\n" % content_length)
    elif version == "1.1":
        out.append(b"Transfer-Encoding: chunked\r\n")
        chunk_out = True
        close_delimited = not chunked
    else:
        close_after = True
        close_delimited = not chunked
    if not keep_alive or close_after:
        out.append(b"Connection: close\r\n")
    elif version == "1.0":
        out.append(b"Connection: keep-alive\r\n")
    out.append(b"\r\n")
    return chunk_out, close_delimited, close_after


# -- the response head copied through as bytes -------------------------------------------------
# The head llhttp has already validated is cut with C-level calls instead of an `on_header`
# callback, a `lower()`, a set lookup and a re-join per header: one regex `split` cuts out the
# lines to drop and hands back their names and values, one `join` puts the rest together. llhttp
# (httptools 0.9) is strict (CRLF line ends only, no folded lines, no space before a colon), so
# every header line is "\r\n" + name + ":" + value and the split cannot misread one. Heads after
# a 1xx and odd status lines take the old path: a second parser collects the header list for
# `client_response_head`.
_RESPONSE_DROP_LINE = re.compile(
    rb"\r\n(" + b"|".join(re.escape(name) for name in sorted(RESPONSE_DROP)) + rb"):([^\r]*)",
    re.IGNORECASE,
)


class _HeadCollected(Exception):
    """Stops the collecting parser once the final response's headers are in."""


class _HeadCollector:
    """httptools callbacks gathering a response head's status reason and header list."""

    def __init__(self) -> None:
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:  # a 1xx before the final response starts over
        self.reason = b""
        self.headers = []

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.parser.get_status_code() >= 200:
            raise _HeadCollected


def response_head_from_raw(
    raw: bytes,
    status: int,
    *,
    interim_seen: bool,
    method: bytes,
    version: str,
    keep_alive: bool,
) -> ResponseFraming:
    """:func:`client_response_head` for the raw bytes the upstream sent (head first, possibly
    followed by body bytes), which llhttp has parsed up to the end of the final head."""
    end = raw.find(b"\r\n\r\n")
    if end < 0 or interim_seen or raw[12:13] != b" ":  # "HTTP/1.x 200 Reason" only
        return _response_head_collected(
            raw, status, method=method, version=version, keep_alive=keep_alive
        )
    # [kept, name, value, kept, name, value, ..., kept]: each kept run starts with its CRLF
    pieces = _RESPONSE_DROP_LINE.split(raw[:end])
    content_length: bytes | None = None
    chunked = False
    extra: set[bytes] | None = None
    if len(pieces) > 1:
        values = pieces[2::3]
        for index, name in enumerate(pieces[1::3]):  # usually Content-Length and Connection
            name = name.lower()
            if name == b"content-length":
                content_length = values[index].strip()
            elif name == b"transfer-encoding":
                chunked = b"chunked" in values[index].lower()
            elif name == b"connection":
                tokens = values[index].strip().lower()
                if tokens != b"keep-alive":  # the usual value names nothing else to drop
                    extra = {t.strip() for t in tokens.split(b",")} - RESPONSE_DROP
        block = b"".join(pieces[0::3])
    else:
        block = pieces[0]
    if extra:  # end-to-end-looking headers that Connection names are hop-by-hop too
        block = _drop_named_lines(block, extra)
    if raw[7] == 48:  # "HTTP/1.0 ...": the client always gets an HTTP/1.1 status line
        block = b"HTTP/1.1" + block[8:]
    out = [block, b"\r\n"]
    chunk_out, close_delimited, close_after = _framing(
        out, status, content_length, chunked, method=method, version=version, keep_alive=keep_alive
    )
    return b"".join(out), chunk_out, close_delimited, close_after


def _drop_named_lines(block: bytes, names: set[bytes]) -> bytes:
    """``block`` without its header lines named (case-insensitively) in ``names``."""
    lowered = block.lower()
    cuts: list[tuple[int, int]] = []
    for name in names:
        if not name:
            continue
        needle = b"\r\n" + name + b":"
        start = lowered.find(needle)
        while start >= 0:
            line_end = lowered.find(b"\r\n", start + len(needle))
            if line_end < 0:
                line_end = len(block)
            cuts.append((start, line_end))
            start = lowered.find(needle, line_end)
    if not cuts:
        return block
    cuts.sort()
    kept = []
    previous = 0
    for start, line_end in cuts:
        kept.append(block[previous:start])
        previous = line_end
    kept.append(block[previous:])
    return b"".join(kept)


def _response_head_collected(
    raw: bytes, status: int, *, method: bytes, version: str, keep_alive: bool
) -> ResponseFraming:
    """The slow path: the header list from a second parser over the same bytes."""
    collector = _HeadCollector()
    try:
        collector.parser.feed_data(raw)
    except httptools.HttpParserCallbackError as exc:
        if not isinstance(exc.__context__, _HeadCollected):
            raise
    return client_response_head(
        status,
        collector.reason,
        collector.headers,
        method=method,
        version=version,
        keep_alive=keep_alive,
    )
