from __future__ import annotations

import pytest
from sqlalchemy import select

from dingbridge.errors import NotFound, ValidationFailed
from dingbridge.spaces import members, store
from dingbridge.spaces.members import MemberInput
from dingbridge.storage.db import Database
from dingbridge.storage.models import AuditEntry


async def test_space_ids_start_at_10001_and_count_up(db: Database) -> None:
    async with db.transaction() as s:
        first = await store.create_space(s, " 销售部  空间 ", actor="a")
        second = await store.create_space(s, "B", actor="a")
    assert (first.id, first.name) == (10001, "销售部 空间")
    assert second.id == 10002


async def test_empty_name_refused(db: Database) -> None:
    with pytest.raises(ValidationFailed):
        async with db.transaction() as s:
            await store.create_space(s, "   ", actor="a")


async def test_rename_and_disable_are_audited(db: Database) -> None:
    async with db.transaction() as s:
        space = await store.create_space(s, "A", actor="a")
        await store.rename_space(s, space.id, "B", actor="admin:x")
        await store.set_space_enabled(s, space.id, False, actor="admin:x")
    async with db.session() as s:
        entries = list(await s.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        assert not (await store.get_space(s, space.id)).enabled
    assert [e.action for e in entries] == ["space.create", "space.rename", "space.disable"]
    assert entries[1].details == {"name": {"old": "A", "new": "B"}}


async def test_member_lifecycle(db: Database) -> None:
    async with db.transaction() as s:
        space = await store.create_space(s, "A", actor="a")
        m = await members.add_member(s, space.id, MemberInput("张伟", "138 0000 0001"), actor="a")
    assert m.mobile == "+8613800000001" and m.role == "member" and m.status == "active"
    with pytest.raises(ValidationFailed) as dup:
        async with db.transaction() as s:
            await members.add_member(
                s, space.id, MemberInput("另一个", "+86 13800000001"), actor="a"
            )
    assert "mobile" in dup.value.problems
    async with db.transaction() as s:
        await members.edit_member(
            s,
            space.id,
            m.id,
            MemberInput("张伟", "13800000009", "z@example.com", "lead"),
            actor="a",
        )
        await members.set_member_status(s, space.id, m.id, "disabled", actor="a")
    async with db.session() as s:
        got = await members.get_member(s, space.id, m.id)
    assert (got.mobile, got.email, got.role, got.status) == (
        "+8613800000009",
        "z@example.com",
        "lead",
        "disabled",
    )
    async with db.transaction() as s:
        await members.delete_member(s, space.id, m.id, actor="a")
    with pytest.raises(NotFound):
        async with db.session() as s:
            await members.get_member(s, space.id, m.id)


async def test_member_of_another_space_is_not_found(db: Database) -> None:
    async with db.transaction() as s:
        a = await store.create_space(s, "A", actor="a")
        b = await store.create_space(s, "B", actor="a")
        m = await members.add_member(s, a.id, MemberInput("张伟", "13800000001"), actor="a")
    with pytest.raises(NotFound):
        async with db.session() as s:
            await members.get_member(s, b.id, m.id)


async def test_every_bad_member_field_reported(db: Database) -> None:
    with pytest.raises(ValidationFailed) as failed:
        members.clean_member(MemberInput("", "123", "not-an-email", "", "gone"))
    assert set(failed.value.problems) == {"name", "mobile", "email", "status"}
