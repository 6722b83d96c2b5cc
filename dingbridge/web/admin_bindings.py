"""Console: a space's sign-in page (``/admin/spaces/{id}/signin``).

The binding policy, the DingTalk bindings (unbind), ending a member's sessions, and the
space's apps (the links members see on the space home). Every change is audited.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.signin.binding_flow import POLICIES, get_policy, list_bindings, set_policy, unbind
from dingbridge.signin.member_session import revoke_member_sessions
from dingbridge.signin.pages import render
from dingbridge.signin.space_home import space_apps
from dingbridge.spaces import audit
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.members import get_member
from dingbridge.spaces.mobile import display_mobile
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import SpaceApp
from dingbridge.web.admin_session import (
    attach_anonymous_csrf,
    checked_form,
    csrf_token,
    require_admin,
)
from dingbridge.web.console_pages import actor, redirect
from dingbridge.web.context import get_context

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _page_url(space_id: int, done: str = "") -> str:
    return f"/admin/spaces/{space_id}/signin" + (f"?done={done}" if done else "")


async def _render(request: Request, space_id: int, status: int = 200, **values: Any) -> Response:
    admin = await require_admin(request)
    context = get_context(request)
    async with context.db.session() as session:
        space = await get_space(session, space_id)
        config = await load_dingtalk(session, space_id)
        policy = await get_policy(session, space_id)
        bindings = await list_bindings(session, space_id)
        apps = await space_apps(session, space_id)
    data: dict[str, Any] = {
        "admin": admin,
        "csrf_token": await csrf_token(request),
        "errors": {},
        "notice": request.query_params.get("done", ""),
        "space": space,
        "config": config,
        "policy": policy,
        "policies": POLICIES,
        "bindings": bindings,
        "apps": apps,
        "display_mobile": display_mobile,
        "app_form": {"title": "", "url": ""},
    }
    data.update(values)
    response = render(request, "space/admin_signin.html", data, status=status)
    return attach_anonymous_csrf(request, response)


@router.get("/admin/spaces/{space_id}/signin")
async def signin_page(request: Request, space_id: int) -> Response:
    return await _render(request, space_id)


@router.post("/admin/spaces/{space_id}/signin/policy")
async def save_policy(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await checked_form(request)
    context = get_context(request)
    try:
        async with context.db.transaction() as session:
            await set_policy(
                session, space_id, str(form.get("policy", "")), actor=actor(user.username)
            )
    except (ValidationFailed, NotFound) as exc:
        return await _render(request, space_id, status=400, policy_error=exc.message)
    return redirect(_page_url(space_id, "policy"))


@router.post("/admin/spaces/{space_id}/signin/bindings/{binding_id}/delete")
async def delete_binding(request: Request, space_id: int, binding_id: int) -> Response:
    user = await require_admin(request)
    await checked_form(request)
    context = get_context(request)
    async with context.db.transaction() as session:
        member = await unbind(session, space_id, binding_id, actor=actor(user.username))
    ended = await revoke_member_sessions(context, space_id, member.id)
    log.info(
        "space %d: binding %d removed by %s (%d sessions ended)",
        space_id,
        binding_id,
        user.username,
        ended,
    )
    return redirect(_page_url(space_id, "unbound"))


@router.post("/admin/spaces/{space_id}/signin/members/{member_id}/revoke")
async def revoke_sessions(request: Request, space_id: int, member_id: int) -> Response:
    user = await require_admin(request)
    await checked_form(request)
    context = get_context(request)
    async with context.db.transaction() as session:
        member = await get_member(session, space_id, member_id)
        ended = await revoke_member_sessions(context, space_id, member.id)
        await audit.record(
            session,
            actor(user.username),
            "member.sessions_revoked",
            f"space:{space_id}/member:{member_id}",
            {"name": member.name, "sessions": ended},
        )
    return redirect(_page_url(space_id, "revoked"))


def _clean_app(title: str, url: str) -> tuple[str, str]:
    problems: dict[str, str] = {}
    title = " ".join(title.split())
    url = url.strip()
    if not title or len(title) > 200:
        problems["title"] = "A title of 1 to 200 characters is required."
    parts = urlsplit(url)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    relative = url.startswith("/") and not url.startswith("//")
    if not (absolute or relative) or len(url) > 1000 or any(c.isspace() for c in url):
        problems["url"] = "Enter an http:// or https:// address, or a path starting with /."
    if problems:
        raise ValidationFailed(problems)
    return title, url


@router.post("/admin/spaces/{space_id}/signin/apps")
async def add_app(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await checked_form(request)
    title, url = str(form.get("title", "")), str(form.get("url", ""))
    context = get_context(request)
    try:
        clean_title, clean_url = _clean_app(title, url)
    except ValidationFailed as exc:
        return await _render(
            request,
            space_id,
            status=400,
            errors=exc.problems,
            app_form={"title": title, "url": url},
        )
    async with context.db.transaction() as session:
        await get_space(session, space_id)
        last = await session.scalar(
            select(func.max(SpaceApp.position)).where(SpaceApp.space_id == space_id)
        )
        app = SpaceApp(
            space_id=space_id, title=clean_title, url=clean_url, position=(last or 0) + 1
        )
        session.add(app)
        await session.flush()
        await audit.record(
            session,
            actor(user.username),
            "space_app.add",
            f"space:{space_id}/app:{app.id}",
            {"title": clean_title, "url": clean_url},
        )
    return redirect(_page_url(space_id, "app_added"))


@router.post("/admin/spaces/{space_id}/signin/apps/{app_id}/delete")
async def delete_app(request: Request, space_id: int, app_id: int) -> Response:
    user = await require_admin(request)
    await checked_form(request)
    context = get_context(request)
    async with context.db.transaction() as session:
        app = await session.get(SpaceApp, app_id)
        if app is None or app.space_id != space_id:
            raise NotFound(f"App {app_id} is not in space {space_id}.")
        await audit.record(
            session,
            actor(user.username),
            "space_app.delete",
            f"space:{space_id}/app:{app_id}",
            {"title": app.title, "url": app.url},
        )
        await session.delete(app)
    return redirect(_page_url(space_id, "app_deleted"))
