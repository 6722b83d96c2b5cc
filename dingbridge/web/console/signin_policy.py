"""Console: a space's sign-in page (``/admin/spaces/{id}/signin``).

The binding policy, the DingTalk bindings (unbind), ending a member's sessions; the space's
apps have their own page (:mod:`dingbridge.web.console.apps`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.signin.binding_flow import POLICIES, get_policy, list_bindings, set_policy
from dingbridge.signin.member_sessions import end_member_sessions, unbind_and_sign_out
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.mobile import display_mobile
from dingbridge.spaces.store import get_space
from dingbridge.web.console.confirmations import binding_delete_url, confirmed
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin

router = APIRouter(include_in_schema=False)


def page_url(space_id: int, done: str = "") -> str:
    return f"/admin/spaces/{space_id}/signin" + (f"?done={done}" if done else "")


async def render_signin_page(
    request: Request, space_id: int, status: int = 200, **values: Any
) -> Response:
    """The sign-in page; ``values`` override the defaults (a form's errors and input)."""
    await require_admin(request)
    async with get_context(request).db.session() as session:
        space = await get_space(session, space_id)
        data: dict[str, Any] = {
            "space": space,
            "config": await load_dingtalk(session, space_id),
            "policy": await get_policy(session, space_id),
            "policies": POLICIES,
            "bindings": await list_bindings(session, space_id),
            "display_mobile": display_mobile,
        }
    data.update(values)
    return await render_page(request, "console/signin.html", data, status=status)


@router.get("/admin/spaces/{space_id:int}/signin")
async def signin_page(request: Request, space_id: int) -> Response:
    return await render_signin_page(request, space_id)


@router.post("/admin/spaces/{space_id:int}/signin/policy")
async def save_policy(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    try:
        async with get_context(request).db.transaction() as session:
            await set_policy(
                session, space_id, str(form.get("policy", "")), actor=actor(user.username)
            )
    except (ValidationFailed, NotFound) as exc:
        return await render_signin_page(request, space_id, status=400, policy_error=exc.message)
    return redirect(page_url(space_id, "policy"))


@router.post("/admin/spaces/{space_id:int}/signin/bindings/{binding_id:int}/delete")
async def delete_binding(request: Request, space_id: int, binding_id: int) -> Response:
    user = await require_admin(request)
    if not confirmed(await request.form()):
        return redirect(binding_delete_url(space_id, binding_id))
    await unbind_and_sign_out(
        get_context(request), space_id, binding_id, actor=actor(user.username)
    )
    return redirect(page_url(space_id, "unbound"))


@router.post("/admin/spaces/{space_id:int}/signin/members/{member_id:int}/revoke")
async def revoke_sessions(request: Request, space_id: int, member_id: int) -> Response:
    user = await require_admin(request)
    await end_member_sessions(get_context(request), space_id, member_id, actor=actor(user.username))
    return redirect(page_url(space_id, "revoked"))
