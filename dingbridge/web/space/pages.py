"""Rendering the sign-in pages (``web/templates/space/``) in the visitor's language, with the
console's templates and message catalogs (zh-CN by default, English switchable)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from dingbridge.signin.space_cache import SpaceView
from dingbridge.web.security_headers import allow_form_targets
from dingbridge.web.templating import get_templates


def gettext_for(request: Request, message: str) -> str:
    return get_templates(request).gettext(request, message)


def render(
    request: Request, name: str, values: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    response = get_templates(request).response(request, name, values or {}, status)
    response.headers["Cache-Control"] = "no-store"  # the rest: web.security_headers
    return response


def allow_app_targets(request: Request, space: SpaceView) -> None:
    """Let this page's forms end at the space's apps: the binding form's redirects go on to
    the OpenID authorization endpoint or the gate, and from there to an app; the end-session
    confirmation goes to an app's registered sign-out address (``form-action``, see
    :mod:`dingbridge.web.security_headers`)."""
    urls: list[str] = []
    for app in space.apps:
        urls += app.redirect_uris + app.post_logout_redirect_uris
        if app.kind == "forward_auth":
            urls.append(app.url)
    allow_form_targets(request, urls)
