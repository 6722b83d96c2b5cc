"""The language switch: ``/lang/en?next=/admin/spaces`` sets a cookie and goes back."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.errors import NotFound
from dingbridge.settings import LANGUAGES
from dingbridge.web.i18n import LANG_COOKIE

router = APIRouter(include_in_schema=False)


@router.get("/lang/{language}")
async def switch_language(request: Request, language: str) -> Response:
    if language not in LANGUAGES:
        raise NotFound()
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, path="/", samesite="lax")
    return response
