"""``/api/v1/openapi.json``: the API's OpenAPI document (no docs page: FastAPI's would load
scripts from a CDN; paste the document into any OpenAPI viewer instead)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge import __version__
from dingbridge.web.api import API_PREFIX

router = APIRouter(include_in_schema=False)

DESCRIPTION = """\
The dingbridge admin API: app spaces, members, DingTalk settings, apps, test connection, the audit
log.

Authenticate with an API token (`Authorization: Bearer dbt_...`, created in the console under
API 令牌 / API tokens or with `dingbridge admin token create --name N`), or from the console's
own pages with the admin session cookie plus the `X-CSRF-Token` header on changes.
Errors are `{"error": code, "message": text}` (with `problems` by field for validation).
"""


def api_document(request: Request) -> dict[str, Any]:
    cached: dict[str, Any] | None = getattr(request.app.state, "api_openapi", None)
    if cached is None:
        cached = get_openapi(
            title="dingbridge admin API",
            version=__version__,
            openapi_version="3.1.0",
            description=DESCRIPTION,
            routes=request.app.routes,
        )
        paths = cached.get("paths", {})
        cached["paths"] = {p: v for p, v in paths.items() if p.startswith(API_PREFIX + "/")}
        request.app.state.api_openapi = cached
    return cached


@router.get("/api/v1/openapi.json")
async def openapi_document(request: Request) -> Response:
    return JSONResponse(api_document(request))
