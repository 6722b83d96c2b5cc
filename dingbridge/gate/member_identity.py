"""What the gate tells an app about a member: read from the database when a gate session
starts or is re-checked (not on every check: see :mod:`dingbridge.gate.gate_sessions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from dingbridge.gate.identity_headers import Identity
from dingbridge.signin.space_cache import MemberView
from dingbridge.spaces.member_subjects import member_subject
from dingbridge.storage.models import Department, Member, MemberDepartment

if TYPE_CHECKING:
    from dingbridge.context import AppContext


async def member_identity(
    context: AppContext, member: MemberView, *, corp_id: str, userid: str
) -> Identity:
    """The member's identity for apps: their subject (the OpenID ``sub`` too), name, e-mail,
    department names (sorted), DingTalk ids."""
    async with context.db.session() as session:
        email = await session.scalar(select(Member.email).where(Member.id == member.id))
        groups = await session.scalars(
            select(Department.name)
            .join(MemberDepartment, MemberDepartment.department_id == Department.id)
            .where(MemberDepartment.member_id == member.id)
            .order_by(Department.name)
        )
        names = tuple(groups)
    return Identity(
        user=await member_subject(context.db, member.id),
        email=email or "",
        name=member.name,
        groups=names,
        member_id=member.id,
        corp_id=corp_id,
        userid=userid,
    )
