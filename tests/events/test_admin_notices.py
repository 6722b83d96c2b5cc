"""The space's admins (DingTalk userids) are told by a work notification of a sync stopped by
the guard and of a Stream connection that keeps failing — once, not on every retry — when the
space turns it on; nobody is told otherwise, and a refused notification changes nothing else."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from dingbridge.errors import ValidationFailed
from dingbridge.events import stream
from dingbridge.events.sync_run import run_sync
from dingbridge.sim import directory_changes as changes
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.sim.faults import parse_fault
from dingbridge.spaces.directory_sync import SyncStopped
from dingbridge.spaces.event_settings import load_event_settings, save_event_settings
from tests.events.conftest import SPACE, EventsWorld, events_world, until

__all__ = ["events_world"]

ADMINS = ("user001", "user002")
GATEWAY = "/v1.0/gateway/connections/open"


async def set_admins(world: EventsWorld, *, on: bool = True) -> None:
    context = world.context
    async with context.db.transaction() as session:
        await save_event_settings(
            session,
            context.secret_box,
            SPACE,
            notify_admins=on,
            admin_userids=ADMINS,
            actor="test",
        )


def notices(world: EventsWorld) -> list[tuple[list[str], str]]:
    return [
        (m.userids, str(m.msg.get("text", {}).get("content", "")))
        for m in world.sim.state.messages
        if m.app_key == FULL_APP.app_key
    ]


def lose_30_percent(world: EventsWorld) -> None:
    corp = world.sim.state.corps[DEMO_CORP_ID]
    for userid in list(corp.users)[3 : 3 + round(len(corp.users) * 0.3)]:
        changes.user_leaves(world.sim.state, DEMO_CORP_ID, userid)


async def test_the_admins_are_told_when_the_guard_stops_a_sync(events_world: EventsWorld) -> None:
    world = events_world
    await set_admins(world)
    lose_30_percent(world)
    with pytest.raises(SyncStopped):
        await run_sync(world.context, SPACE)
    [(userids, text)] = notices(world)
    assert userids == list(ADMINS)
    assert "已停止 示例空间 的通讯录同步" in text and "未做任何更改" in text
    # A dry run that would trip the guard tells nobody.
    with pytest.raises(SyncStopped):
        await run_sync(world.context, SPACE, dry_run=True)
    assert len(notices(world)) == 1


async def test_nobody_is_told_unless_the_space_turns_it_on(events_world: EventsWorld) -> None:
    world = events_world
    await set_admins(world, on=False)
    lose_30_percent(world)
    with pytest.raises(SyncStopped):
        await run_sync(world.context, SPACE)
    assert notices(world) == []


async def test_a_refused_notice_leaves_the_stopped_sync_as_it_was(
    events_world: EventsWorld,
) -> None:
    world = events_world
    await set_admins(world)
    lose_30_percent(world)
    world.sim.state.faults.add(
        parse_fault({"path": "/topapi/message/corpconversation/asyncsend_v2", "kind": "drop"})
    )
    with pytest.raises(SyncStopped):  # the guard's answer, not the notification's failure
        await run_sync(world.context, SPACE)
    assert notices(world) == []


async def test_the_admins_are_told_once_when_the_stream_cannot_connect(
    events_world: EventsWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = events_world
    await set_admins(world)
    monkeypatch.setattr(stream, "MAX_BACKOFF", 0.05)
    monkeypatch.setattr("dingbridge.events.stream.random.random", lambda: 0.0)
    world.sim.state.faults.add(parse_fault({"path": GATEWAY, "kind": "http_status"}))
    runner = world.runner(world.context)
    task = asyncio.create_task(runner.run())
    try:
        await until(lambda: runner._failures.get(FULL_APP.app_key, 0) >= 2 * stream.ALERT_AFTER)
        [(userids, text)] = notices(world)
        assert userids == list(ADMINS) and "Stream" in text and "示例空间" in text
        # It connects again, then fails again: the admins are told again.
        world.sim.state.faults.clear()
        await until(lambda: FULL_APP.app_key in runner.connected)
        world.sim.state.faults.add(parse_fault({"path": GATEWAY, "kind": "http_status"}))
        async with httpx.AsyncClient(base_url=world.sim.url) as client:
            await client.post("/_sim/stream/disconnect", json={})
        await until(lambda: len(notices(world)) == 2)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_admin_userids_are_checked_and_kept_in_order(events_world: EventsWorld) -> None:
    context = events_world.context
    async with context.db.transaction() as session:
        with pytest.raises(ValidationFailed) as refused:
            await save_event_settings(
                session, context.secret_box, SPACE, admin_userids=("ok", "no way"), actor="t"
            )
        assert "admin_userids" in refused.value.problems
        await save_event_settings(
            session, context.secret_box, SPACE, admin_userids=("b", "a"), actor="t"
        )
        assert (await load_event_settings(session, SPACE)).admin_userids == ("b", "a")
