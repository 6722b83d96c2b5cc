"""The demo keeps the cases its banner advertises, also after the console's directory import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from dingbridge.demo import DISABLED_MEMBER, NOT_A_MEMBER, demo_sim_state, prepare_database
from dingbridge.dingtalk import ASGITransport, DingTalkClient, Endpoints
from dingbridge.settings import Settings
from dingbridge.sim import create_app as create_sim
from dingbridge.sim.defaults import FULL_APP
from dingbridge.spaces.directory_import import import_directory
from dingbridge.storage.db import Database
from dingbridge.storage.models import Member


async def test_the_directory_import_keeps_luo_xia_no_member(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    sim = demo_sim_state()
    await prepare_database(settings, sim, "http://127.0.0.1:9/api-dingtalk-com/", "pw-1234567890")
    sim_app: Any = create_sim(sim)
    client = DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=FULL_APP.app_secret,
        corp_id=FULL_APP.corp_id,
        endpoints=Endpoints.single_base("http://sim.test"),
        transport=ASGITransport(sim_app),
    )
    db = Database(settings.effective_database_url)
    try:
        report = await import_directory(db, client, 10002, actor="admin")
        async with db.session() as session:
            members = (await session.scalars(select(Member).where(Member.space_id == 10002))).all()
    finally:
        await db.dispose()
    names = {m.name: m for m in members}
    assert "罗霞" not in names  # the banner's "not a member"
    assert [s.userid for s in report.without_mobile] == [NOT_A_MEMBER]
    assert len(names) == 21
    disabled = sim.corps[FULL_APP.corp_id].users[DISABLED_MEMBER].name
    assert names[disabled].status == "disabled"  # the import keeps the demo's disabled member
