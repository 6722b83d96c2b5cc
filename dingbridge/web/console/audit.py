"""Console: the audit log, newest first."""

from __future__ import annotations

import json

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.spaces import audit
from dingbridge.web.console.pages import render_page
from dingbridge.web.console.session import require_admin

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100


@router.get("/admin/audit")
async def audit_page(request: Request) -> Response:
    await require_admin(request)
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    async with get_context(request).db.session() as session:
        entries = await audit.recent(session, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        total = await audit.count(session)
    return await render_page(
        request,
        "console/audit.html",
        {
            "entries": entries,
            "page": page,
            "has_next": page * PAGE_SIZE < total,
            "as_json": lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
        },
    )
