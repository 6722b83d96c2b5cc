"""``/api/v1/audit``: the audit log, newest first (secrets appear only as ``(set)``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request

from dingbridge.context import get_context
from dingbridge.spaces import audit
from dingbridge.web.api.auth import Caller
from dingbridge.web.api.models import MAX_OFFSET, AuditOut
from dingbridge.web.api.spaces import ERRORS

router = APIRouter(prefix="/api/v1", tags=["audit"], responses=ERRORS)


@router.get("/audit", summary="The audit log, newest first")
async def list_audit(
    request: Request,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    target: Annotated[str | None, Query(description="e.g. space:10001")] = None,
) -> list[AuditOut]:
    async with get_context(request).db.session() as session:
        entries = await audit.recent(session, limit=limit, offset=offset, target=target)
    return [
        AuditOut(
            id=e.id,
            time=e.time,
            actor=e.actor,
            action=e.action,
            target=e.target,
            details=audit.mask(dict(e.details or {})),
        )
        for e in entries
    ]
