"""``/api/v1/spaces/{id}/dingtalk``: the "钉钉授权(微应用)" settings (AppSecret write-only), the
values to paste into DingTalk, test connection and the directory import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request

from dingbridge.context import get_context
from dingbridge.spaces.connection_test import run_connection_test, save_dingtalk_settings
from dingbridge.spaces.dingtalk_settings import (
    DingTalkConfig,
    DingTalkInput,
    load_dingtalk,
)
from dingbridge.spaces.directory_jobs import import_state, start_import
from dingbridge.spaces.store import get_space
from dingbridge.web.api.auth import Caller
from dingbridge.web.api.models import (
    CheckOut,
    ConnectionTestOut,
    DingTalkIn,
    DingTalkOut,
    DirectoryImportOut,
    PermissionOut,
    SetupValuesOut,
)
from dingbridge.web.api.spaces import ERRORS
from dingbridge.web.console.setup_values import setup_values
from dingbridge.web.urls import server_base

router = APIRouter(prefix="/api/v1/spaces/{space_id:int}", tags=["dingtalk"], responses=ERRORS)


def dingtalk_out(config: DingTalkConfig) -> DingTalkOut:
    return DingTalkOut(
        enabled=config.enabled,
        corp_name=config.corp_name,
        corp_id=config.corp_id,
        agent_id=config.agent_id,
        app_key=config.app_key,
        app_secret_set=config.has_app_secret,
        api_version=config.api_version,
        forward_url=config.forward_url,
        egress_ip_seen=config.egress_ip_seen,
        updated_at=config.updated_at,
    )


async def _load(request: Request, space_id: int) -> DingTalkConfig:
    async with get_context(request).db.session() as session:
        await get_space(session, space_id)
        return await load_dingtalk(session, space_id)


@router.get("/dingtalk", summary="The space's DingTalk settings (the AppSecret only as set/unset)")
async def get_dingtalk(request: Request, space_id: int, caller: Caller) -> DingTalkOut:
    return dingtalk_out(await _load(request, space_id))


@router.put("/dingtalk", summary="Save the DingTalk settings; they apply at once")
async def put_dingtalk(
    request: Request, space_id: int, body: DingTalkIn, caller: Caller
) -> DingTalkOut:
    values: dict[str, Any] = body.model_dump()
    values["app_secret"] = values["app_secret"] or ""
    config = await save_dingtalk_settings(
        get_context(request), space_id, DingTalkInput(**values), actor=caller.actor
    )
    return dingtalk_out(config)


@router.get("/dingtalk/setup-values", summary="What to paste into the DingTalk developer console")
async def get_setup_values(request: Request, space_id: int, caller: Caller) -> SetupValuesOut:
    values = setup_values(request, await _load(request, space_id))
    return SetupValuesOut(
        home_url=values.home_url,
        pc_home_url=values.pc_home_url,
        redirect_url=values.redirect_url,
        egress_ip=values.egress_ip,
        permissions=[PermissionOut(code=p.code, name=p.name) for p in values.permissions],
    )


@router.post(
    "/dingtalk/test",
    summary="Test connection: every setup check in the vendor guide's order",
    responses={503: {"description": "The doctor is not installed."}},
)
async def test_dingtalk(request: Request, space_id: int, caller: Caller) -> ConnectionTestOut:
    run = await run_connection_test(
        get_context(request), space_id, base_url=server_base(request), actor=caller.actor
    )
    return ConnectionTestOut(
        ok=run.ok,
        egress_ip=run.egress_ip,
        checks=[
            CheckOut(
                id=c["id"],
                title_zh=c["title_zh"],
                title_en=c["title_en"],
                status=c["status"],
                cause=c.get("cause"),
                fix=c.get("fix"),
                detail=c.get("detail", ""),
            )
            for c in run.checks
        ],
    )


def _import_out(record: dict[str, Any]) -> DirectoryImportOut:
    return DirectoryImportOut(
        status=record["status"],
        started_at=record["started_at"],
        finished_at=record.get("finished_at"),
        progress=record.get("progress") or {},
        error=record.get("error"),
        skipped=record.get("skipped") or [],
    )


@router.post(
    "/directory-import",
    status_code=202,
    summary="Start importing members from the DingTalk directory (runs in the background)",
    responses={409: {"description": "An import is already running for this space."}},
)
async def post_directory_import(
    request: Request, space_id: int, caller: Caller
) -> DirectoryImportOut:
    record = await start_import(get_context(request), space_id, actor=caller.actor)
    return _import_out(record)


@router.get("/directory-import", summary="The current or last directory import and its progress")
async def get_directory_import(
    request: Request, space_id: int, caller: Caller
) -> DirectoryImportOut | None:
    await _load(request, space_id)
    record = await import_state(get_context(request), space_id)
    return None if record is None else _import_out(record)
