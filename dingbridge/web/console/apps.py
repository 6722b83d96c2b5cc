"""Console: a space's apps (``/admin/spaces/{id}/apps``): list, add, edit, delete (after a
confirmation page), rotate an OIDC client's secret (likewise).

A client secret is shown once, on the page that answers the change that issued it (never in a
URL, a redirect or the log); the page is ``no-store`` like every console page. Which fields
show for which kind and access is CSS only (``:has``); fields of another kind are dropped here
before the domain checks the rest.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import ValidationFailed
from dingbridge.spaces import apps
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.departments import list_departments
from dingbridge.spaces.members import list_members
from dingbridge.spaces.mobile import display_mobile
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import SpaceApp
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.urls import server_base

router = APIRouter(include_in_schema=False)

MAX_CHOOSER_MEMBERS = 2000
EMPTY_FORM = AppInput(name="", url="")


def apps_url(space_id: int, done: str = "") -> str:
    return f"/admin/spaces/{space_id}/apps" + (f"?done={done}" if done else "")


def issuer_of(request: Request, space_id: int) -> str:
    """The space's OpenID Connect issuer as members reach this server."""
    return f"{server_base(request)}/{space_id}"


def _ids(form: FormData, name: str) -> tuple[int, ...]:
    values = [str(v).strip() for v in form.getlist(name)]
    if not all(v.isdigit() for v in values):
        raise ValidationFailed({name: "Choose from the list."})
    return tuple(int(v) for v in values)


def _lines(form: FormData, name: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in str(form.get(name, "")).splitlines() if line.strip())


def parse_app_form(form: FormData) -> AppInput:
    """The form's app; the OIDC fields only when the kind is OIDC (they stay in the form,
    hidden, when the admin picks another kind)."""
    data = AppInput(
        name=str(form.get("name", "")),
        url=str(form.get("url", "")),
        icon=str(form.get("icon", "")),
        kind=str(form.get("kind", "link")),
        access=str(form.get("access", "all")),
        departments=_ids(form, "departments"),
        members=_ids(form, "members"),
        redirect_uris=_lines(form, "redirect_uris"),
        post_logout_redirect_uris=_lines(form, "post_logout_redirect_uris"),
        backchannel_logout_uri=str(form.get("backchannel_logout_uri", "")),
        public_client=str(form.get("client_type", "")) == "public",
    )
    if data.kind != "oidc":
        data = replace(
            data,
            redirect_uris=(),
            post_logout_redirect_uris=(),
            backchannel_logout_uri="",
            public_client=False,
        )
    return data


async def _space_values(request: Request, space_id: int) -> dict[str, Any]:
    async with get_context(request).db.session() as session:
        return {
            "space": await get_space(session, space_id),
            "apps": await apps.list_apps(session, space_id),
            "departments": await list_departments(session, space_id),
            "members": await list_members(session, space_id, limit=MAX_CHOOSER_MEMBERS),
        }


async def render_apps(request: Request, space_id: int) -> Response:
    await require_admin(request)
    values = await _space_values(request, space_id)
    values["issuer"] = issuer_of(request, space_id)
    return await render_page(request, "console/apps.html", values)


async def render_form(
    request: Request,
    space_id: int,
    *,
    app: SpaceApp | None = None,
    form: AppInput = EMPTY_FORM,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    await require_admin(request)
    values = await _space_values(request, space_id)
    values.update(
        app=app,
        form=form,
        errors=errors or {},
        issuer=issuer_of(request, space_id),
        display_mobile=display_mobile,
    )
    return await render_page(request, "console/app_form.html", values, status=status)


async def render_secret(
    request: Request, space_id: int, app: SpaceApp, secret: str, *, rotated: bool
) -> Response:
    """The one page that shows a client secret."""
    await require_admin(request)
    async with get_context(request).db.session() as session:
        space = await get_space(session, space_id)
    values = {
        "space": space,
        "app": app,
        "secret": secret,
        "rotated": rotated,
        "issuer": issuer_of(request, space_id),
    }
    return await render_page(request, "console/app_secret.html", values)


@router.get("/admin/spaces/{space_id:int}/apps")
async def apps_page(request: Request, space_id: int) -> Response:
    return await render_apps(request, space_id)


@router.get("/admin/spaces/{space_id:int}/apps/new")
async def new_app_page(request: Request, space_id: int) -> Response:
    return await render_form(request, space_id)


@router.post("/admin/spaces/{space_id:int}/apps")
async def create_app(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    data = EMPTY_FORM
    try:
        data = parse_app_form(form)
        async with get_context(request).db.transaction() as session:
            saved = await apps.create_space_app(session, space_id, data, actor=actor(user.username))
    except ValidationFailed as exc:
        return await render_form(request, space_id, form=data, status=400, errors=exc.problems)
    if saved.client_secret is not None:
        return await render_secret(request, space_id, saved.app, saved.client_secret, rotated=False)
    return redirect(apps_url(space_id, "app_added"))


@router.get("/admin/spaces/{space_id:int}/apps/{app_id:int}")
async def edit_app_page(request: Request, space_id: int, app_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        detail = await apps.get_app(session, space_id, app_id)
    return await render_form(request, space_id, app=detail.app, form=detail.as_input())


@router.post("/admin/spaces/{space_id:int}/apps/{app_id:int}")
async def update_app(request: Request, space_id: int, app_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    async with get_context(request).db.session() as session:
        current = (await apps.get_app(session, space_id, app_id)).app
    data = EMPTY_FORM
    try:
        data = parse_app_form(form)
        async with get_context(request).db.transaction() as session:
            saved = await apps.update_space_app(
                session, space_id, app_id, data, actor=actor(user.username)
            )
    except ValidationFailed as exc:
        return await render_form(
            request, space_id, app=current, form=data, status=400, errors=exc.problems
        )
    if saved.client_secret is not None:
        return await render_secret(request, space_id, saved.app, saved.client_secret, rotated=False)
    return redirect(apps_url(space_id, "app_saved"))


async def _confirm(request: Request, space_id: int, app_id: int, action: str) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        space = await get_space(session, space_id)
        detail = await apps.get_app(session, space_id, app_id)
    values = {"space": space, "app": detail.app, "action": action}
    return await render_page(request, "console/app_confirm.html", values)


@router.get("/admin/spaces/{space_id:int}/apps/{app_id:int}/delete")
async def confirm_delete(request: Request, space_id: int, app_id: int) -> Response:
    return await _confirm(request, space_id, app_id, "delete")


@router.post("/admin/spaces/{space_id:int}/apps/{app_id:int}/delete")
async def delete_app(request: Request, space_id: int, app_id: int) -> Response:
    user = await require_admin(request)
    async with get_context(request).db.transaction() as session:
        await apps.delete_app(session, space_id, app_id, actor=actor(user.username))
    return redirect(apps_url(space_id, "app_deleted"))


@router.get("/admin/spaces/{space_id:int}/apps/{app_id:int}/rotate-secret")
async def confirm_rotate(request: Request, space_id: int, app_id: int) -> Response:
    return await _confirm(request, space_id, app_id, "rotate-secret")


@router.post("/admin/spaces/{space_id:int}/apps/{app_id:int}/rotate-secret")
async def rotate_secret(request: Request, space_id: int, app_id: int) -> Response:
    user = await require_admin(request)
    async with get_context(request).db.transaction() as session:
        secret = await apps.rotate_client_secret(
            session, space_id, app_id, actor=actor(user.username)
        )
        app = (await apps.get_app(session, space_id, app_id)).app
    return await render_secret(request, space_id, app, secret, rotated=True)
