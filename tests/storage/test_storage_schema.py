"""Migrations and table constraints, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from dingbridge.storage.db import Database, sync_url
from dingbridge.storage.migrate import current_revision, head_revision, upgrade
from dingbridge.storage.models import Base, Binding, Member, Space

TABLES = {
    "admins",
    "api_tokens",
    "spaces",
    "members",
    "dingtalk_settings",
    "bindings",
    "space_apps",
    "audit_log",
    "departments",
    "member_departments",
    "app_access",
}


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    upgrade(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


def test_upgrade_from_empty_creates_every_table(database_url: str) -> None:
    assert current_revision(database_url) is None
    assert upgrade(database_url) == head_revision()
    engine = create_engine(sync_url(database_url))
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    upgrade(database_url)
    assert upgrade(database_url) == head_revision()


def test_migrations_match_the_models(database_url: str) -> None:
    upgrade(database_url)
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diffs == []


async def test_member_mobile_unique_per_space(db: Database) -> None:
    async with db.transaction() as s:
        s.add_all([Space(id=10001, name="A"), Space(id=10002, name="B")])
    async with db.transaction() as s:
        s.add(Member(space_id=10001, name="张伟", mobile="+8613800000001"))
        # the same number in another space is fine
        s.add(Member(space_id=10002, name="张伟", mobile="+8613800000001"))
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(Member(space_id=10001, name="李娜", mobile="+8613800000001"))


async def test_binding_unique_per_user_and_per_member_corp(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Space(id=10001, name="A"))
        await s.flush()
        s.add_all(
            [
                Member(id=1, space_id=10001, name="张伟", mobile="+8613800000001"),
                Member(id=2, space_id=10001, name="李娜", mobile="+8613800000002"),
            ]
        )
    async with db.transaction() as s:
        s.add(Binding(space_id=10001, corp_id="dingA", userid="user001", member_id=1))
    with pytest.raises(IntegrityError):  # same DingTalk user bound twice in the space
        async with db.transaction() as s:
            s.add(Binding(space_id=10001, corp_id="dingA", userid="user001", member_id=2))
    with pytest.raises(IntegrityError):  # same member bound to a second user of one corp
        async with db.transaction() as s:
            s.add(Binding(space_id=10001, corp_id="dingA", userid="user002", member_id=1))
    async with db.transaction() as s:  # another corp is allowed
        s.add(Binding(space_id=10001, corp_id="dingB", userid="user001", member_id=1))


async def test_deleting_a_space_removes_its_members(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Space(id=10001, name="A"))
        await s.flush()
        s.add(Member(space_id=10001, name="张伟", mobile="+8613800000001"))
    async with db.transaction() as s:
        await s.delete(await s.get(Space, 10001))
    async with db.session() as s:
        assert (await s.get(Member, 1)) is None


async def test_ping(db: Database) -> None:
    await db.ping()
