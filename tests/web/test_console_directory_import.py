"""The members page's "从钉钉通讯录导入" button: a background import with polled progress."""

from __future__ import annotations

import asyncio
from typing import Any

from dingbridge.sim.defaults import FULL_APP, NO_MOBILE_APP
from dingbridge.spaces.members import count_members
from dingbridge.spaces.store import create_space
from tests.web.conftest import AsgiClient, Server, csrf_of
from tests.web.console_world import space_for, use_simulator


async def _run_import(admin: AsgiClient, space_id: int) -> dict[str, Any]:
    members = f"/admin/spaces/{space_id}/members"
    started = await admin.post(
        f"/admin/spaces/{space_id}/directory-import",
        form={"csrf_token": await csrf_of(admin, members)},
    )
    assert started.status == 303
    assert "done=import_started" in (started.header("location") or "")
    for _ in range(400):  # the import runs in the background; wait for it to end
        state = (await admin.get(f"/admin/spaces/{space_id}/directory-import.json")).json()
        if state["status"] != "running":
            return dict(state)
        await asyncio.sleep(0.02)
    raise AssertionError("the import did not end")


async def test_import_adds_the_directory_once(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    use_simulator(server, sim_app)
    space_id = await space_for(server, FULL_APP)
    first = await _run_import(admin, space_id)
    assert first["status"] == "done", first
    created = first["progress"]["created"]
    assert created >= 20 and first["progress"]["users_seen"] >= created
    async with server.app.state.context.db.session() as session:
        assert await count_members(session, space_id) == created
    page = (await admin.get(f"/admin/spaces/{space_id}/members")).text
    assert "张伟" in page and 'id="directory-import-result"' in page
    assert f"新增 {created}" in page
    again = await _run_import(admin, space_id)
    assert again["progress"]["created"] == 0 and again["progress"]["unchanged"] == created
    async with server.app.state.context.db.session() as session:
        assert await count_members(session, space_id) == created
    assert "member.import_dingtalk" in (await admin.get("/admin/audit")).text


async def test_users_without_a_mobile_are_reported(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    use_simulator(server, sim_app)
    space_id = await space_for(server, NO_MOBILE_APP)
    state = await _run_import(admin, space_id)
    assert state["status"] == "done" and state["progress"]["created"] == 0
    assert state["skipped"] and state["skipped"][0]["reason"] == "no_mobile"
    page = (await admin.get(f"/admin/spaces/{space_id}/members")).text
    assert "企业员工手机号信息" in page


async def test_import_needs_the_dingtalk_settings(server: Server, admin: AsgiClient) -> None:
    async with server.app.state.context.db.transaction() as session:
        space = await create_space(session, "财务部", actor="test")
    members = f"/admin/spaces/{space.id}/members"
    page = (await admin.get(members)).text
    assert 'id="start-directory-import"' not in page  # no button before the settings
    result = await admin.post(
        f"/admin/spaces/{space.id}/directory-import",
        form={"csrf_token": await csrf_of(admin, members)},
    )
    shown = (await admin.get(result.header("location") or "")).text
    assert "请先在钉钉授权设置中填写" in shown
