"""The space home lists only the apps the member may use: every member, members of the chosen
departments (and their sub-departments, from the DingTalk directory import) or the chosen
members; a disabled member none. An app created with `dingbridge app create` while the server
runs shows on the member's next request."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner

from dingbridge.cli import app as cli
from dingbridge.dingtalk import ASGITransport, DingTalkClient, Endpoints
from dingbridge.sim.defaults import FULL_APP
from dingbridge.spaces.app_input import AppInput
from dingbridge.spaces.apps import create_space_app
from dingbridge.spaces.departments import list_departments
from dingbridge.spaces.directory_import import import_directory
from dingbridge.spaces.members import find_by_mobile, set_member_status
from tests.signin.signin_world import SIM, Browser, World, world

__all__ = ["world"]

HOME = 'id="space-home"'


async def signed_in(world: World, userid: str, mobile: str) -> Browser:
    phone = world.new_browser()
    await world.in_client(phone, userid)
    assert HOME in (await world.bind(phone, mobile)).text
    return phone


async def import_the_directory(world: World) -> dict[str, int]:
    """The demo corp's directory into space 10001; department name → row id."""
    client = DingTalkClient(
        app_key=FULL_APP.app_key,
        app_secret=FULL_APP.app_secret,
        corp_id=FULL_APP.corp_id,
        endpoints=Endpoints.single_base(SIM),
        transport=ASGITransport(world.sim_app),
    )
    await import_directory(world.context.db, client, 10001, actor="test")
    async with world.context.db.session() as session:
        return {d.name: d.id for d in await list_departments(session, 10001)}


async def add(
    world: World,
    name: str,
    access: str = "all",
    departments: tuple[int, ...] = (),
    members: tuple[int, ...] = (),
    icon: str = "",
) -> int:
    data = AppInput(
        name=name,
        url=f"https://apps.example.com/{len(name)}",
        icon=icon,
        access=access,
        departments=departments,
        members=members,
    )
    async with world.context.db.transaction() as session:
        return (await create_space_app(session, 10001, data, actor="test")).app.id


async def test_each_member_sees_the_apps_granted_to_them(world: World) -> None:
    departments = await import_the_directory(world)
    async with world.context.db.session() as session:
        lina = await find_by_mobile(session, 10001, "+8613800000003")
    assert lina is not None
    await add(world, "全员公告", icon="https://apps.example.com/notice.png")
    await add(world, "研发知识库", access="departments", departments=(departments["研发部"],))
    await add(world, "市场看板", access="departments", departments=(departments["市场部"],))
    await add(world, "李娜的报表", access="members", members=(lina.id,))

    boss = await signed_in(world, "user001", "13800000001")  # 张伟: the company root only
    rnd_head = await signed_in(world, "user002", "13800000002")  # 王秀英: 研发部
    frontend = await signed_in(world, "user003", "13800000003")  # 李娜: 前端组, under 研发部

    def listed(page: str) -> set[str]:
        names = {"全员公告", "研发知识库", "市场看板", "李娜的报表"}
        return {name for name in names if name in page}

    home = (await boss.get("/10001/")).text
    assert listed(home) == {"全员公告"}
    assert '<img src="https://apps.example.com/notice.png" alt="" class="app-icon">' in home
    assert listed((await rnd_head.get("/10001/")).text) == {"全员公告", "研发知识库"}
    assert listed((await frontend.get("/10001/")).text) == {"全员公告", "研发知识库", "李娜的报表"}


async def test_a_disabled_member_may_use_no_app(world: World) -> None:
    await add(world, "全员公告")
    phone = await signed_in(world, "user002", "13800000002")
    assert "全员公告" in (await phone.get("/10001/")).text
    async with world.context.db.transaction() as session:
        member = await find_by_mobile(session, 10001, "+8613800000002")
        assert member is not None
        await set_member_status(session, 10001, member.id, "disabled", actor="test")
    page = await phone.get("/10001/")
    assert HOME not in page.text and "全员公告" not in page.text
    spaces = world.context.signin.spaces
    view = await spaces.member(10001, member.id)
    assert view is not None and not view.active
    assert (await spaces.space(10001)).apps_for(view) == ()


async def test_an_app_created_on_the_command_line_shows_at_once(world: World) -> None:
    phone = await signed_in(world, "user001", "13800000001")
    assert "工单系统" not in (await phone.get("/10001/")).text
    data_dir = str(world.settings.data_dir)
    created = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "app",
            "create",
            "10001",
            "--name",
            "工单系统",
            "--url",
            "/tickets",
            "--data-dir",
            data_dir,
        ],
    )
    assert created.exit_code == 0, created.output
    assert "工单系统" in (await phone.get("/10001/")).text
    deleted = await asyncio.to_thread(
        CliRunner().invoke, cli, ["app", "delete", "10001", "1", "--data-dir", data_dir]
    )
    assert deleted.exit_code == 0, deleted.output
    assert "工单系统" not in (await phone.get("/10001/")).text
