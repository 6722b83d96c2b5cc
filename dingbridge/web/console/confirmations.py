"""Console: the pages that ask before a destructive action and say what it takes away.

Each is a GET page whose form POSTs to the action with ``confirm=1``; the action's POST
without it sends the admin here instead of acting (no script needed, so a strict CSP holds).
Deleting a member (and their DingTalk binding), disabling a space, removing a binding.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.spaces.losses import binding_loss, member_loss, space_loss
from dingbridge.spaces.mobile import display_mobile
from dingbridge.web.console.pages import render_page
from dingbridge.web.console.session import require_admin

router = APIRouter(include_in_schema=False)


def confirmed(form: FormData) -> bool:
    """Whether the admin confirmed on the confirmation page (the form carries ``confirm=1``)."""
    return form.get("confirm") == "1"


def member_delete_url(space_id: int, member_id: int) -> str:
    return f"/admin/spaces/{space_id}/members/{member_id}/delete"


def space_disable_url(space_id: int) -> str:
    return f"/admin/spaces/{space_id}/disable"


def binding_delete_url(space_id: int, binding_id: int) -> str:
    return f"/admin/spaces/{space_id}/signin/bindings/{binding_id}/delete"


@router.get("/admin/spaces/{space_id:int}/members/{member_id:int}/delete")
async def confirm_member_delete(request: Request, space_id: int, member_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        loss = await member_loss(session, space_id, member_id)
    return await render_page(
        request,
        "console/confirm.html",
        {
            "kind": "member_delete",
            "space": loss.space,
            "loss": loss,
            "display_mobile": display_mobile,
            "action": member_delete_url(space_id, member_id),
            "fields": {},
            "back": f"/admin/spaces/{space_id}/members/{member_id}",
        },
    )


@router.get("/admin/spaces/{space_id:int}/disable")
async def confirm_space_disable(request: Request, space_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        loss = await space_loss(session, space_id)
    return await render_page(
        request,
        "console/confirm.html",
        {
            "kind": "space_disable",
            "space": loss.space,
            "loss": loss,
            "action": f"/admin/spaces/{space_id}/enabled",
            "fields": {"enabled": "0"},
            "back": f"/admin/spaces/{space_id}",
        },
    )


@router.get("/admin/spaces/{space_id:int}/signin/bindings/{binding_id:int}/delete")
async def confirm_binding_delete(request: Request, space_id: int, binding_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        loss = await binding_loss(session, space_id, binding_id)
    return await render_page(
        request,
        "console/confirm.html",
        {
            "kind": "binding_delete",
            "space": loss.space,
            "loss": loss,
            "display_mobile": display_mobile,
            "action": binding_delete_url(space_id, binding_id),
            "fields": {},
            "back": f"/admin/spaces/{space_id}/signin#bindings",
        },
    )
