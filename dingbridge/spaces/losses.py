"""What a destructive console action would take away, for the page that asks to confirm it:
deleting a member (with their DingTalk bindings), disabling a space, removing a binding."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.spaces.members import get_binding, get_member
from dingbridge.spaces.store import get_space
from dingbridge.storage.models import Binding, Member, Space


@dataclass(frozen=True)
class MemberLoss:
    """Deleting ``member`` also deletes ``bindings`` (the member's DingTalk accounts)."""

    space: Space
    member: Member
    bindings: list[Binding]


@dataclass(frozen=True)
class SpaceLoss:
    """Disabling ``space`` shuts its URL for ``active_members`` members (``bound`` of them
    already bound to DingTalk); members, bindings and settings are kept."""

    space: Space
    members: int
    active_members: int
    bound: int


@dataclass(frozen=True)
class BindingLoss:
    """Removing ``binding`` signs ``member`` out; they bind again at their next sign-in."""

    space: Space
    binding: Binding
    member: Member


async def member_loss(session: AsyncSession, space_id: int, member_id: int) -> MemberLoss:
    space = await get_space(session, space_id)
    member = await get_member(session, space_id, member_id)
    bindings = await session.scalars(
        select(Binding).where(Binding.member_id == member.id).order_by(Binding.id)
    )
    return MemberLoss(space, member, list(bindings.all()))


async def space_loss(session: AsyncSession, space_id: int) -> SpaceLoss:
    space = await get_space(session, space_id)
    members = await session.scalar(
        select(func.count()).select_from(Member).where(Member.space_id == space_id)
    )
    active = await session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.space_id == space_id, Member.status == "active")
    )
    bound = await session.scalar(
        select(func.count()).select_from(Binding).where(Binding.space_id == space_id)
    )
    return SpaceLoss(space, members or 0, active or 0, bound or 0)


async def binding_loss(session: AsyncSession, space_id: int, binding_id: int) -> BindingLoss:
    space = await get_space(session, space_id)
    binding, member = await get_binding(session, space_id, binding_id)
    return BindingLoss(space, binding, member)
