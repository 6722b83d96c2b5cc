"""Every time the console shows is in the server's time zone (``--timezone`` / the local zone),
the zone named: one filter renders them all."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dingbridge.settings import Settings
from dingbridge.sim.defaults import FULL_APP
from dingbridge.storage.models import Binding, DingTalkSettingsRow, Member
from dingbridge.web.times import shown_time
from tests.web.conftest import AsgiClient, Server
from tests.web.console_world import space_for

# 2026-03-01 09:05 UTC is 17:05 in Shanghai
MOMENT = datetime(2026, 3, 1, 9, 5, 7, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=8000, timezone="Asia/Shanghai")


def test_a_time_is_shown_in_the_zone_with_the_zone_named() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert shown_time(MOMENT, shanghai) == "2026-03-01 17:05 CST"
    assert shown_time(MOMENT.replace(tzinfo=None), shanghai) == "2026-03-01 17:05 CST"
    assert shown_time("2026-03-01 09:05:07 UTC", shanghai, seconds=True) == (
        "2026-03-01 17:05:07 CST"
    )
    assert shown_time(MOMENT, ZoneInfo("Asia/Kathmandu")) == "2026-03-01 14:50 UTC+05:45"
    assert shown_time(MOMENT, UTC) == "2026-03-01 09:05 UTC"


async def test_console_pages_show_times_in_the_server_zone(
    server: Server, admin: AsgiClient
) -> None:
    space_id = await space_for(server, FULL_APP)
    async with server.app.state.context.db.transaction() as session:
        member = Member(
            space_id=space_id,
            name="张伟",
            mobile="13800000001",
            status="disabled",
            disabled_at=MOMENT,
            disabled_reason="by an admin",
        )
        bound = Member(space_id=space_id, name="李娜", mobile="13800000002")
        session.add_all([member, bound])
        await session.flush()
        session.add(
            Binding(
                space_id=space_id,
                corp_id=FULL_APP.corp_id,
                userid="u-lina",
                member_id=bound.id,
                created_at=MOMENT,
            )
        )
        row = await session.get(DingTalkSettingsRow, space_id)
        assert row is not None
        row.updated_at = MOMENT
    pages = {
        "members": f"/admin/spaces/{space_id}/members",
        "member": f"/admin/spaces/{space_id}/members/{bound.id}",
        "bindings": f"/admin/spaces/{space_id}/signin",
        "dingtalk": f"/admin/spaces/{space_id}/dingtalk",
    }
    for name, url in pages.items():
        page = await admin.get(url)
        assert page.status == 200, name
        assert "2026-03-01 17:05 CST" in page.text, name
        assert "2026-03-01 09:05" not in page.text, name
    audit = (await admin.get("/admin/audit")).text
    assert "CST</time>" in audit and " UTC</span>" not in audit
