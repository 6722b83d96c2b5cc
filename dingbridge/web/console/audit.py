"""Console: the audit log, newest first, paged and filtered by space, actor, action and date;
each entry one readable sentence; the same selection as CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from dingbridge.context import get_context
from dingbridge.i18n import Message
from dingbridge.spaces import audit, audit_text
from dingbridge.spaces.store import list_spaces
from dingbridge.web.console.pages import render_page
from dingbridge.web.console.session import require_admin
from dingbridge.web.templating import get_templates
from dingbridge.web.times import shown_time

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
CSV_LIMIT = 100_000
FILTERS = ("space", "actor", "action", "since", "until")


def _day(text: str, zone: tzinfo, errors: dict[str, Message], name: str) -> datetime | None:
    """The start of the day ``text`` (YYYY-MM-DD) in the server's zone."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = Message("Not a date: %(text)s (YYYY-MM-DD).", text=text)
        return None
    return datetime.combine(day, time(), tzinfo=zone)


def _parse(
    request: Request, zone: tzinfo
) -> tuple[audit.AuditFilter, dict[str, str], dict[str, Message]]:
    """The filter the query asks for, the values to show in the form, and what was wrong."""
    query = request.query_params
    shown = {name: query.get(name, "").strip() for name in FILTERS}
    errors: dict[str, Message] = {}
    space_id = None
    if shown["space"]:
        if shown["space"].isdigit():
            space_id = int(shown["space"])
        else:
            errors["space"] = Message("Not a space number: %(text)s.", text=shown["space"])
    until = _day(shown["until"], zone, errors, "until")
    where = audit.AuditFilter(
        space_id=space_id,
        actor=shown["actor"] or None,
        action=shown["action"] or None,
        since=_day(shown["since"], zone, errors, "since"),
        until=until + timedelta(days=1) if until is not None else None,  # the whole last day
    )
    return where, shown, errors


def _page_number(request: Request) -> int:
    try:
        return max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        return 1


@router.get("/admin/audit")
async def audit_page(request: Request) -> Response:
    await require_admin(request)
    templates = get_templates(request)
    language = templates.language(request)
    where, shown, errors = _parse(request, templates.zone)
    page = _page_number(request)
    async with get_context(request).db.session() as session:
        entries, total = await audit.search(
            session, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
        actors = await audit.actors(session)
        spaces = await list_spaces(session)
    selected = {name: value for name, value in shown.items() if value}
    rows: list[dict[str, Any]] = [
        {
            "time": e.time,
            "action": e.action,
            "sentence": audit_text.sentence(e),
            "changes": audit_text.changes(e, language),
        }
        for e in entries
    ]
    return await render_page(
        request,
        "console/audit.html",
        {
            "entries": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE_SIZE)),
            "has_next": page * PAGE_SIZE < total,
            "filters": shown,
            "errors": errors,
            "actors": actors,
            "actions": audit_text.ACTION_NAMES,
            "spaces": [summary.space for summary in spaces],
            "query": lambda **more: urlencode({**selected, **more}),
        },
    )


@router.get("/admin/audit.csv")
async def audit_csv(request: Request) -> Response:
    await require_admin(request)
    templates = get_templates(request)
    where, _shown, _errors = _parse(request, templates.zone)
    async with get_context(request).db.session() as session:
        entries, _total = await audit.search(session, where, limit=CSV_LIMIT)
    text = audit_text.csv_text(
        entries,
        templates.language(request),
        lambda moment: shown_time(moment, templates.zone, seconds=True),
    )
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="dingbridge-audit.csv"',
            "Cache-Control": "no-store",
        },
    )
