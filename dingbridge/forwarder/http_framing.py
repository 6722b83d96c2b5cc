"""HTTP/1.1 framing rules the forwarder applies on both of its front ends.

- :data:`HOP_BY_HOP`: headers that belong to one connection and are never passed on.
- :data:`REQUEST_DROP`: request headers never passed upstream (hop-by-hop, ``Host``, which the
  upstream gets its own of, ``Content-Length``/``Expect``, which are re-framed, and the caller
  token).
- :func:`client_response_head`: the upstream's response head rewritten for the client (hop-by-hop
  headers dropped, body framing chosen for the client's HTTP version).
"""

from __future__ import annotations

from dingbridge.forwarder.policy import TOKEN_HEADER_LOWER

__all__ = ["HOP_BY_HOP", "REQUEST_DROP", "ResponseFraming", "client_response_head"]

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
    return b"".join(out), chunk_out, close_delimited, close_after
