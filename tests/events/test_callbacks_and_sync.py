"""HTTP push callbacks (signed, encrypted, replay-proof) and the catch-up sync with its guard."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dingbridge.dingtalk import CallbackCrypto
from dingbridge.events.sync_run import run_sync
from dingbridge.signin.member_sessions import signed_in
from dingbridge.sim import directory_changes as changes
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.directory_sync import SyncStopped
from dingbridge.spaces.event_settings import CallbackKeys, save_event_settings
from dingbridge.storage.models import AuditEntry, Member
from tests.events.conftest import SPACE, EventsWorld, events_world, until

__all__ = ["events_world"]


async def use_http_push(world: EventsWorld) -> CallbackKeys:
    async with world.context.db.transaction() as session:
        _, keys = await save_event_settings(
            session,
            world.context.secret_box,
            SPACE,
            mode="http",
            new_callback_keys=True,
            actor="test",
        )
    assert keys is not None
    world.sim.state.events.http_transport = httpx.ASGITransport(world.apps[0])
    return keys


async def register(world: EventsWorld, keys: CallbackKeys) -> httpx.Response:
    """The developer console's 保存: the simulator checks the URL with ``check_url``."""
    async with httpx.AsyncClient(base_url=world.sim.url) as client:
        return await client.put(
            f"/_sim/apps/{FULL_APP.app_key}/callback",
            json={
                "url": f"http://server.test/{SPACE}/dingtalk/events",
                "token": keys.token,
                "aes_key": keys.aes_key,
            },
        )


def signed(
    keys: CallbackKeys, body: dict[str, Any], **overrides: str
) -> tuple[dict[str, str], bytes]:
    crypto = CallbackCrypto(keys.token, keys.aes_key, overrides.pop("owner", FULL_APP.app_key))
    encrypt = crypto.encrypt(json.dumps(body))
    timestamp, nonce = overrides.get("timestamp", str(int(time.time() * 1000))), "nonceABC123"
    query = {
        "signature": crypto.sign(timestamp, nonce, encrypt),
        "timestamp": timestamp,
        "nonce": nonce,
    }
    query.update({k: v for k, v in overrides.items() if k == "signature"})
    return query, json.dumps({"encrypt": encrypt}).encode()


async def post(world: EventsWorld, query: dict[str, str], body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(world.apps[0]), base_url="http://server.test"
    ) as client:
        return await client.post(f"/{SPACE}/dingtalk/events", params=query, content=body)


async def test_pushed_leave_is_applied_and_answered_with_the_encrypted_success(
    events_world: EventsWorld,
) -> None:
    world = events_world
    keys = await use_http_push(world)
    registered = await register(world, keys)
    assert registered.status_code == 200, registered.text
    sessions = await world.sign_in("user008")
    changes.user_leaves(world.sim.state, DEMO_CORP_ID, "user008")  # no loop: schedule below
    await until(lambda: await_member_disabled(world, "user008"))
    assert await signed_in(world.context, SPACE, sessions[0]) is None
    outcomes = [d.outcome for d in world.sim.state.events.deliveries if d.channel == "http"]
    assert outcomes == ["ok"]


async def await_member_disabled(world: EventsWorld, userid: str) -> bool:
    return (await world.member(userid)).status == "disabled"


async def test_forged_replayed_and_foreign_callbacks_are_refused(events_world: EventsWorld) -> None:
    world = events_world
    keys = await use_http_push(world)
    leave = {
        "EventType": "user_leave_org",
        "eventId": "e1",
        "CorpId": DEMO_CORP_ID,
        "userId": ["user009"],
    }
    forged_query, body = signed(keys, leave, signature="0" * 40)
    assert (await post(world, forged_query, body)).status_code == 403
    other_owner, other_body = signed(keys, leave, owner="dingsomeoneelse0001")
    assert (await post(world, other_owner, other_body)).status_code == 403
    stale, stale_body = signed(keys, leave, timestamp=str(int((time.time() - 7200) * 1000)))
    assert (await post(world, stale, stale_body)).status_code == 403
    assert (await world.member("user009")).status == "active"
    query, body = signed(keys, leave)
    accepted = await post(world, query, body)
    assert accepted.status_code == 200
    reply = accepted.json()
    crypto = CallbackCrypto(keys.token, keys.aes_key, FULL_APP.app_key)
    plain = crypto.decrypt_verified(
        reply["msg_signature"], reply["timeStamp"], reply["nonce"], reply["encrypt"]
    )
    assert plain == "success"
    assert (await world.member("user009")).status == "disabled"
    assert (await post(world, query, body)).status_code == 403  # the same request again


async def test_userid_as_a_string_is_read_too(events_world: EventsWorld) -> None:
    world = events_world
    keys = await use_http_push(world)
    query, body = signed(
        keys,
        {"EventType": "user_leave_org", "BizId": "e2", "CorpId": DEMO_CORP_ID, "UserId": "user010"},
    )
    assert (await post(world, query, body)).status_code == 200
    assert (await world.member("user010")).status == "disabled"


async def test_catch_up_applies_leaves_that_happened_while_stopped(
    events_world: EventsWorld,
) -> None:
    world = events_world
    sessions = await world.sign_in("user011")
    # Nobody listens: the events go nowhere, as when the server is down.
    changes.user_leaves(world.sim.state, DEMO_CORP_ID, "user011", "合同到期")
    assert (await world.member("user011")).status == "active"
    report = await run_sync(world.context, SPACE)
    assert [d.userid for d in report.departures] == ["user011"]
    member = await world.member("user011")
    assert member.status == "disabled" and "合同到期" in (member.disabled_reason or "")
    assert await signed_in(world.context, SPACE, sessions[0]) is None
    again = await run_sync(world.context, SPACE)
    assert again.departures == []


async def statuses(world: EventsWorld) -> dict[str, str]:
    async with world.context.db.session() as session:
        rows = await session.scalars(select(Member).where(Member.space_id == SPACE))
        return {m.dingtalk_userid or m.mobile: m.status for m in rows}


async def test_the_guard_stops_a_run_that_would_disable_30_percent(
    events_world: EventsWorld,
) -> None:
    world = events_world
    corp = world.sim.state.corps[DEMO_CORP_ID]
    total = len(corp.users)
    leavers = list(corp.users)[: round(total * 0.3)]
    for userid in leavers:
        changes.user_leaves(world.sim.state, DEMO_CORP_ID, userid)
    before = await statuses(world)
    with pytest.raises(SyncStopped) as stopped:
        await run_sync(world.context, SPACE)
    assert len(stopped.value.report.departures) == len(leavers)
    assert "nothing was changed" in stopped.value.message
    assert await statuses(world) == before
    async with world.context.db.session() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "member.sync_stopped" in actions and "member.left_dingtalk" not in actions


async def test_a_dry_run_reports_and_changes_nothing(events_world: EventsWorld) -> None:
    world = events_world
    changes.user_leaves(world.sim.state, DEMO_CORP_ID, "user012")
    before = await statuses(world)
    report = await run_sync(world.context, SPACE, dry_run=True)
    assert [d.userid for d in report.departures] == ["user012"]
    assert await statuses(world) == before
    real = await run_sync(world.context, SPACE)
    assert [d.userid for d in real.departures] == ["user012"]


async def test_the_cli_dry_run_prints_the_diff_and_changes_nothing(
    events_world: EventsWorld,
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from dingbridge.cli import app as cli_app

    world = events_world
    changes.user_leaves(world.sim.state, DEMO_CORP_ID, "user013")
    before = await statuses(world)
    env = {
        "DINGBRIDGE_DINGTALK_API": world.sim.url,
        "DINGBRIDGE_DINGTALK_OAPI": world.sim.url,
    }
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli_app,
        ["member", "sync", str(SPACE), "--dry-run", "--data-dir", str(world.settings.data_dir)],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "would disable: 马超 (user013)" in result.output
    assert "nothing was changed" in result.output
    assert await statuses(world) == before


async def test_space_events_command_sets_the_mode_and_refuses_a_bad_one(
    events_world: EventsWorld,
) -> None:
    import asyncio

    from typer.testing import CliRunner

    from dingbridge.cli import app as cli_app
    from dingbridge.spaces.event_settings import load_event_settings

    world = events_world
    base = ["space", "events", str(SPACE), "--data-dir", str(world.settings.data_dir)]
    done = await asyncio.to_thread(
        CliRunner().invoke, cli_app, [*base, "--mode", "http", "--new-callback-keys"]
    )
    assert done.exit_code == 0, done.output
    assert "events http" in done.output and "aes_key: " in done.output
    bad = await asyncio.to_thread(CliRunner().invoke, cli_app, [*base, "--mode", "carrier-pigeon"])
    assert bad.exit_code == 1 and "off, stream, http" in bad.output
    async with world.context.db.session() as session:
        stored = await load_event_settings(session, SPACE)
    assert stored.mode == "http" and stored.has_aes_key
    aes_key = done.output.split("aes_key: ", 1)[1].split()[0]
    async with world.context.db.session() as session:
        rows = list(await session.scalars(select(AuditEntry)))
    assert all(aes_key not in json.dumps(r.details, ensure_ascii=False) for r in rows)
