"""Rendering console pages: every page gets the admin, the CSRF token and the language."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.web.console.session import attach_anonymous_csrf, csrf_token, current_admin
from dingbridge.web.templating import get_templates


async def render_page(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> Response:
    user = await current_admin(request)
    context: dict[str, Any] = {
        "admin": user,
        "csrf_token": await csrf_token(request),
        "errors": {},
        "notice": request.query_params.get("done", ""),
    }
    context.update(values or {})
    response = get_templates(request).response(request, name, context, status=status)
    response.headers["Cache-Control"] = "no-store"  # the other security headers: every answer
    return attach_anonymous_csrf(request, response)


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def actor(username: str) -> str:
    return f"admin:{username}"
