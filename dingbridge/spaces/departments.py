"""A space's DingTalk departments and who sits in which, as the directory import records them.

Departments decide who may use an app (``access`` ``departments``): the console's chooser lists
them, the space cache gives each member its department ids. The directory import is the only
writer: :func:`record_directory` makes the space's departments those DingTalk listed (added,
renamed, moved, and removed when DingTalk no longer has them) and each imported member's
departments those DingTalk gave; a re-run that finds nothing new changes no row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from dingbridge.storage.models import Department, MemberDepartment

ROOT_DEPT_ID = 1
ROOT_NAME = "全公司"
"""The root department's name when DingTalk gives none and the space knows no company name."""


@dataclass(frozen=True)
class DirectoryDepartment:
    """A department as DingTalk lists it (``dept_id`` 1 is the company root)."""

    dept_id: int
    name: str
    parent_id: int | None


@dataclass(frozen=True)
class DepartmentsRecorded:
    departments: int
    added: int
    removed: int
    memberships_changed: int


async def list_departments(session: AsyncSession, space_id: int) -> Sequence[Department]:
    """The space's departments, the root first, then by DingTalk's id."""
    query = (
        select(Department)
        .where(Department.space_id == space_id)
        .order_by(Department.dept_id != ROOT_DEPT_ID, Department.dept_id)
    )
    return (await session.scalars(query)).all()


async def record_directory(
    session: AsyncSession,
    space_id: int,
    departments: Sequence[DirectoryDepartment],
    memberships: Mapping[int, Sequence[int]],
    *,
    root_name: str = "",
) -> DepartmentsRecorded:
    """Make the space's departments ``departments`` and set each member's departments.

    ``memberships`` maps a member id to DingTalk ``dept_id``\\ s; members not in it keep theirs.
    Unknown ``dept_id``\\ s (a department the walk did not reach) are left out.
    """
    existing = {
        d.dept_id: d
        for d in await session.scalars(select(Department).where(Department.space_id == space_id))
    }
    wanted = {d.dept_id: d for d in departments}
    added = removed = 0
    for dept_id, gone in list(existing.items()):
        if dept_id not in wanted:
            await session.delete(gone)
            del existing[dept_id]
            removed += 1
    for dept_id, listed in wanted.items():
        name = " ".join(listed.name.split())[:200] or (
            (root_name.strip()[:200] or ROOT_NAME) if dept_id == ROOT_DEPT_ID else str(dept_id)
        )
        row = existing.get(dept_id) or Department(space_id=space_id, dept_id=dept_id)
        if row.id is None:
            session.add(row)
            added += 1
        if row.name != name:
            row.name = name
        if row.parent_id != listed.parent_id:
            row.parent_id = listed.parent_id
        existing[dept_id] = row
    await session.flush()
    row_of = {dept_id: existing[dept_id].id for dept_id in wanted}
    changed = 0
    if memberships:
        current: dict[int, set[int]] = {}
        rows = await session.execute(
            select(MemberDepartment.member_id, MemberDepartment.department_id).where(
                MemberDepartment.member_id.in_(list(memberships))
            )
        )
        for member_id, department_id in rows:
            current.setdefault(member_id, set()).add(department_id)
        for member_id, dept_ids in memberships.items():
            new = {row_of[d] for d in dept_ids if d in row_of}
            old = current.get(member_id, set())
            if new == old:
                continue
            changed += 1
            left = old - new
            if left:
                await session.execute(
                    delete(MemberDepartment).where(
                        MemberDepartment.member_id == member_id,
                        MemberDepartment.department_id.in_(left),
                    )
                )
            for department_id in new - old:
                session.add(MemberDepartment(member_id=member_id, department_id=department_id))
        await session.flush()
    return DepartmentsRecorded(len(wanted), added, removed, changed)
