"""Console: adding and deleting a space's apps (shown on the space's sign-in page)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import ValidationFailed
from dingbridge.spaces import apps
from dingbridge.web.console.pages import actor, redirect
from dingbridge.web.console.session import require_admin
from dingbridge.web.console.signin_policy import page_url, render_signin_page

router = APIRouter(include_in_schema=False)


@router.post("/admin/spaces/{space_id}/signin/apps")
async def add_app(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    title, url = str(form.get("title", "")), str(form.get("url", ""))
    try:
        async with get_context(request).db.transaction() as session:
            await apps.add_app(session, space_id, title, url, actor=actor(user.username))
    except ValidationFailed as exc:
        return await render_signin_page(
            request,
            space_id,
            status=400,
            errors=exc.problems,
            app_form={"title": title, "url": url},
        )
    return redirect(page_url(space_id, "app_added"))


@router.post("/admin/spaces/{space_id}/signin/apps/{app_id}/delete")
async def delete_app(request: Request, space_id: int, app_id: int) -> Response:
    user = await require_admin(request)
    async with get_context(request).db.transaction() as session:
        await apps.delete_app(session, space_id, app_id, actor=actor(user.username))
    return redirect(page_url(space_id, "app_deleted"))
