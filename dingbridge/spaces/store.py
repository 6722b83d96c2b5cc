"""App spaces: create (ids from 10001 up), rename, enable or disable, list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.errors import Conflict, NotFound
from dingbridge.i18n import Message
from dingbridge.names import clean_name
from dingbridge.spaces import audit
from dingbridge.storage.models import FIRST_SPACE_ID, DingTalkSettingsRow, Member, Space

MAX_NAME = 200


@dataclass(frozen=True)
class SpaceSummary:
    space: Space
    members: int
    dingtalk_enabled: bool


def _clean_name(name: str) -> str:
    return clean_name(name, MAX_NAME)


async def create_space(session: AsyncSession, name: str, *, actor: str) -> Space:
    """A new enabled space with the next free id (10001 for the first)."""
    cleaned = _clean_name(name)
    for _ in range(5):
        highest = await session.scalar(select(func.max(Space.id)))
        space = Space(id=max(FIRST_SPACE_ID, (highest or 0) + 1), name=cleaned, enabled=True)
        try:
            async with session.begin_nested():
                session.add(space)
                await session.flush()
        except IntegrityError:
            continue  # another instance took this id at the same moment
        await audit.record(session, actor, "space.create", f"space:{space.id}", {"name": cleaned})
        return space
    raise Conflict("Could not allocate a space id; retry.")


async def get_space(session: AsyncSession, space_id: int) -> Space:
    space = await session.get(Space, space_id)
    if space is None:
        raise NotFound(Message("Space %(space)s does not exist.", space=space_id))
    return space


async def find_space(session: AsyncSession, space_id: int) -> Space | None:
    return await session.get(Space, space_id)


async def list_spaces(session: AsyncSession) -> Sequence[SpaceSummary]:
    counts = select(Member.space_id, func.count().label("n")).group_by(Member.space_id).subquery()
    rows = await session.execute(
        select(Space, counts.c.n, DingTalkSettingsRow.enabled)
        .outerjoin(counts, counts.c.space_id == Space.id)
        .outerjoin(DingTalkSettingsRow, DingTalkSettingsRow.space_id == Space.id)
        .order_by(Space.id)
    )
    return [SpaceSummary(space, n or 0, bool(enabled)) for space, n, enabled in rows.all()]


async def rename_space(session: AsyncSession, space_id: int, name: str, *, actor: str) -> Space:
    space = await get_space(session, space_id)
    cleaned = _clean_name(name)
    if cleaned != space.name:
        await audit.record(
            session,
            actor,
            "space.rename",
            f"space:{space_id}",
            audit.diff({"name": space.name}, {"name": cleaned}),
        )
        space.name = cleaned
    return space


async def set_space_enabled(
    session: AsyncSession, space_id: int, enabled: bool, *, actor: str
) -> Space:
    space = await get_space(session, space_id)
    if space.enabled != enabled:
        space.enabled = enabled
        action = "space.enable" if enabled else "space.disable"
        await audit.record(session, actor, action, f"space:{space_id}", {})
    return space
