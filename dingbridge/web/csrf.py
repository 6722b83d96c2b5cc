"""CSRF protection for the console and the admin API, in one place.

Every unsafe request (not GET, HEAD or OPTIONS) under ``/admin/`` must carry the CSRF token as
the form field ``csrf_token`` or the ``X-CSRF-Token`` header: the signed-in admin's session
token, or before sign-in (login and setup forms) the value of the ``dingbridge_csrf`` cookie.
Under ``/api/`` a call made with the admin session cookie needs the header; a call with an API
token (``Authorization``) needs none, since no browser sends it by itself. Anything else gets
403 before any handler runs, so a new console route is protected without doing anything.

The body of a checked form is read here once and handed on unchanged to the handler.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dingbridge.errors import CsrfFailed, PayloadTooLarge
from dingbridge.web.console.session import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, current_admin
from dingbridge.web.errors import error_response

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CONSOLE_PREFIX = "/admin/"
API_PREFIX = "/api/"
MAX_FORM_BYTES = 16 * 1024 * 1024
"""The largest console form (a CSV import): larger bodies are refused with 413."""


def _matches(sent: object, expected: str) -> bool:
    return (
        isinstance(sent, str)
        and bool(sent)
        and bool(expected)
        and (hmac.compare_digest(sent.encode(), expected.encode()))
    )


class CsrfMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONSOLE_PREFIX):
            await self._console(scope, receive, send)
        elif path.startswith(API_PREFIX):
            await self._api(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _api(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if "authorization" not in request.headers:
            user = await current_admin(request)
            if user is not None and not _matches(request.headers.get(CSRF_HEADER), user.csrf_token):
                error = CsrfFailed("Send the console's CSRF token in the X-CSRF-Token header.")
                await error_response(request, error)(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _console(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_FORM_BYTES:
                request = Request(scope)
                await error_response(request, PayloadTooLarge())(scope, receive, send)
                return
        replay = _Replay(bytes(body), receive)
        request = Request(scope, replay.receive)
        user = await current_admin(request)
        expected = user.csrf_token if user else request.cookies.get(CSRF_COOKIE, "")
        sent: object = request.headers.get(CSRF_HEADER)
        if not sent and _is_form(request):
            form = await request.form()
            sent = form.get(CSRF_FIELD)
            await form.close()
        if not _matches(sent, expected):
            await error_response(request, CsrfFailed())(scope, receive, send)
            return
        await self.app(scope, _Replay(bytes(body), receive).receive, send)


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))


class _Replay:
    """A ``receive`` that gives the buffered body once, then waits on the real one."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self._body: bytes | None = body
        self._receive = receive

    async def receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        return await self._receive()
