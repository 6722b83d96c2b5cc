"""A DingTalk user whose account is bound to a member is told so by a work notification, when
the space turns it on; a notification DingTalk refuses never fails the binding."""

from __future__ import annotations

import logging

import pytest

from dingbridge.sim.defaults import FULL_APP
from dingbridge.sim.faults import parse_fault
from dingbridge.spaces.event_settings import save_event_settings
from tests.signin.signin_world import World, world

__all__ = ["world"]

HOME = 'id="space-home"'
SEND = "/topapi/message/corpconversation/asyncsend_v2"


async def bind(world: World, userid: str, mobile: str) -> str:
    phone = world.new_browser()
    await world.in_client(phone, userid)
    page = await world.bind(phone, mobile)
    return page.text


async def notify_bindings(world: World, space_id: int = 10001) -> None:
    context = world.context
    async with context.db.transaction() as session:
        await save_event_settings(
            session, context.secret_box, space_id, notify_binding=True, actor="test"
        )


def texts_to(world: World, userid: str) -> list[str]:
    return [
        str(m.msg.get("text", {}).get("content", ""))
        for m in world.sim.messages
        if userid in m.userids and m.app_key == FULL_APP.app_key
    ]


async def test_no_notification_unless_the_space_turns_it_on(world: World) -> None:
    assert HOME in await bind(world, "user001", "13800000001")
    assert world.sim.messages == []


async def test_the_user_is_told_of_a_new_binding(world: World) -> None:
    await notify_bindings(world)
    assert HOME in await bind(world, "user002", "13800000002")
    [text] = texts_to(world, "user002")
    assert "你的钉钉账号已绑定到 示例空间" in text
    assert "不是你本人操作请联系管理员" in text
    # Signing in again (already bound) tells nobody again.
    assert HOME in (await world.in_client(world.new_browser(), "user002")).text
    assert len(texts_to(world, "user002")) == 1


async def test_a_refused_notification_does_not_fail_the_binding(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await notify_bindings(world)
    world.sim.faults.add(parse_fault({"path": SEND, "kind": "error", "errcode": 88}))
    with caplog.at_level(logging.WARNING, logger="dingbridge.signin.work_notices"):
        assert HOME in await bind(world, "user003", "13800000003")
    assert texts_to(world, "user003") == []
    assert "binding work notification to 1 user(s) not sent" in caplog.text
    metrics = world.context.metrics.render().decode()
    assert 'dingbridge_work_notices_total{kind="binding",result="failed"} 1.0' in metrics
