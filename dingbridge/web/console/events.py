"""Console: a space's directory events page (``/admin/spaces/{id}/events``, "通讯录同步").

How DingTalk's directory events arrive (Stream, HTTP push, off), the HTTP callback keys
(generated here and shown once, with the callback URL to paste), the sync guard, the work
notifications and the admins they go to, and "立即同步 / Sync now" with its preview: a
background run (:mod:`dingbridge.events.sync_jobs`) whose progress the page polls
(``events/sync.json``) and whose outcome — the guard's stop included — it shows.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import Conflict, ValidationFailed
from dingbridge.events.sync_jobs import start_sync, sync_state
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.event_settings import (
    DEFAULT_GUARD_PERCENT,
    EVENT_MODES,
    CallbackKeys,
    load_event_settings,
    save_event_settings,
    split_userids,
)
from dingbridge.spaces.store import get_space
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.templating import get_templates
from dingbridge.web.urls import server_base

router = APIRouter(include_in_schema=False)


def page_url(space_id: int, done: str = "", anchor: str = "") -> str:
    url = f"/admin/spaces/{space_id}/events" + (f"?done={done}" if done else "")
    return url + (f"#{anchor}" if anchor else "")


async def render_events_page(
    request: Request,
    space_id: int,
    status: int = 200,
    keys: CallbackKeys | None = None,
    **values: Any,
) -> Response:
    await require_admin(request)
    context = get_context(request)
    async with context.db.session() as session:
        space = await get_space(session, space_id)
        config = await load_dingtalk(session, space_id)
        settings = await load_event_settings(session, space_id)
    language = get_templates(request).language(request)
    data: dict[str, Any] = {
        "space": space,
        "config": config,
        "settings": settings,
        "modes": EVENT_MODES,
        "keys": keys,
        "callback_url": f"{server_base(request)}/{space_id}/dingtalk/events",
        "sync": await sync_state(context, space_id),
        "sync_error": request.query_params.get("sync_error", ""),
        "ready": bool(config.corp_id and config.app_key and config.has_app_secret),
        "en": language.startswith("en"),
        "form": None,
    }
    data.update(values)
    return await render_page(request, "console/events.html", data, status=status)


@router.get("/admin/spaces/{space_id}/events")
async def events_page(request: Request, space_id: int) -> Response:
    return await render_events_page(request, space_id)


def _int(text: str, default: int) -> int:
    text = text.strip().rstrip("%").strip()
    try:
        return int(text)
    except ValueError:
        return -1 if text else default


@router.post("/admin/spaces/{space_id}/events")
async def save_events(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    typed = {name: str(form.get(name, "")) for name in ("mode", "guard", "admin_userids")}
    try:
        async with get_context(request).db.transaction() as session:
            await save_event_settings(
                session,
                get_context(request).secret_box,
                space_id,
                mode=typed["mode"],
                guard_percent=_int(typed["guard"], DEFAULT_GUARD_PERCENT),
                notify_binding=form.get("notify_binding") == "1",
                notify_admins=form.get("notify_admins") == "1",
                admin_userids=split_userids(typed["admin_userids"]),
                actor=actor(user.username),
            )
    except ValidationFailed as exc:
        return await render_events_page(
            request, space_id, status=400, errors=exc.problems, form=typed
        )
    return redirect(page_url(space_id, "saved"))


@router.post("/admin/spaces/{space_id}/events/keys")
async def new_callback_keys(request: Request, space_id: int) -> Response:
    """New HTTP push keys, shown on this answer only (the page after it no longer has them)."""
    user = await require_admin(request)
    context = get_context(request)
    async with context.db.transaction() as session:
        _settings, keys = await save_event_settings(
            session,
            context.secret_box,
            space_id,
            new_callback_keys=True,
            actor=actor(user.username),
        )
    return await render_events_page(request, space_id, keys=keys)


@router.post("/admin/spaces/{space_id}/events/sync")
async def sync_now(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    try:
        await start_sync(
            get_context(request),
            space_id,
            dry_run=form.get("dry_run") == "1",
            actor=actor(user.username),
        )
    except ValidationFailed:
        return redirect(f"/admin/spaces/{space_id}/events?sync_error=not_configured#sync")
    except Conflict:
        return redirect(f"/admin/spaces/{space_id}/events?sync_error=running#sync")
    return redirect(page_url(space_id, "sync_started", "sync"))


@router.get("/admin/spaces/{space_id}/events/sync.json")
async def sync_progress(request: Request, space_id: int) -> Response:
    await require_admin(request)
    context = get_context(request)
    async with context.db.session() as session:
        await get_space(session, space_id)
    response = JSONResponse(await sync_state(context, space_id) or {"status": "none"})
    response.headers["Cache-Control"] = "no-store"
    return response
