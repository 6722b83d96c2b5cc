"""Rendering the sign-in pages (``web/templates/space/``) in the visitor's language, with the
console's templates and message catalogs (zh-CN by default, English switchable)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from dingbridge.web.context import get_context

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def gettext_for(request: Request, message: str) -> str:
    return get_context(request).templates.gettext(request, message)


def render(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    response = get_context(request).templates.response(request, name, values or {}, status)
    response.headers.update(SECURITY_HEADERS)
    return response
