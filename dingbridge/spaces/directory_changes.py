"""A space's members and departments follow DingTalk's directory (events and the catch-up sync).

Database work only, in the caller's transaction; a member disabled here loses every session
once it commits (:func:`dingbridge.spaces.members.access_ended`). A DingTalk user is matched
to members of the space by ``dingtalk_userid`` or by a binding of the space's corp.

- :func:`disable_leaver`: the members of a user who left are disabled (kept, with their
  bindings, for the audit trail), with when and why.
- :func:`apply_user_detail`: name, mobile, email and departments follow DingTalk; with
  ``provision`` a user matching no member becomes one (the ``auto_provision`` policy).
- :func:`save_department` / :func:`drop_department`: departments as DingTalk has them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.dingtalk import UserDetail
from dingbridge.spaces import audit
from dingbridge.spaces.directory_import import upsert_members
from dingbridge.spaces.members import change_status
from dingbridge.storage.models import Binding, Department, Member, MemberDepartment

LEFT_REASON = "left the company in DingTalk"


async def members_of_user(
    session: AsyncSession, space_id: int, corp_id: str, userid: str
) -> list[Member]:
    bound = select(Binding.member_id).where(
        Binding.space_id == space_id, Binding.corp_id == corp_id, Binding.userid == userid
    )
    rows = await session.scalars(
        select(Member)
        .where(Member.space_id == space_id)
        .where(or_(Member.dingtalk_userid == userid, Member.id.in_(bound)))
        .order_by(Member.id)
    )
    return list(rows)


async def disable_leaver(
    session: AsyncSession,
    space_id: int,
    corp_id: str,
    userid: str,
    *,
    actor: str,
    reason: str = LEFT_REASON,
    when: datetime | None = None,
) -> list[int]:
    """Disable the active members of ``userid``; the ids of those disabled now."""
    disabled = []
    for member in await members_of_user(session, space_id, corp_id, userid):
        if member.status != "active":
            continue
        change_status(session, member, "disabled", actor=actor, reason=reason, when=when)
        disabled.append(member.id)
        await audit.record(
            session,
            actor,
            "member.left_dingtalk",
            f"space:{space_id}/member:{member.id}",
            {"name": member.name, "userid": userid, "reason": reason},
        )
    await session.flush()
    return disabled


async def apply_user_detail(
    session: AsyncSession,
    space_id: int,
    corp_id: str,
    detail: UserDetail,
    *,
    provision: bool,
    actor: str,
) -> str:
    """``created``, ``updated``, ``unchanged``, ``unknown`` (no member, none made) or
    ``skipped:<why>`` (DingTalk's data cannot make a member, e.g. no mobile)."""
    members = await members_of_user(session, space_id, corp_id, detail.userid)
    if not members and not provision:
        return "unknown"
    for member in members:
        if member.dingtalk_userid is None:
            member.dingtalk_userid = detail.userid  # bound only: let the import match it
    report = await upsert_members(session, space_id, [detail], actor=actor)
    if report.skipped:
        return f"skipped:{report.skipped[0].reason}"
    after = await members_of_user(session, space_id, corp_id, detail.userid)
    if after and detail.dept_id_list:
        await _set_departments(session, space_id, after[0], detail.dept_id_list)
    p = report.progress
    return "created" if p.created else "updated" if p.updated else "unchanged"


async def _set_departments(
    session: AsyncSession, space_id: int, member: Member, dept_ids: Iterable[int]
) -> None:
    wanted = set(dept_ids)
    known = {
        d.dept_id: d
        for d in await session.scalars(
            select(Department).where(
                Department.space_id == space_id, Department.dept_id.in_(wanted)
            )
        )
    }
    for dept_id in wanted - set(known):  # named by the next department event or sync
        known[dept_id] = Department(space_id=space_id, dept_id=dept_id, name=str(dept_id))
        session.add(known[dept_id])
    await session.flush()
    await session.execute(delete(MemberDepartment).where(MemberDepartment.member_id == member.id))
    session.add_all(
        MemberDepartment(member_id=member.id, department_id=d.id) for d in known.values()
    )
    await session.flush()


async def save_department(
    session: AsyncSession, space_id: int, dept_id: int, name: str, parent_id: int | None
) -> None:
    row = await session.scalar(
        select(Department).where(Department.space_id == space_id, Department.dept_id == dept_id)
    )
    if row is None:
        session.add(Department(space_id=space_id, dept_id=dept_id, name=name, parent_id=parent_id))
    else:
        row.name, row.parent_id = name, parent_id
    await session.flush()


async def drop_department(session: AsyncSession, space_id: int, dept_id: int) -> None:
    await session.execute(
        delete(Department).where(Department.space_id == space_id, Department.dept_id == dept_id)
    )
