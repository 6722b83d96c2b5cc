"""Responses the forwarder writes itself: JSON errors, /healthz and /metrics bodies."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b"Unknown"


def http_response(
    status: int,
    body: bytes,
    content_type: bytes = b"application/json; charset=utf-8",
    keep_alive: bool = True,
    head_only: bool = False,
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length body."""
    head = b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n" % (
        status,
        _reason(status),
        content_type,
        len(body),
    )
    head += b"Cache-Control: no-store\r\n"
    if not keep_alive:
        head += b"Connection: close\r\n"
    return head + b"\r\n" + (b"" if head_only else body)


def error_body(error: str, detail: str, **extra: Any) -> bytes:
    """The JSON body of every error the forwarder itself answers: ``{"error", "detail"}``."""
    payload: dict[str, Any] = {"error": error, "detail": detail}
    payload.update(extra)
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def error_response(status: int, error: str, detail: str, keep_alive: bool = True) -> bytes:
    return http_response(status, error_body(error, detail), keep_alive=keep_alive)
