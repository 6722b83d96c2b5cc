"""Rendering the sign-in pages (``web/templates/space/``) in the visitor's language, with the
console's templates and message catalogs (zh-CN by default, English switchable)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from dingbridge.web.templating import get_templates


def gettext_for(request: Request, message: str) -> str:
    return get_templates(request).gettext(request, message)


def render(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    response = get_templates(request).response(request, name, values or {}, status)
    response.headers["Cache-Control"] = "no-store"  # the rest: web.security_headers
    return response
