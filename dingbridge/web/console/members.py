"""Console: a space's members (list, add, edit, disable, delete) and CSV import."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.errors import ValidationFailed
from dingbridge.i18n import Message
from dingbridge.signin.member_sessions import delete_member as delete_member_everywhere
from dingbridge.spaces import members as member_ops
from dingbridge.spaces.csv_import import CsvImportFailed, import_members
from dingbridge.spaces.dingtalk_settings import load_dingtalk
from dingbridge.spaces.directory_jobs import import_state
from dingbridge.spaces.losses import member_loss
from dingbridge.spaces.mobile import display_mobile
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import Binding
from dingbridge.web.console.confirmations import confirmed, member_delete_url
from dingbridge.web.console.pages import actor, redirect, render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.templating import get_templates

router = APIRouter(include_in_schema=False)
MAX_CSV_BYTES = 5 * 1024 * 1024
PAGE_SIZE = 200


def _member_input(form: FormData) -> member_ops.MemberInput:
    return member_ops.MemberInput(
        name=str(form.get("name", "")),
        mobile=str(form.get("mobile", "")),
        email=str(form.get("email", "")),
        role=str(form.get("role", "")),
        status=str(form.get("status", "active")),
    )


async def _members_page(
    request: Request,
    space_id: int,
    *,
    form: member_ops.MemberInput | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    search = request.query_params.get("q", "")
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    context = get_context(request)
    async with context.db.session() as session:
        space = await get_space(session, space_id)
        members = await member_ops.list_members(
            session, space_id, search=search, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        dingtalk = await load_dingtalk(session, space_id)
    return await render_page(
        request,
        "console/members.html",
        {
            "space": space,
            "members": members[:PAGE_SIZE],
            "search": search,
            "page": page,
            "has_next": len(members) > PAGE_SIZE,
            "form": form or member_ops.MemberInput(name="", mobile=""),
            "errors": errors or {},
            "display_mobile": display_mobile,
            "directory": await import_state(context, space_id),
            "directory_ready": bool(
                dingtalk.corp_id and dingtalk.app_key and dingtalk.has_app_secret
            ),
            "import_error": request.query_params.get("import_error", ""),
            "en": get_templates(request).language(request).startswith("en"),
        },
        status=status,
    )


@router.get("/admin/spaces/{space_id}/members")
async def members_page(request: Request, space_id: int) -> Response:
    await require_admin(request)
    return await _members_page(request, space_id)


@router.post("/admin/spaces/{space_id}/members")
async def add_member(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    data = _member_input(await request.form())
    try:
        async with get_context(request).db.transaction() as session:
            await member_ops.add_member(session, space_id, data, actor=actor(user.username))
    except ValidationFailed as exc:
        return await _members_page(request, space_id, form=data, errors=exc.problems, status=400)
    return redirect(f"/admin/spaces/{space_id}/members?done=added")


@router.get("/admin/spaces/{space_id}/members/{member_id}")
async def member_page(request: Request, space_id: int, member_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        held = await member_loss(session, space_id, member_id)
    form = member_ops.MemberInput.of(held.member)
    return await render_page(
        request,
        "console/member_edit.html",
        {"space": held.space, "member": held.member, "form": form, "bindings": held.bindings},
    )


@router.post("/admin/spaces/{space_id}/members/{member_id}")
async def edit_member(request: Request, space_id: int, member_id: int) -> Response:
    user = await require_admin(request)
    data = _member_input(await request.form())
    context = get_context(request)
    try:
        async with context.db.transaction() as session:
            await member_ops.edit_member(
                session, space_id, member_id, data, actor=actor(user.username)
            )
    except ValidationFailed as exc:
        async with context.db.session() as session:
            space = await get_space(session, space_id)
            member = await member_ops.get_member(session, space_id, member_id)
        return await render_page(
            request,
            "console/member_edit.html",
            {
                "space": space,
                "member": member,
                "form": data,
                "errors": exc.problems,
                "bindings": (await _bindings(request, space_id, member_id)),
            },
            status=400,
        )
    return redirect(f"/admin/spaces/{space_id}/members?done=saved")


async def _bindings(request: Request, space_id: int, member_id: int) -> list[Binding]:
    async with get_context(request).db.session() as session:
        return (await member_loss(session, space_id, member_id)).bindings


@router.post("/admin/spaces/{space_id}/members/{member_id}/status")
async def set_member_status(request: Request, space_id: int, member_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    status = str(form.get("status", ""))
    async with get_context(request).db.transaction() as session:
        await member_ops.set_member_status(
            session, space_id, member_id, status, actor=actor(user.username)
        )
    return redirect(f"/admin/spaces/{space_id}/members?done=saved")


@router.post("/admin/spaces/{space_id}/members/{member_id}/delete")
async def delete_member(request: Request, space_id: int, member_id: int) -> Response:
    user = await require_admin(request)
    if not confirmed(await request.form()):
        return redirect(member_delete_url(space_id, member_id))
    await delete_member_everywhere(
        get_context(request), space_id, member_id, actor=actor(user.username)
    )
    return redirect(f"/admin/spaces/{space_id}/members?done=deleted")


@router.get("/admin/spaces/{space_id}/import")
async def import_page(request: Request, space_id: int) -> Response:
    await require_admin(request)
    async with get_context(request).db.session() as session:
        space = await get_space(session, space_id)
    return await render_page(
        request, "console/member_import.html", {"space": space, "report": None}
    )


@router.post("/admin/spaces/{space_id}/import")
async def import_csv(request: Request, space_id: int) -> Response:
    user = await require_admin(request)
    form = await request.form()
    try:
        return await _import_upload(request, space_id, user.username, form.get("file"))
    finally:
        await form.close()


async def _import_upload(
    request: Request, space_id: int, username: str, upload: object
) -> Response:
    context = get_context(request)
    async with context.db.session() as session:
        space = await get_space(session, space_id)
    report = None
    errors: dict[str, str] = {}
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = Message("Choose a CSV file.")
    else:
        data = await upload.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            errors["file"] = Message("The file is larger than 5 MB; split it.")
        else:
            try:
                async with context.db.transaction() as session:
                    report = await import_members(
                        session,
                        space_id,
                        data,
                        actor=actor(username),
                        filename=upload.filename,
                    )
            except CsvImportFailed as exc:
                report = exc.report
            except ValidationFailed as exc:
                errors = exc.problems
    status = 400 if errors or (report is not None and not report.ok) else 200
    return await render_page(
        request,
        "console/member_import.html",
        {"space": space, "report": report, "errors": errors},
        status=status,
    )
