"""The console's audit log: paged, filtered by space, actor, action and date, one readable
sentence per entry (zh-CN and en), and a CSV export whose cells a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from dingbridge.spaces import audit
from dingbridge.spaces.audit_text import SENTENCES, safe_cell
from dingbridge.storage.models import AuditEntry
from tests.web.conftest import AsgiClient, Server, csrf_of


async def _add_space_and_member(admin: AsgiClient, space: str, name: str, mobile: str) -> None:
    token = await csrf_of(admin)
    await admin.post("/admin/spaces", form={"csrf_token": token, "name": space})
    spaces = (await admin.get("/admin/spaces")).text
    space_id = spaces.split(f">{space}<")[0].rsplit("/admin/spaces/", 1)[1].split('"')[0]
    added = await admin.post(
        f"/admin/spaces/{space_id}/members",
        form={"csrf_token": token, "name": name, "mobile": mobile, "status": "active"},
    )
    assert added.status == 303, added.text


async def test_each_entry_reads_as_a_sentence_in_the_reader_s_language(
    admin: AsgiClient,
) -> None:
    await _add_space_and_member(admin, "销售部", "张伟", "13800000001")
    page = (await admin.get("/admin/audit")).text
    assert "admin:admin 在空间 10001 添加了成员 张伟。" in page
    assert "admin:admin 创建了空间 10001（销售部）。" in page
    assert "member.add" not in page.split('id="audit"')[1]  # no raw keys
    assert "{&#34;" not in page and '{"' not in page  # no JSON
    admin.cookies["dingbridge_lang"] = "en"
    english = (await admin.get("/admin/audit")).text
    assert "admin:admin added member 张伟 to space 10001." in english


async def test_an_edit_shows_what_changed_by_field_name(admin: AsgiClient) -> None:
    await _add_space_and_member(admin, "销售部", "张伟", "13800000001")
    token = await csrf_of(admin)
    await admin.post("/admin/spaces/10001/rename", form={"csrf_token": token, "name": "市场部"})
    page = (await admin.get("/admin/audit?action=space.rename")).text
    assert "admin:admin 将空间 10001 从“销售部”改名为“市场部”。" in page
    assert "名称：</span>销售部 → 市场部" in page


async def test_every_recorded_kind_of_action_has_a_sentence() -> None:
    from tests.test_i18n_python_messages import PACKAGE

    recorded = set()
    for module in PACKAGE.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        if "audit.record(" not in text:
            continue
        for kind in SENTENCES:
            if f'"{kind}"' in text:
                recorded.add(kind)
    assert {"member.add", "space.disable", "binding.create", "dingtalk.test"} <= recorded
    assert len(SENTENCES) >= 28


async def _many_entries(server: Server, n: int) -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    async with server.app.state.context.db.transaction() as session:
        for i in range(n):
            session.add(
                AuditEntry(
                    time=start + timedelta(days=i % 3),
                    actor="admin:li" if i % 2 else "admin:wang",
                    action="member.disable" if i % 4 == 0 else "member.enable",
                    target=f"space:{10001 + i % 2}/member:{i}",
                    details={"name": f"成员{i}"},
                )
            )


async def test_the_log_is_paged_and_the_pages_keep_the_filters(
    server: Server, admin: AsgiClient
) -> None:
    await _many_entries(server, 130)
    first = (await admin.get("/admin/audit")).text
    assert first.count('<span class="audit-sentence">') == 50
    assert "共 131 条" in first  # the admin's own creation too
    filtered = (await admin.get("/admin/audit?actor=admin%3Ali")).text
    assert "共 65 条" in filtered and "第 1 / 2 页" in filtered
    assert 'href="?actor=admin%3Ali&amp;page=2"' in filtered
    second = (await admin.get("/admin/audit?actor=admin%3Ali&page=2")).text
    assert second.count('<span class="audit-sentence">') == 15
    assert "admin:wang" not in second.split('id="audit"')[1]


async def test_filters_by_space_action_and_date(server: Server, admin: AsgiClient) -> None:
    await _many_entries(server, 12)
    by_space = (await admin.get("/admin/audit?space=10002")).text
    assert "共 6 条" in by_space and "空间 10001" not in by_space.split('id="audit"')[1]
    by_action = (await admin.get("/admin/audit?action=member.disable")).text
    assert "共 3 条" in by_action and "停用了空间" in by_action
    # dates are days of the server's zone (UTC in these tests); "to" includes its whole day
    one_day = (await admin.get("/admin/audit?since=2026-03-02&until=2026-03-02")).text
    assert "共 4 条" in one_day
    both = (await admin.get("/admin/audit?space=10001&action=member.enable&since=2026-03-02")).text
    assert "共 2 条" in both


async def test_a_bad_filter_is_named_and_the_rest_still_applies(
    server: Server, admin: AsgiClient
) -> None:
    await _many_entries(server, 12)
    page = await admin.get("/admin/audit?since=2026-13-01&space=10002")
    assert page.status == 200
    assert "不是日期：2026-13-01" in page.text and "共 6 条" in page.text
    assert 'value="2026-13-01"' in page.text  # what was typed stays in the form


def test_cells_that_a_spreadsheet_would_run_are_neutralised() -> None:
    for risky in ("=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(risky) == "'" + risky
    assert safe_cell("admin:admin") == "admin:admin" and safe_cell("") == ""


async def test_the_csv_export_follows_the_filters_and_is_safe(
    server: Server, admin: AsgiClient
) -> None:
    await _many_entries(server, 8)
    async with server.app.state.context.db.transaction() as session:
        await audit.record(session, '=HYPERLINK("http://x")', "member.add", "space:10001", {})
        await audit.record(
            session, "@evil", "member.edit", "-space", {"name": {"old": "a", "new": "b"}}
        )
    export = await admin.get("/admin/audit.csv?space=10001")
    assert export.status == 200
    assert export.header("content-type") == "text/csv; charset=utf-8"
    assert "attachment" in (export.header("content-disposition") or "")
    rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff"))))
    assert rows[0] == ["时间", "操作人", "操作", "对象", "内容"]
    assert len(rows) == 1 + 4 + 1  # the four entries of space 10001 and the HYPERLINK one
    actors = {row[1] for row in rows[1:]}
    assert '\'=HYPERLINK("http://x")' in actors
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert rows[-1][0].endswith(" UTC") and "停用了空间 10001 的成员 成员0" in rows[-1][4]
    everything = await admin.get("/admin/audit.csv")
    assert "'@evil" in everything.text and "'-space" in everything.text
    assert "名称: a → b;" in everything.text
