"""Stream mode end to end: the simulator's event, the official SDK in the server, the leave."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from dingbridge.events.apply import handle_event
from dingbridge.events.payload import DirectoryEvent
from dingbridge.events.stream import StreamRunner, lock_key
from dingbridge.signin.member_sessions import signed_in
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.storage.models import AuditEntry
from tests.events.conftest import SPACE, EventsWorld, events_world, until

__all__ = ["events_world"]


@contextlib.asynccontextmanager
async def running(runner: StreamRunner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(runner.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def sim_post(world: EventsWorld, path: str, **body: object) -> httpx.Response:
    async with httpx.AsyncClient(base_url=world.sim.url) as client:
        answer = await client.post(path, json=body)
    assert answer.status_code == 200, answer.text
    return answer


async def no_sessions(world: EventsWorld, userid: str) -> bool:
    return await world.live_sessions(userid) == 0


def connections(world: EventsWorld) -> int:
    return len(world.sim.state.events.connections.get(FULL_APP.app_key, []))


async def test_a_leave_disables_the_member_and_ends_every_session(
    events_world: EventsWorld,
) -> None:
    world = events_world
    sessions = await world.sign_in("user004", times=3)
    others = await world.sign_in("user003")
    async with running(world.runner(world.context)):
        await until(lambda: connections(world) == 1)
        await sim_post(world, f"/_sim/corps/{DEMO_CORP_ID}/users/user004/leave", reason="辞职")
        await until(lambda: no_sessions(world, "user004"))
    member = await world.member("user004")
    assert member.status == "disabled"
    assert member.disabled_at is not None
    assert member.disabled_reason == "left the company in DingTalk"
    for session_id in sessions:
        assert await signed_in(world.context, SPACE, session_id) is None
    # Others keep theirs.
    assert await signed_in(world.context, SPACE, others[0]) is not None
    async with world.context.db.session() as db:
        actions = list(await db.scalars(select(AuditEntry.action)))
    assert "member.left_dingtalk" in actions and "member.sessions_revoked" in actions


async def test_a_modify_follows_the_new_mobile_and_departments(events_world: EventsWorld) -> None:
    world = events_world
    async with running(world.runner(world.context)):
        await until(lambda: connections(world) == 1)
        await sim_post(
            world, f"/_sim/corps/{DEMO_CORP_ID}/users/user005/mobile", mobile="13912345678"
        )
        await until(lambda: _mobile_is(world, "user005", "13912345678"))


async def _mobile_is(world: EventsWorld, userid: str, mobile: str) -> bool:
    return (await world.member(userid)).mobile.endswith(mobile)


async def test_an_event_is_applied_once_across_instances(events_world: EventsWorld) -> None:
    world = events_world
    second = await world.add_instance()
    event = DirectoryEvent("evt-1", "user_leave_org", DEMO_CORP_ID, ("user006",))
    first_outcome = await handle_event(world.context, SPACE, event)
    again = await handle_event(second, SPACE, event)
    assert first_outcome.startswith("left") and again == "duplicate"
    async with world.context.db.session() as db:
        entries = list(
            await db.scalars(select(AuditEntry).where(AuditEntry.action == "member.left_dingtalk"))
        )
    assert len(entries) == 1


async def test_one_instance_holds_the_stream_and_a_standby_takes_over_when_it_dies(
    events_world: EventsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = events_world
    second = await world.add_instance()
    holder = world.runner(world.context, instance="holder")
    standby = world.runner(second, instance="standby")
    holder_task = asyncio.create_task(holder.run())
    await until(lambda: holder.connected)
    async with running(standby):
        await asyncio.sleep(1.0)
        assert connections(world) == 1 and not standby.connected

        # The holder dies: its connection drops, its lock is never released.
        async def dead_release(_app_key: str) -> None:
            return None

        monkeypatch.setattr(holder, "_release_lock", dead_release)
        holder_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await holder_task
        assert await world.kv.get(lock_key(FULL_APP.app_key)) == b"holder"
        await until(lambda: standby.connected, seconds=15)
        assert await world.kv.get(lock_key(FULL_APP.app_key)) == b"standby"
        sessions = await world.sign_in("user007")
        await sim_post(world, f"/_sim/corps/{DEMO_CORP_ID}/users/user007/leave")
        await until(lambda: no_sessions(world, "user007"))
    assert await signed_in(world.context, SPACE, sessions[0]) is None


async def test_the_console_member_list_shows_when_and_why(events_world: EventsWorld) -> None:
    from dingbridge.accounts.admins import create_admin
    from tests.asgi_client import AsgiClient

    world = events_world
    event = DirectoryEvent("evt-console", "user_leave_org", DEMO_CORP_ID, ("user014",))
    await handle_event(world.context, SPACE, event)
    async with world.context.db.transaction() as session:
        await create_admin(session, "admin", "correct horse battery", actor="test")
    browser = AsgiClient(world.apps[0])
    page = await browser.get("/admin/login")
    await browser.post(
        "/admin/login",
        {"csrf_token": page.csrf(), "username": "admin", "password": "correct horse battery"},
    )
    members = await browser.get(f"/admin/spaces/{SPACE}/members")
    assert members.status == 200
    row = members.text.split("朱琳", 1)[1].split("</tr>", 1)[0]
    assert "已停用" in row and "已在钉钉离职" in row
    member = await world.member("user014")
    assert member.disabled_at is not None
    assert member.disabled_at.strftime("%Y-%m-%d %H:%M") in row
