"""The audit log: who changed what, with old and new values, secrets masked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.redact import is_secret_name
from dingbridge.storage.models import AuditEntry

MASK = "***"
SET_MARK = "(set)"


def mask(value: Any, key: str = "") -> Any:
    """``value`` with every secret-named field replaced (recursively)."""
    if key and is_secret_name(key):
        if isinstance(value, Mapping):
            return {str(k): SET_MARK if v else v for k, v in value.items()}
        return SET_MARK if value else value
    if isinstance(value, Mapping):
        return {str(k): mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v, key) for v in value]
    return value


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"old": ..., "new": ...}}`` for each field whose value changed."""
    return {
        k: {"old": old.get(k), "new": new.get(k)}
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    }


async def record(
    session: AsyncSession, actor: str, action: str, target: str, details: Mapping[str, Any]
) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target, details=mask(dict(details)))
    session.add(entry)
    await session.flush()
    return entry


async def recent(
    session: AsyncSession, *, limit: int = 100, offset: int = 0, target: str | None = None
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if target is not None:
        query = query.where(AuditEntry.target == target)
    return (await session.scalars(query)).all()


async def count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: of one space (the space itself and its members, apps, ...), by one
    actor, of one kind of action, from ``since`` up to (not including) ``until``."""

    space_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.space_id is not None:
        space = f"space:{where.space_id}"
        query = query.where(
            or_(AuditEntry.target == space, AuditEntry.target.startswith(space + "/"))
        )
    if where.actor:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.since is not None:
        query = query.where(AuditEntry.time >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.time < where.until)
    return query


async def search(
    session: AsyncSession, where: AuditFilter, *, limit: int = 100, offset: int = 0
) -> tuple[Sequence[AuditEntry], int]:
    """One page of the entries ``where`` selects, newest first, and how many it selects."""
    query = _filtered(select(AuditEntry), where)
    page = (
        await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    ).all()
    total = await session.scalar(_filtered(select(func.count()).select_from(AuditEntry), where))
    return page, int(total or 0)


async def actors(session: AsyncSession) -> list[str]:
    """Everyone who appears in the log, for the console's filter."""
    rows = await session.scalars(select(AuditEntry.actor).distinct().order_by(AuditEntry.actor))
    return list(rows.all())
