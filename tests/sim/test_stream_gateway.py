"""The Stream gateway and HTTP push, as the official SDK and a push receiver see them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import dingtalk_stream
import httpx
import pytest

from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP, OTHER_CORP_APP
from tests.conftest import SimServer


class Recorder(dingtalk_stream.EventHandler):
    def __init__(self, code: int = dingtalk_stream.AckMessage.STATUS_OK) -> None:
        super().__init__()
        self.events: list[dingtalk_stream.EventMessage] = []
        self.code = code

    async def process(self, event: dingtalk_stream.EventMessage) -> tuple[int, str]:
        self.events.append(event)
        return self.code, "OK"


async def _until(condition: Any, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@contextlib.asynccontextmanager
async def official_client(
    server: SimServer, handler: Recorder, app_key: str = FULL_APP.app_key, secret: str = ""
) -> AsyncIterator[dingtalk_stream.DingTalkStreamClient]:
    """The unmodified SDK client; only its gateway URL points at the simulator."""
    credential = dingtalk_stream.Credential(app_key, secret or FULL_APP.app_secret)
    client = dingtalk_stream.DingTalkStreamClient(credential)
    client.register_all_event_handler(handler)
    api = dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API
    dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = (
        server.url + "/v1.0/gateway/connections/open"
    )
    task = asyncio.create_task(client.start())
    try:
        yield client
    finally:
        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = api
        while not task.done():  # the SDK swallows one cancellation and sleeps
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), 0.2)


async def control(server: SimServer, method: str, path: str, **json: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url) as client:
        return await client.request(method, path, json=json or None)


async def test_the_official_sdk_receives_a_leave_and_its_ack_is_recorded(
    sim_server: SimServer,
) -> None:
    handler = Recorder()
    async with official_client(sim_server, handler):
        await _until(lambda: sim_server.state.events.connections.get(FULL_APP.app_key))
        answer = await control(
            sim_server, "POST", f"/_sim/corps/{DEMO_CORP_ID}/users/user004/leave", reason="辞职"
        )
        assert answer.status_code == 200, answer.text
        await _until(lambda: handler.events)
        event = handler.events[0]
        assert event.headers.event_type == "user_leave_org"
        assert event.headers.event_corp_id == DEMO_CORP_ID
        assert event.data["userId"] == ["user004"]
        event_id = answer.json()["event"]["event_id"]
        assert event.headers.event_id == event_id
        deliveries = sim_server.state.events.deliveries
        await _until(lambda: any(d.outcome == "acked" for d in deliveries))
    # The leaver is gone from the directory and is in the leave records.
    assert "user004" not in sim_server.state.corps[DEMO_CORP_ID].users
    assert [r.userid for r in sim_server.state.leave_records[DEMO_CORP_ID]] == ["user004"]


async def test_a_refused_ack_is_delivered_again(sim_server: SimServer) -> None:
    handler = Recorder(code=dingtalk_stream.AckMessage.STATUS_SYSTEM_EXCEPTION)
    async with official_client(sim_server, handler):
        await _until(lambda: sim_server.state.events.connections.get(FULL_APP.app_key))
        await control(
            sim_server,
            "POST",
            f"/_sim/corps/{DEMO_CORP_ID}/users/user005/mobile",
            mobile="13900001234",
        )
        await _until(lambda: len(handler.events) >= 2)
    ids = {e.headers.event_id for e in handler.events}
    assert len(ids) == 1  # the same event again, not a new one
    outcomes = [d.outcome for d in sim_server.state.events.deliveries]
    assert "nack:500" in outcomes and "redelivered" in outcomes


async def test_only_apps_of_the_corp_hear_its_events(sim_server: SimServer) -> None:
    mine, theirs = Recorder(), Recorder()
    async with (
        official_client(sim_server, mine),
        official_client(sim_server, theirs, OTHER_CORP_APP.app_key, OTHER_CORP_APP.app_secret),
    ):
        hub = sim_server.state.events
        await _until(lambda: hub.connections.get(FULL_APP.app_key))
        await _until(lambda: hub.connections.get(OTHER_CORP_APP.app_key))
        await control(
            sim_server,
            "POST",
            f"/_sim/corps/{DEMO_CORP_ID}/users",
            name="新同事",
            mobile="13900005678",
            dept_ids=[1],
            userid="newbie01",
        )
        await _until(lambda: mine.events)
        await asyncio.sleep(0.2)
    assert mine.events[0].headers.event_type == "user_add_org"
    assert theirs.events == []


async def test_the_gateway_refuses_a_wrong_secret(sim_server: SimServer) -> None:
    answer = await control(
        sim_server,
        "POST",
        "/v1.0/gateway/connections/open",
        clientId=FULL_APP.app_key,
        clientSecret="wrong",
        subscriptions=[{"type": "EVENT", "topic": "*"}],
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalidClientIdOrSecret"


@pytest.mark.parametrize(
    ("path", "body", "problem"),
    [
        ("/users/nobody/leave", {}, "no user"),
        ("/users/user001/mobile", {"mobile": "abc"}, "not a mobile"),
        ("/users/user001/departments", {"dept_ids": [999]}, "unknown departments"),
        ("/users", {"name": "x"}, "missing"),
    ],
)
async def test_bad_directory_changes_are_refused_and_change_nothing(
    sim_server: SimServer, path: str, body: dict[str, Any], problem: str
) -> None:
    before = {
        u.userid: (u.mobile, list(u.dept_ids))
        for u in sim_server.state.corps[DEMO_CORP_ID].users.values()
    }
    answer = await control(sim_server, "POST", f"/_sim/corps/{DEMO_CORP_ID}{path}", **body)
    assert answer.status_code == 400
    assert problem in answer.json()["error"]
    after = {
        u.userid: (u.mobile, list(u.dept_ids))
        for u in sim_server.state.corps[DEMO_CORP_ID].users.values()
    }
    assert after == before
    assert sim_server.state.events.events == []
