"""CSV import as Excel in China writes files: UTF-8 / GBK, BOM or not; all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dingbridge.errors import ValidationFailed
from dingbridge.spaces.csv_import import CsvImportFailed, import_members
from dingbridge.spaces.store import create_space
from dingbridge.storage.db import Database
from dingbridge.storage.models import AuditEntry, Member

GOOD = (
    "姓名,手机号,邮箱,角色\r\n"
    "张伟,13800000001,zhangwei@example.com,manager\r\n"
    "李娜,138 0000 0002,,\r\n"
)


async def _space(db: Database) -> int:
    async with db.transaction() as s:
        return (await create_space(s, "测试空间", actor="test")).id


async def _members(db: Database, space_id: int) -> list[Member]:
    async with db.session() as s:
        return list(
            await s.scalars(select(Member).where(Member.space_id == space_id).order_by(Member.id))
        )


@pytest.mark.parametrize(
    "encoded",
    [
        GOOD.encode("utf-8"),
        b"\xef\xbb\xbf" + GOOD.encode("utf-8"),
        GOOD.encode("gbk"),
    ],
    ids=["utf8", "utf8-bom", "gbk"],
)
async def test_import_reads_utf8_bom_and_gbk(db: Database, encoded: bytes) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        report = await import_members(s, space_id, encoded, actor="test")
    assert (report.rows, report.added) == (2, 2)
    members = await _members(db, space_id)
    assert [(m.name, m.mobile, m.email, m.role) for m in members] == [
        ("张伟", "+8613800000001", "zhangwei@example.com", "manager"),
        ("李娜", "+8613800000002", None, "member"),
    ]


async def test_english_headers_in_any_order(db: Database) -> None:
    space_id = await _space(db)
    data = b"mobile,Name,role\n13800000003,Wang Fang,admin\n"
    async with db.transaction() as s:
        await import_members(s, space_id, data, actor="test")
    assert [(m.name, m.mobile, m.role) for m in await _members(db, space_id)] == [
        ("Wang Fang", "+8613800000003", "admin")
    ]


async def test_one_bad_row_imports_nothing_and_names_the_rows(db: Database) -> None:
    space_id = await _space(db)
    data = ("姓名,手机号\n张伟,13800000001\n王芳,12345\n,13800000004\n李娜,13800000001\n").encode(
        "gbk"
    )
    with pytest.raises(CsvImportFailed) as failed:
        async with db.transaction() as s:
            await import_members(s, space_id, data, actor="test")
    lines = {p.line: p for p in failed.value.report.problems}
    assert set(lines) == {3, 4, 5}
    assert lines[3].column == "mobile"
    assert lines[4].column == "name"
    assert lines[5].text == "mobile: The same mobile number as line 2."
    assert await _members(db, space_id) == []
    async with db.session() as s:
        assert not list(
            await s.scalars(select(AuditEntry).where(AuditEntry.action == "member.import"))
        )


async def test_reimport_updates_and_never_duplicates(db: Database) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        await import_members(s, space_id, GOOD.encode(), actor="test")
    changed = GOOD.replace("manager", "director").encode()
    async with db.transaction() as s:
        report = await import_members(s, space_id, changed, actor="test")
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    members = await _members(db, space_id)
    assert len(members) == 2
    assert members[0].role == "director"


async def test_missing_mobile_column_is_explained(db: Database) -> None:
    space_id = await _space(db)
    with pytest.raises(ValidationFailed) as failed:
        async with db.transaction() as s:
            await import_members(s, space_id, "姓名,邮箱\n张伟,a@b.cn\n".encode(), actor="test")
    assert "手机号/mobile" in failed.value.problems["file"]


async def test_semicolon_separated_files(db: Database) -> None:
    space_id = await _space(db)
    async with db.transaction() as s:
        report = await import_members(
            s, space_id, "姓名;手机号\n张伟;13800000001\n".encode(), actor="t"
        )
    assert report.added == 1
