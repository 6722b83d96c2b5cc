"""Importing a space's members from the DingTalk directory (the simulator's demo corp):
every department walked, users paged and deduplicated, matched by userid then mobile,
re-runnable without duplicates, users without a readable mobile reported. SQLite and
PostgreSQL (when DINGBRIDGE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, func, select, text
from typer.testing import CliRunner

from dingbridge.dingtalk import ASGITransport, DingTalkClient, Endpoints
from dingbridge.sim import SimState, create_app
from dingbridge.sim.defaults import FULL_APP, NO_MOBILE_APP, DemoApp, default_fixture
from dingbridge.spaces import store
from dingbridge.spaces.directory_import import ImportProgress, import_directory
from dingbridge.spaces.members import MemberInput, add_member
from dingbridge.storage.db import Database, sync_url
from dingbridge.storage.migrate import upgrade
from dingbridge.storage.models import AuditEntry, Member

DEMO_USERS = 22  # user001..user022; user007 sits in two departments
DEMO_DEPARTMENTS = 6


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    schema = f"dirimport_{secrets.token_hex(4)}"
    admin = create_engine(sync_url(postgres_url))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{postgres_url}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dir.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture
async def space_id(db: Database) -> int:
    async with db.transaction() as session:
        return (await store.create_space(session, "通讯录空间", actor="test")).id


def client_for(sim_app: Any, app: DemoApp = FULL_APP) -> DingTalkClient:
    return DingTalkClient(
        app_key=app.app_key,
        app_secret=app.app_secret,
        corp_id=app.corp_id,
        endpoints=Endpoints.single_base("http://sim.test"),
        transport=ASGITransport(sim_app),
    )


async def members_of(db: Database, space_id: int) -> list[Member]:
    async with db.session() as session:
        rows = await session.scalars(
            select(Member).where(Member.space_id == space_id).order_by(Member.id)
        )
        return list(rows.all())


async def test_import_creates_every_member_once_and_reports_progress(
    db: Database, space_id: int, sim_app: Any
) -> None:
    seen: list[ImportProgress] = []
    report = await import_directory(
        db, client_for(sim_app), space_id, actor="admin", progress=seen.append
    )
    assert report.created == DEMO_USERS and report.updated == 0 and report.skipped == []
    members = await members_of(db, space_id)
    assert len(members) == DEMO_USERS
    assert len({m.dingtalk_userid for m in members}) == DEMO_USERS
    zhang = next(m for m in members if m.dingtalk_userid == "user001")
    assert (zhang.name, zhang.mobile, zhang.status) == ("张伟", "+8613800000001", "active")
    walking = [p for p in seen if p.phase == "walking"]
    assert walking[-1].departments_done == DEMO_DEPARTMENTS
    assert walking[-1].departments_found == DEMO_DEPARTMENTS
    assert walking[-1].users_seen == DEMO_USERS
    assert [p.departments_done for p in walking] == sorted(p.departments_done for p in walking)
    assert seen[-1].phase == "done" and seen[-1].created == DEMO_USERS


async def test_second_run_creates_nothing(db: Database, space_id: int, sim_app: Any) -> None:
    client = client_for(sim_app)
    await import_directory(db, client, space_id, actor="admin")
    again = await import_directory(db, client, space_id, actor="admin")
    p = again.progress
    assert (p.created, p.updated, p.unchanged) == (0, 0, DEMO_USERS)
    assert len(await members_of(db, space_id)) == DEMO_USERS
    async with db.session() as session:
        audits = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "member.import_dingtalk")
        )
    assert audits == 2


async def test_existing_member_is_matched_by_mobile_and_updated(
    db: Database, space_id: int, sim_app: Any
) -> None:
    async with db.transaction() as session:
        await add_member(
            session, space_id, MemberInput(name="Zhang W.", mobile="138 0000 0001"), actor="t"
        )
    report = await import_directory(db, client_for(sim_app), space_id, actor="admin")
    assert (report.created, report.updated) == (DEMO_USERS - 1, 1)
    members = await members_of(db, space_id)
    assert len(members) == DEMO_USERS
    first = members[0]
    assert (first.name, first.dingtalk_userid) == ("张伟", "user001")


async def test_changes_in_dingtalk_update_the_member(
    db: Database, space_id: int, sim_state: Any, sim_app: Any
) -> None:
    client = client_for(sim_app)
    await import_directory(db, client, space_id, actor="admin")
    user = sim_state.corps[FULL_APP.corp_id].users["user003"]
    user.name, user.mobile = "李娜娜", "13911112222"
    report = await import_directory(db, client, space_id, actor="admin")
    assert (report.created, report.updated) == (0, 1)
    member = next(m for m in await members_of(db, space_id) if m.dingtalk_userid == "user003")
    assert (member.name, member.mobile) == ("李娜娜", "+8613911112222")


async def test_without_the_mobile_field_permission_users_are_reported_not_created(
    db: Database, space_id: int, sim_app: Any
) -> None:
    report = await import_directory(db, client_for(sim_app, NO_MOBILE_APP), space_id, actor="a")
    assert report.created == 0
    assert report.progress.skipped_without_mobile == DEMO_USERS
    assert {s.userid for s in report.without_mobile} == {f"user{n:03d}" for n in range(1, 23)}
    assert await members_of(db, space_id) == []


async def test_a_mobile_linked_to_another_dingtalk_user_is_a_conflict(
    db: Database, space_id: int, sim_app: Any
) -> None:
    async with db.transaction() as session:
        member = await add_member(
            session, space_id, MemberInput(name="别人", mobile="13800000001"), actor="t"
        )
        member.dingtalk_userid = "someone-else"
    report = await import_directory(db, client_for(sim_app), space_id, actor="admin")
    assert report.progress.conflicts == 1
    assert [(s.userid, s.reason) for s in report.skipped] == [("user001", "mobile_taken")]
    assert len(await members_of(db, space_id)) == DEMO_USERS  # 21 imported + the one there


async def test_departments_larger_than_a_page(db: Database, space_id: int) -> None:
    fixture = default_fixture()
    corp = fixture["corps"][0]
    corp["users"] += [
        {
            "userid": f"bulk{n:03d}",
            "unionid": f"bulkunion{n:03d}iEiE",
            "name": f"员工{n}",
            "mobile": f"137{n:08d}",
            "dept_ids": [1],
        }
        for n in range(230)
    ]
    app = create_app(SimState.from_fixture(fixture))
    report = await import_directory(db, client_for(app), space_id, actor="admin")
    assert report.created == DEMO_USERS + 230
    assert len(await members_of(db, space_id)) == DEMO_USERS + 230


def test_cli_import_dingtalk(sim_server: Any, tmp_path: Path) -> None:
    from dingbridge.cli import app
    from dingbridge.settings import Settings
    from dingbridge.spaces.dingtalk_settings import DingTalkInput
    from dingbridge.spaces.headless import configure_dingtalk, create_space

    settings = Settings(data_dir=tmp_path)
    space = create_space(settings, "CLI 空间")
    configure_dingtalk(
        settings,
        space,
        DingTalkInput(
            enabled=False,
            corp_name="",
            corp_id=FULL_APP.corp_id,
            agent_id=str(FULL_APP.agent_id),
            app_key=FULL_APP.app_key,
            app_secret=FULL_APP.app_secret,
        ),
    )
    args = ["member", "import-dingtalk", str(space), "--data-dir", str(tmp_path)]
    args += ["--dingtalk-api", sim_server.url, "--dingtalk-oapi", sim_server.url]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert f"{DEMO_USERS} DingTalk users in {DEMO_DEPARTMENTS} departments" in first.output
    assert f"{DEMO_USERS} created" in first.output
    second = CliRunner().invoke(app, args)
    assert "0 created, 0 updated, 22 unchanged" in second.output
    assert FULL_APP.app_secret not in first.output + second.output
