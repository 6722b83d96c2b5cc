"""The response head the forwarder writes to its client, for each way an upstream frames a body."""

from __future__ import annotations

from dingbridge.forwarder.http_framing import client_response_head


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
