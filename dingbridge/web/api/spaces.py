"""``/api/v1/spaces``: list, create, read, rename and enable/disable app spaces."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request

from dingbridge.context import get_context
from dingbridge.spaces import store
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.members import count_members
from dingbridge.web.api.auth import Caller
from dingbridge.web.api.models import Problem, SpaceCreate, SpaceOut, SpacePatch
from dingbridge.web.urls import space_address

ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": Problem},
    401: {"model": Problem},
    403: {"model": Problem},
    404: {"model": Problem},
}
router = APIRouter(prefix="/api/v1", tags=["spaces"], responses=ERRORS)


async def _space_out(request: Request, space_id: int) -> SpaceOut:
    async with get_context(request).db.session() as session:
        space = await store.get_space(session, space_id)
        members = await count_members(session, space_id)
        dingtalk = await load_dingtalk(session, space_id)
    return SpaceOut(
        id=space.id,
        name=space.name,
        enabled=space.enabled,
        members=members,
        dingtalk_enabled=dingtalk.enabled,
        url=space_address(request, space.id),
    )


@router.get("/spaces", summary="List the app spaces")
async def list_spaces(request: Request, caller: Caller) -> list[SpaceOut]:
    async with get_context(request).db.session() as session:
        summaries = await store.list_spaces(session)
    return [
        SpaceOut(
            id=s.space.id,
            name=s.space.name,
            enabled=s.space.enabled,
            members=s.members,
            dingtalk_enabled=s.dingtalk_enabled,
            url=space_address(request, s.space.id),
        )
        for s in summaries
    ]


@router.post("/spaces", status_code=201, summary="Create an app space (ids from 10001 up)")
async def create_space(request: Request, body: SpaceCreate, caller: Caller) -> SpaceOut:
    async with get_context(request).db.transaction() as session:
        space = await store.create_space(session, body.name, actor=caller.actor)
    return await _space_out(request, space.id)


@router.get("/spaces/{space_id:int}", summary="One app space")
async def get_space(request: Request, space_id: int, caller: Caller) -> SpaceOut:
    return await _space_out(request, space_id)


@router.patch("/spaces/{space_id:int}", summary="Rename, disable or enable an app space")
async def patch_space(
    request: Request, space_id: int, body: SpacePatch, caller: Caller
) -> SpaceOut:
    async with get_context(request).db.transaction() as session:
        if body.name is not None:
            await store.rename_space(session, space_id, body.name, actor=caller.actor)
        if body.enabled is not None:
            await store.set_space_enabled(session, space_id, body.enabled, actor=caller.actor)
        await store.get_space(session, space_id)
    return await _space_out(request, space_id)
