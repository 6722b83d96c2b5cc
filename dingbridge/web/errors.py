"""One error handler: HTML for browsers, JSON for ``/api/`` and clients that ask for JSON.

It shows the error's own message (written for users) and never a traceback or a secret;
unexpected exceptions become a plain 500 and go to the log with their traceback.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import (
    Conflict,
    DingbridgeError,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    ValidationFailed,
)
from dingbridge.kv import KVError
from dingbridge.storage.db import database_failure
from dingbridge.web.console.session import LoginRequired
from dingbridge.web.templating import get_templates

log = logging.getLogger(__name__)


# The OpenID Connect endpoints that apps (not browsers) call: their errors are JSON.
_OIDC_API = re.compile(r"/\d+/(oidc/(token|userinfo|introspect|revoke|jwks)|\.well-known/.*)")


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or _OIDC_API.fullmatch(path):
        return True
    accept = request.headers.get("accept", "")
    if "application/json" in accept and "text/html" not in accept:
        return True
    # A script that posts JSON (the in-client sign-in's fetch, Accept */*) reads JSON back.
    sent = request.headers.get("content-type", "")
    return sent.startswith("application/json") and "text/html" not in accept


def error_response(request: Request, error: DingbridgeError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, TooManyRequests):
        headers["Retry-After"] = str(max(1, int(error.retry_after + 0.999)))
    if wants_json(request):
        body: dict[str, object] = {"error": error.code, "message": error.message}
        if isinstance(error, ValidationFailed):
            body["problems"] = error.problems
        return JSONResponse(body, status_code=error.status, headers=headers)
    if isinstance(error, LoginRequired) and request.method == "GET":
        return RedirectResponse(f"/admin/login?next={quote(request.url.path)}", status_code=303)
    templates = get_templates(request)
    response = templates.response(
        request,
        "error.html",
        {
            "status": error.status,
            "title": HTTPStatus(error.status).phrase,
            "message": templates.gettext(request, error.message),
        },
        status=error.status,
    )
    response.headers.update(headers)
    return response


DATABASE_MESSAGES = {
    "unreachable": (
        "The database is not reachable right now. Nothing was changed. Try again in a moment; "
        "if it lasts, ask the administrator to check the database."
    ),
    "busy": "The database is busy. Nothing was changed. Try again in a moment.",
    "full": (
        "The database is full (no disk space left). Nothing was changed. "
        "Ask the administrator to free disk space."
    ),
    "read-only": (
        "The database cannot be written (read-only). Nothing was changed. "
        "Ask the administrator to check the database file and its folder."
    ),
}


def install_error_handlers(app: FastAPI) -> None:
    async def on_dingbridge_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DingbridgeError)
        return error_response(request, exc)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        error = DingbridgeError(HTTPStatus(exc.status_code).phrase)
        error.status = exc.status_code
        error.code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return error_response(request, error)

    async def on_request_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not request.url.path.startswith("/api/"):
            return error_response(request, NotFound())  # a console URL with a bad id
        problems: dict[str, str] = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            problems.setdefault(where or "body", str(error.get("msg", "invalid")))
        return error_response(request, ValidationFailed(problems))

    async def on_integrity_error(request: Request, exc: Exception) -> Response:
        # Two requests racing for the same unique value (a mobile, a binding): the loser
        # gets a plain conflict; the check before the write covers the ordinary case.
        log.info("conflicting write on %s %s", request.method, request.url.path)
        return error_response(request, Conflict())

    async def on_kv_error(request: Request, exc: Exception) -> Response:
        # Redis down: the request needed a session, a code or a rate limit; it comes back
        # by itself when Redis does (redis-py reconnects), so say "try again", not "bug".
        log.warning("key-value store unreachable on %s %s", request.method, request.url.path)
        return error_response(
            request,
            ServiceUnavailable(
                "The session store (Redis) is not reachable right now. Try again in a moment; "
                "if it lasts, ask the administrator to check Redis."
            ),
        )

    async def on_database_error(request: Request, exc: Exception) -> Response:
        # The database down, full or read-only: "try again later", not "bug"; it recovers
        # by itself (PostgreSQL: the pool reconnects; SQLite: when the file can be written).
        kind = database_failure(exc)
        if kind is None:
            return await on_unexpected(request, exc)
        get_context(request).db.note_failure(kind)
        log.error(
            "database %s on %s %s: %s", kind, request.method, request.url.path, type(exc).__name__
        )
        return error_response(request, ServiceUnavailable(DATABASE_MESSAGES[kind]))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DBAPIError) and database_failure(exc):  # raised in a middleware
            return await on_database_error(request, exc)
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, DingbridgeError())

    app.add_exception_handler(DingbridgeError, on_dingbridge_error)
    app.add_exception_handler(HTTPException, on_http_exception)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(KVError, on_kv_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
