"""The audit log: who changed what, with old and new values, secrets masked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
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
