"""The space cache behind signed-in page views and returning sign-ins: whatever an admin changes
shows on the member's next request, in this instance and in another one sharing the KV; a change
made by another process (a CLI command) shows at once with SQLite, within the cache's max age
with PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from dingbridge.signin.space_cache import SpaceCache
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.members import find_by_mobile, set_member_status
from dingbridge.spaces.store import rename_space
from dingbridge.storage.db import Database
from tests.signin.signin_world import (
    Browser,
    World,
    admin_browser,
    open_world,
    world_settings,
)
from tests.storage.conftest import pg_schema_url  # noqa: F401  (fixture)

HOME = 'id="space-home"'


async def signed_in_home(world: World, userid: str, mobile: str) -> Browser:
    """A phone whose user bound once and then signed in again (the binding is cached)."""
    first = world.new_browser()
    await world.in_client(first, userid)
    assert HOME in (await world.bind(first, mobile)).text
    phone = world.new_browser()
    assert HOME in (await world.in_client(phone, userid)).text
    assert HOME in (await phone.get("/10001/")).text
    return phone


async def member_id(world: World, mobile: str) -> int:
    async with world.context.db.session() as session:
        member = await find_by_mobile(session, 10001, mobile)
    assert member is not None
    return member.id


async def test_console_changes_show_on_the_next_page_view(world: World) -> None:
    phone = await signed_in_home(world, "user001", "13800000001")
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces/10001")).csrf()

    renamed = await admin.post("/admin/spaces/10001/rename", {"csrf_token": csrf, "name": "新名字"})
    assert renamed.status == 303
    assert "新名字" in (await phone.get("/10001/")).text

    added = await admin.post(
        "/admin/spaces/10001/apps",
        {"csrf_token": csrf, "name": "考勤打卡", "url": "https://apps.example.com/clock"},
    )
    assert added.status == 303
    assert "考勤打卡" in (await phone.get("/10001/")).text

    edited = await admin.post(
        f"/admin/spaces/10001/members/{await member_id(world, '+8613800000001')}",
        {"csrf_token": csrf, "name": "张伟民", "mobile": "13800000001", "status": "active"},
    )
    assert edited.status == 303
    assert "张伟民" in (await phone.get("/10001/")).text

    saved = await admin.post(
        "/admin/spaces/10001/dingtalk",
        {
            "csrf_token": csrf,
            "enabled": "1",
            "corp_name": "改名后的公司",
            "corp_id": DEMO_CORP_ID,
            "agent_id": "3001001",
            "app_key": "dingfullaccess0001ab",
            "api_version": "v2",
        },
    )
    assert saved.status == 303, saved.text
    assert "改名后的公司" in (await phone.get("/10001/")).text


async def test_a_member_disabled_in_the_console_is_signed_out_at_once(world: World) -> None:
    phone = await signed_in_home(world, "user002", "13800000002")
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces/10001")).csrf()
    member = await member_id(world, "+8613800000002")
    done = await admin.post(
        f"/admin/spaces/10001/members/{member}/status", {"csrf_token": csrf, "status": "disabled"}
    )
    assert done.status == 303
    assert HOME not in (await phone.get("/10001/")).text
    refused = await world.post_code(
        world.new_browser(), world.sim.issue_authcode(DEMO_CORP_ID, "user002")
    )
    assert refused.status == 403 and refused.json()["error"] == "member_disabled"


async def test_a_deleted_member_is_signed_out_and_must_bind_again(world: World) -> None:
    phone = await signed_in_home(world, "user003", "13800000003")
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces/10001")).csrf()
    member = await member_id(world, "+8613800000003")
    done = await admin.post(
        f"/admin/spaces/10001/members/{member}/delete", {"csrf_token": csrf, "confirm": "1"}
    )
    assert done.status == 303
    assert HOME not in (await phone.get("/10001/")).text
    again = await world.in_client(world.new_browser(), "user003")
    assert again.url.endswith("/10001/bind")


async def test_an_unbound_user_must_bind_again_after_cached_sign_ins(world: World) -> None:
    await signed_in_home(world, "user001", "13800000001")
    admin = await admin_browser(world)
    page = await admin.get("/admin/spaces/10001/signin")
    binding = page.text.split("/signin/bindings/")[1].split("/delete")[0]
    done = await admin.post(
        f"/admin/spaces/10001/signin/bindings/{binding}/delete",
        {"csrf_token": page.csrf(), "confirm": "1"},
    )
    assert done.status == 303
    again = await world.in_client(world.new_browser(), "user001")
    assert again.url.endswith("/10001/bind")


async def test_a_disabled_space_is_gone_at_once(world: World) -> None:
    phone = await signed_in_home(world, "user001", "13800000001")
    admin = await admin_browser(world)
    csrf = (await admin.get("/admin/spaces/10001")).csrf()
    done = await admin.post(
        "/admin/spaces/10001/enabled", {"csrf_token": csrf, "enabled": "0", "confirm": "1"}
    )
    assert done.status == 303
    assert (await phone.get("/10001/")).status == 404
    refused = await world.post_code(
        world.new_browser(), world.sim.issue_authcode(DEMO_CORP_ID, "user001")
    )
    assert refused.status == 404


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """The world on SQLite or on PostgreSQL (a fresh schema)."""
    overrides = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("pg_schema_url")
    async with open_world(world_settings(tmp_path / "data", **overrides)) as opened:
        yield opened


async def test_a_change_from_another_process_shows_at_once_or_within_the_max_age(
    any_db_world: World,
) -> None:
    """SQLite: at once (the file's data_version). PostgreSQL: within the cache's max age."""
    world = any_db_world
    now = [1000.0]
    cache = SpaceCache(world.context.db, world.context.kv, clock=lambda: now[0])
    world.context.signin.spaces = cache
    phone = await signed_in_home(world, "user001", "13800000001")
    # like `dingbridge space …` run next to the server: its own engine, no KV to tell
    other = Database(world.settings.effective_database_url)
    try:
        async with other.transaction() as session:
            await rename_space(session, 10001, "命令行改的名字", actor="cli")
            member = await find_by_mobile(session, 10001, "+8613800000001")
            assert member is not None
            await set_member_status(session, 10001, member.id, "disabled", actor="cli")
    finally:
        await other.dispose()
    if world.context.db.data_version() is None:
        now[0] += cache.max_age
    page = await phone.get("/10001/")
    assert HOME not in page.text and "命令行改的名字" in page.text


async def test_another_instance_sees_a_change_on_its_next_request(
    two_worlds: tuple[World, World],
) -> None:
    first_world, world = two_worlds
    first, sim = first_world.app, first_world.sim
    phone = await signed_in_home(world, "user001", "13800000001")

    context = first.state.context
    async with context.db.transaction() as session:
        await rename_space(session, 10001, "另一实例改的名字", actor="test")
    await context.signin.spaces.settle()
    assert "另一实例改的名字" in (await phone.get("/10001/")).text

    async with context.db.transaction() as session:
        member = await find_by_mobile(session, 10001, "+8613800000001")
        assert member is not None
        await set_member_status(session, 10001, member.id, "disabled", actor="test")
    await context.signin.spaces.settle()
    assert HOME not in (await phone.get("/10001/")).text
    refused = await world.post_code(
        world.new_browser(), sim.issue_authcode(DEMO_CORP_ID, "user001")
    )
    assert refused.status == 403
