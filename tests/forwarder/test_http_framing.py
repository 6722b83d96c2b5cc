"""The response head the forwarder writes to its client, for each way an upstream frames a body."""

from __future__ import annotations

import httptools
import pytest

from dingbridge.forwarder.http_framing import client_response_head, response_head_from_raw


def head_lines(head: bytes) -> list[bytes]:
    assert head.endswith(b"\r\n\r\n")
    return head[: -len(b"\r\n\r\n")].split(b"\r\n")


def test_length_is_kept_and_hop_by_hop_headers_are_dropped() -> None:
    head, chunk_out, close_delimited, close_after = client_response_head(
        200,
        b"OK",
        [
            (b"Content-Type", b"application/json"),
            (b"Content-Length", b"17"),
            (b"Connection", b"keep-alive, X-Hop"),
            (b"X-Hop", b"1"),
            (b"Keep-Alive", b"timeout=5"),
        ],
        method=b"GET",
        version="1.1",
        keep_alive=True,
    )
    assert head_lines(head) == [
        b"HTTP/1.1 200 OK",
        b"Content-Type: application/json",
        b"Content-Length: 17",
    ]
    assert (chunk_out, close_delimited, close_after) == (False, False, False)


def test_a_chunked_or_unframed_body_is_rechunked_for_an_http_11_client() -> None:
    for upstream_chunked in (True, False):
        framing = [(b"Transfer-Encoding", b"chunked")] if upstream_chunked else []
        head, chunk_out, close_delimited, close_after = client_response_head(
            200, b"OK", framing, method=b"POST", version="1.1", keep_alive=True
        )
        assert head_lines(head) == [b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked"]
        assert chunk_out and not close_after
        assert close_delimited is not upstream_chunked


def test_an_http_10_client_without_a_length_gets_the_body_until_close() -> None:
    head, chunk_out, close_delimited, close_after = client_response_head(
        200, b"OK", [], method=b"GET", version="1.0", keep_alive=True
    )
    assert head_lines(head) == [b"HTTP/1.1 200 OK", b"Connection: close"]
    assert (chunk_out, close_delimited, close_after) == (False, True, True)


def test_an_http_10_keep_alive_client_is_told_so() -> None:
    head, *_ = client_response_head(
        200, b"OK", [(b"Content-Length", b"2")], method=b"GET", version="1.0", keep_alive=True
    )
    assert head_lines(head)[-1] == b"Connection: keep-alive"


def test_bodiless_answers() -> None:
    head, *_ = client_response_head(
        200, b"OK", [(b"Content-Length", b"42")], method=b"HEAD", version="1.1", keep_alive=False
    )
    assert head_lines(head) == [b"HTTP/1.1 200 OK", b"Content-Length: 42", b"Connection: close"]
    head, *_ = client_response_head(
        204, b"No Content", [], method=b"DELETE", version="1.1", keep_alive=True
    )
    assert head_lines(head) == [b"HTTP/1.1 204 No Content"]


class _Heads:
    """Status, reason and header list of a raw response, as httptools reports them."""

    def __init__(self, raw: bytes) -> None:
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.parser = httptools.HttpResponseParser(self)
        self.parser.feed_data(raw)

    def on_message_begin(self) -> None:
        self.reason = b""
        self.headers = []

    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))


UPSTREAM_HEADS = [
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2\r\nConnection: keep-alive\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nconnection: close, X-Hop\r\nX-Hop: 1\r\n"
    b"Date: Sun, 29 Nov 2026 00:00:00 GMT\r\nx-hop: 2\r\nX-Hop-Not: 3\r\n\r\n{}",
    b"HTTP/1.1 404 Not Found\r\nTRANSFER-ENCODING: chunked\r\nTE: trailers\r\n"
    b"Trailer: X-Sum\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nX-A: b\r\n\r\n0\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\nProxy-Connection: x\r\nProxy-Authenticate: Basic\r\n\r\n",
    b'HTTP/1.1 304 Not Modified\r\nETag: "abc"\r\n\r\n',
    b"HTTP/1.1 200 OK\r\n\r\n",
]


@pytest.mark.parametrize("raw", UPSTREAM_HEADS)
@pytest.mark.parametrize(
    ("method", "version", "keep_alive"),
    [(b"GET", "1.1", True), (b"HEAD", "1.1", True), (b"POST", "1.0", True), (b"GET", "1.1", False)],
)
def test_the_raw_head_is_cut_exactly_like_the_header_list(
    raw: bytes, method: bytes, version: str, keep_alive: bool
) -> None:
    parsed = _Heads(raw)
    status = parsed.parser.get_status_code()
    expected = client_response_head(
        status, parsed.reason, parsed.headers, method=method, version=version, keep_alive=keep_alive
    )
    got = response_head_from_raw(
        raw, status, interim_seen=False, method=method, version=version, keep_alive=keep_alive
    )
    assert got == expected


def test_headers_named_in_connection_are_dropped_from_the_raw_head() -> None:
    head, *_ = response_head_from_raw(
        UPSTREAM_HEADS[1], 200, interim_seen=False, method=b"GET", version="1.1", keep_alive=True
    )
    assert head_lines(head) == [
        b"HTTP/1.1 200 OK",
        b"Date: Sun, 29 Nov 2026 00:00:00 GMT",
        b"X-Hop-Not: 3",
        b"Content-Length: 2",
    ]


def test_header_lines_pass_through_byte_for_byte_and_http_10_becomes_11() -> None:
    raw = b"HTTP/1.0 200 OK\r\nx-trace-id:abc\r\nContent-Length: 0\r\n\r\n"
    head, *_ = response_head_from_raw(
        raw, 200, interim_seen=False, method=b"GET", version="1.1", keep_alive=True
    )
    assert head_lines(head) == [b"HTTP/1.1 200 OK", b"x-trace-id:abc", b"Content-Length: 0"]


@pytest.mark.parametrize(
    ("raw", "interim_seen"),
    [
        (
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n",
            True,
        ),
        (b"HTTP/1.1 200\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n", False),
    ],
)
def test_unusual_heads_take_the_header_list_path(raw: bytes, interim_seen: bool) -> None:
    head, *_ = response_head_from_raw(
        raw, 200, interim_seen=interim_seen, method=b"GET", version="1.1", keep_alive=True
    )
    parsed = _Heads(raw)
    assert head_lines(head)[1:] == [b"X-A: 1", b"Content-Length: 0"]
    assert head_lines(head)[0] == b"HTTP/1.1 200 " + parsed.reason
