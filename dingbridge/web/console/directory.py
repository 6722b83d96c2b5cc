"""Console: "从钉钉通讯录导入 / Import from DingTalk directory" on the members page.

The button starts a background import (:mod:`dingbridge.spaces.directory_jobs`) and returns to
the members page, which polls ``directory-import.json`` for progress and reloads at the end.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.spaces.directory_jobs import import_state, start_import
from dingbridge.spaces.store import get_space
from dingbridge.web.console.pages import actor, redirect
from dingbridge.web.console.session import require_admin

router = APIRouter(include_in_schema=False)


@router.post("/admin/spaces/{space_id:int}/directory-import")
async def start_directory_import(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    members = f"/admin/spaces/{space_id}/members"
    try:
        await start_import(get_context(request), space_id, actor=actor(user.username))
    except ValidationFailed:
        return redirect(f"{members}?import_error=not_configured#directory-import")
    except Conflict:
        return redirect(f"{members}?import_error=running#directory-import")
    return redirect(f"{members}?done=import_started#directory-import")


@router.get("/admin/spaces/{space_id:int}/directory-import.json")
async def directory_import_progress(request: Request, space_id: int) -> Response:
    await require_admin(request)
    context = get_context(request)
    async with context.db.session() as session:
        await get_space(session, space_id)
    state = await import_state(context, space_id)
    response = JSONResponse(state or {"status": "none"})
    response.headers["Cache-Control"] = "no-store"
    return response
