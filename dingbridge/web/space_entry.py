"""``/{space_id}/``: the one entry URL of an app space.

For now a placeholder naming the space; the sign-in flows (``dingbridge.signin``) take this URL
over: they register their routes in ``create_app`` before this router.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from dingbridge.errors import NotFound
from dingbridge.spaces.store import find_space
from dingbridge.web.context import get_context

router = APIRouter(include_in_schema=False)


@router.get("/{space_id:int}")
async def space_entry_no_slash(space_id: int) -> Response:
    return RedirectResponse(f"/{space_id}/", status_code=308)


@router.get("/{space_id:int}/")
async def space_entry(request: Request, space_id: int) -> Response:
    context = get_context(request)
    async with context.db.session() as session:
        space = await find_space(session, space_id)
    if space is None or not space.enabled:
        raise NotFound("This app space does not exist or is disabled.")
    return context.templates.response(request, "space_entry.html", {"space": space})
