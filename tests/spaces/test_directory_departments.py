"""The directory import records the space's departments and each imported member's, so apps
can be granted to chosen departments; a re-run changes nothing, a department DingTalk drops
goes (and with it the grants to it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from dingbridge.dingtalk import ASGITransport, DingTalkClient, Endpoints
from dingbridge.sim import SimState, create_app
from dingbridge.sim.defaults import FULL_APP
from dingbridge.spaces import store
from dingbridge.spaces.apps import AppInput, create_space_app, get_app
from dingbridge.spaces.departments import list_departments
from dingbridge.spaces.directory_import import import_directory
from dingbridge.storage.db import Database
from dingbridge.storage.models import Member, MemberDepartment


def client_for(sim_app: Any) -> DingTalkClient:
    return DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=FULL_APP.app_secret,
        corp_id=FULL_APP.corp_id,
        endpoints=Endpoints.single_base("http://sim.test"),
        transport=ASGITransport(sim_app),
    )


async def departments_by_member(db: Database, space_id: int) -> dict[str, set[str]]:
    """DingTalk userid → the names of the member's departments."""
    async with db.session() as session:
        names = {d.id: d.name for d in await list_departments(session, space_id)}
        rows = await session.execute(
            select(Member.dingtalk_userid, MemberDepartment.department_id)
            .join(MemberDepartment, MemberDepartment.member_id == Member.id)
            .where(Member.space_id == space_id)
        )
        found: dict[str, set[str]] = {}
        for userid, department_id in rows:
            found.setdefault(str(userid), set()).add(names[department_id])
    return found


async def test_departments_and_memberships_are_recorded_once(db: Database) -> None:
    async with db.transaction() as session:
        space_id = (await store.create_space(session, "通讯录空间", actor="test")).id
    sim_app = create_app(SimState.default())
    await import_directory(db, client_for(sim_app), space_id, actor="admin")
    async with db.session() as session:
        listed = [
            (d.dept_id, d.name, d.parent_id) for d in await list_departments(session, space_id)
        ]
    names = [name for _, name, _ in listed]
    assert listed[0][0] == 1 and listed[0][2] is None  # the root first
    assert {"研发部", "前端组", "后端组", "市场部", "人事行政部"} <= set(names)
    assert len(names) == len(set(names)) == 6
    rnd = next(dept_id for dept_id, name, _ in listed if name == "研发部")
    assert next(parent for _, name, parent in listed if name == "前端组") == rnd

    members = await departments_by_member(db, space_id)
    assert members["user007"] == {"后端组", "前端组"}  # two departments
    assert members["user003"] == {"前端组"}
    assert members["user009"] == {"市场部"}

    again = await import_directory(db, client_for(sim_app), space_id, actor="admin")
    assert again.progress.created == 0
    async with db.session() as session:
        relisted = [(d.id, d.dept_id, d.name) for d in await list_departments(session, space_id)]
    assert [row[1:] for row in relisted] == [(d, n) for d, n, _ in listed]
    assert await departments_by_member(db, space_id) == members


async def test_a_department_gone_from_dingtalk_goes_with_its_grants(db: Database) -> None:
    async with db.transaction() as session:
        space_id = (await store.create_space(session, "通讯录空间", actor="test")).id
    sim = SimState.default()
    sim_app = create_app(sim)
    await import_directory(db, client_for(sim_app), space_id, actor="admin")
    async with db.transaction() as session:
        departments = {d.name: d for d in await list_departments(session, space_id)}
        marketing, hr = departments["市场部"], departments["人事行政部"]
        saved = await create_space_app(
            session,
            space_id,
            AppInput(
                name="市场看板",
                url="https://bi.example.com/",
                access="departments",
                departments=(marketing.id, hr.id),
            ),
            actor="admin",
        )
    corp = sim.corps[FULL_APP.corp_id]
    for user in corp.users.values():
        if marketing.dept_id in user.dept_ids:
            user.dept_ids = [d for d in user.dept_ids if d != marketing.dept_id] or [1]
    del corp.departments[marketing.dept_id]

    await import_directory(db, client_for(sim_app), space_id, actor="admin")
    async with db.session() as session:
        names = {d.name for d in await list_departments(session, space_id)}
        detail = await get_app(session, space_id, saved.app.id)
    assert "市场部" not in names and "人事行政部" in names
    assert detail.departments == (hr.id,)
    members = await departments_by_member(db, space_id)
    assert "市场部" not in members.get("user009", set())
