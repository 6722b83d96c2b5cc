"""``/api/v1/spaces/{id}/apps``: list, create, read, update, delete, rotate an OIDC client's
secret; ``/api/v1/spaces/{id}/departments`` lists the departments apps can be granted to.

The client secret appears in two answers only: creating the app and rotating its secret.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.spaces import apps
from dingbridge.spaces.app_input import AppInput, patched
from dingbridge.spaces.departments import list_departments
from dingbridge.spaces.store import get_space
from dingbridge.web.api.auth import Caller
from dingbridge.web.api.models import (
    AppCreatedOut,
    AppCredentialsOut,
    AppIn,
    AppOut,
    AppPatch,
    DepartmentOut,
)
from dingbridge.web.api.spaces import ERRORS
from dingbridge.web.urls import server_base

router = APIRouter(prefix="/api/v1/spaces/{space_id:int}", tags=["apps"], responses=ERRORS)


def _issuer(request: Request, space_id: int) -> str:
    return f"{server_base(request)}/{space_id}"


def app_out(request: Request, detail: apps.AppDetail) -> AppOut:
    app = detail.app
    return AppOut(
        id=app.id,
        name=app.title,
        url=app.url,
        icon=app.icon,
        kind=app.kind,
        access=app.access,
        departments=list(detail.departments),
        members=list(detail.members),
        client_id=app.client_id,
        public_client=app.public_client,
        client_secret_set=app.client_secret_hash is not None,
        redirect_uris=list(app.redirect_uris or ()),
        post_logout_redirect_uris=list(app.post_logout_redirect_uris or ()),
        backchannel_logout_uri=app.backchannel_logout_uri,
        issuer=_issuer(request, app.space_id) if app.kind == "oidc" else None,
        created_at=app.created_at,
    )


@router.get("/apps", summary="List a space's apps")
async def list_apps(request: Request, space_id: int, caller: Caller) -> list[AppOut]:
    async with get_context(request).db.session() as session:
        found = await apps.list_apps(session, space_id)
    return [app_out(request, detail) for detail in found]


@router.post(
    "/apps",
    status_code=201,
    summary="Add an app; an OIDC app's client secret is in this answer only",
)
async def create_app(request: Request, space_id: int, body: AppIn, caller: Caller) -> AppCreatedOut:
    values = body.model_dump()
    values["kind"] = body.kind or ("oidc" if body.redirect_uris else "link")
    data = patched(AppInput(name="", url=""), values)
    async with get_context(request).db.transaction() as session:
        saved = await apps.create_space_app(session, space_id, data, actor=caller.actor)
    shown = app_out(request, saved.detail).model_dump()
    return AppCreatedOut(**shown, client_secret=saved.client_secret)


@router.get("/apps/{app_id:int}", summary="One app")
async def get_app(request: Request, space_id: int, app_id: int, caller: Caller) -> AppOut:
    async with get_context(request).db.session() as session:
        return app_out(request, await apps.get_app(session, space_id, app_id))


@router.patch("/apps/{app_id:int}", summary="Change an app (only the fields given)")
async def update_app(
    request: Request, space_id: int, app_id: int, body: AppPatch, caller: Caller
) -> AppOut:
    changes = body.model_dump(exclude_unset=True)
    for clearable in ("icon", "backchannel_logout_uri"):  # null clears these
        if clearable in changes and changes[clearable] is None:
            changes[clearable] = ""
    async with get_context(request).db.transaction() as session:
        current = await apps.get_app(session, space_id, app_id)
        data = patched(current.as_input(), {k: v for k, v in changes.items() if v is not None})
        saved = await apps.update_space_app(session, space_id, app_id, data, actor=caller.actor)
    return app_out(request, saved.detail)


@router.delete("/apps/{app_id:int}", status_code=204, summary="Delete an app")
async def delete_app(request: Request, space_id: int, app_id: int, caller: Caller) -> Response:
    async with get_context(request).db.transaction() as session:
        await apps.delete_app(session, space_id, app_id, actor=caller.actor)
    return Response(status_code=204)


@router.post(
    "/apps/{app_id:int}/rotate-secret",
    summary="Issue a new client secret (shown in this answer only); the old one stops working",
)
async def rotate_secret(
    request: Request, space_id: int, app_id: int, caller: Caller
) -> AppCredentialsOut:
    async with get_context(request).db.transaction() as session:
        secret = await apps.rotate_client_secret(session, space_id, app_id, actor=caller.actor)
        app = (await apps.get_app(session, space_id, app_id)).app
    return AppCredentialsOut(
        id=app.id, client_id=app.client_id, client_secret=secret, issuer=_issuer(request, space_id)
    )


@router.get("/departments", summary="The space's DingTalk departments (from the directory import)")
async def departments(request: Request, space_id: int, caller: Caller) -> list[DepartmentOut]:
    async with get_context(request).db.session() as session:
        await get_space(session, space_id)
        found = await list_departments(session, space_id)
    return [
        DepartmentOut(id=d.id, dept_id=d.dept_id, name=d.name, parent_id=d.parent_id) for d in found
    ]
