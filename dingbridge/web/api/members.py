"""``/api/v1/spaces/{id}/members``: list, add, edit (and disable), delete, import CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dingbridge.context import get_context
from dingbridge.errors import BadRequest
from dingbridge.signin.member_sessions import delete_member as delete_member_everywhere
from dingbridge.spaces import members as member_ops
from dingbridge.spaces.csv_import import CsvImportFailed, ImportReport, import_members
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import Member
from dingbridge.web.api.auth import Caller
from dingbridge.web.api.models import CsvImportOut, MemberIn, MemberOut, MemberPatch, RowProblemOut
from dingbridge.web.api.spaces import ERRORS

router = APIRouter(prefix="/api/v1/spaces/{space_id}/members", tags=["members"], responses=ERRORS)
MAX_CSV_BYTES = 5 * 1024 * 1024


def member_out(member: Member) -> MemberOut:
    return MemberOut(
        id=member.id,
        name=member.name,
        mobile=member.mobile,
        email=member.email,
        role=member.role,
        status=member.status,
        dingtalk_userid=member.dingtalk_userid,
        created_at=member.created_at,
        updated_at=member.updated_at,
    )


@router.get("", summary="List a space's members")
async def list_members(
    request: Request,
    space_id: int,
    caller: Caller,
    q: Annotated[str, Query(description="Part of a name or mobile")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[MemberOut]:
    async with get_context(request).db.session() as session:
        await get_space(session, space_id)
        found = await member_ops.list_members(
            session, space_id, search=q, limit=limit, offset=offset
        )
    return [member_out(m) for m in found]


@router.post("", status_code=201, summary="Add a member")
async def add_member(request: Request, space_id: int, body: MemberIn, caller: Caller) -> MemberOut:
    data = member_ops.MemberInput(**body.model_dump())
    async with get_context(request).db.transaction() as session:
        member = await member_ops.add_member(session, space_id, data, actor=caller.actor)
    return member_out(member)


@router.get("/{member_id}", summary="One member")
async def get_member(request: Request, space_id: int, member_id: int, caller: Caller) -> MemberOut:
    async with get_context(request).db.session() as session:
        return member_out(await member_ops.get_member(session, space_id, member_id))


@router.patch("/{member_id}", summary='Edit a member; {"status": "disabled"} disables')
async def patch_member(
    request: Request, space_id: int, member_id: int, body: MemberPatch, caller: Caller
) -> MemberOut:
    async with get_context(request).db.transaction() as session:
        changes = {k: v for k, v in body.model_dump().items() if v is not None}
        member = await member_ops.patch_member(
            session, space_id, member_id, changes, actor=caller.actor
        )
    return member_out(member)


@router.delete("/{member_id}", status_code=204, summary="Delete a member")
async def delete_member(
    request: Request, space_id: int, member_id: int, caller: Caller
) -> Response:
    await delete_member_everywhere(get_context(request), space_id, member_id, actor=caller.actor)
    return Response(status_code=204)


def _report_out(report: ImportReport) -> CsvImportOut:
    return CsvImportOut(
        ok=report.ok,
        rows=report.rows,
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        problems=[
            RowProblemOut(line=p.line, column=p.column, message=p.text) for p in report.problems
        ],
    )


@router.post(
    "/import",
    summary="Import members from a CSV file (UTF-8 or GBK); all or nothing",
    responses={400: {"model": CsvImportOut}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The CSV file as the request body (姓名/name, 手机号/mobile, ...).",
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_csv(request: Request, space_id: int, caller: Caller) -> CsvImportOut:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_CSV_BYTES:
            raise BadRequest("The file is larger than 5 MB; split it.")
    try:
        async with get_context(request).db.transaction() as session:
            report = await import_members(session, space_id, body, actor=caller.actor)
    except CsvImportFailed as exc:
        return JSONResponse(_report_out(exc.report).model_dump(), status_code=400)  # type: ignore[return-value]
    return _report_out(report)
