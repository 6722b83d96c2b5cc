"""Console: the list of app spaces, creating one, and a space's overview (rename, disable)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import ValidationFailed
from dingbridge.spaces import store
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.members import count_members
from dingbridge.web.console.confirmations import confirmed, space_disable_url
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.urls import space_address

router = APIRouter(include_in_schema=False)


@router.get("/admin/spaces")
async def spaces_page(request: Request) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        spaces = await store.list_spaces(session)
    return await render_page(request, "console/spaces.html", {"spaces": spaces, "name": ""})


@router.post("/admin/spaces")
async def create_space(request: Request) -> Response:
    user = await require_admin(request)
    form = await request.form()
    name = str(form.get("name", ""))
    context = get_context(request)
    try:
        async with context.db.transaction() as session:
            space = await store.create_space(session, name, actor=actor(user.username))
    except ValidationFailed as exc:
        async with context.db.session() as session:
            spaces = await store.list_spaces(session)
        return await render_page(
            request,
            "console/spaces.html",
            {"spaces": spaces, "name": name, "errors": exc.problems},
            status=400,
        )
    return redirect(f"/admin/spaces/{space.id}?done=created")


@router.get("/admin/spaces/{space_id:int}")
async def space_page(request: Request, space_id: int) -> Response:
    await require_admin(request)
    return await _render_space(request, space_id)


async def _render_space(
    request: Request,
    space_id: int,
    *,
    name: str | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """The space page; after a refused rename it keeps the typed name and lists the problems."""
    async with get_context(request).db.session() as session:
        space = await store.get_space(session, space_id)
        members = await count_members(session, space_id)
        dingtalk = await load_dingtalk(session, space_id)
    values = {
        "space": space,
        "members": members,
        "dingtalk": dingtalk,
        "space_url": space_address(request, space_id),
        "name": space.name if name is None else name,
    }
    if errors is not None:
        values["errors"] = errors
    return await render_page(request, "console/space.html", values, status=400 if errors else 200)


@router.post("/admin/spaces/{space_id:int}/rename")
async def rename_space(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    name = str(form.get("name", ""))
    context = get_context(request)
    try:
        async with context.db.transaction() as session:
            await store.rename_space(session, space_id, name, actor=actor(user.username))
    except ValidationFailed as exc:
        return await _render_space(request, space_id, name=name, errors=exc.problems)
    return redirect(f"/admin/spaces/{space_id}?done=saved")


@router.post("/admin/spaces/{space_id:int}/enabled")
async def set_enabled(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    enabled = form.get("enabled") == "1"
    if not enabled and not confirmed(form):
        return redirect(space_disable_url(space_id))
    async with get_context(request).db.transaction() as session:
        await store.set_space_enabled(session, space_id, enabled, actor=actor(user.username))
    return redirect(f"/admin/spaces/{space_id}?done={'enabled' if enabled else 'disabled'}")
