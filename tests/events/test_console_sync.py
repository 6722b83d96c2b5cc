"""The console's directory sync page: the event mode, guard and notifications saved (bad input
refused, nothing lost), HTTP push keys shown once with the callback URL, and "立即同步" with its
preview running in the background, the guard's stop shown plainly."""

from __future__ import annotations

import re

from sqlalchemy import select

from dingbridge.accounts.admins import create_admin
from dingbridge.sim import directory_changes as changes
from dingbridge.sim.defaults import DEMO_CORP_ID
from dingbridge.spaces.event_settings import callback_secrets, load_event_settings
from dingbridge.storage.models import Member
from tests.asgi_client import AsgiClient, Result
from tests.events.conftest import SPACE, EventsWorld, events_world, until

__all__ = ["events_world"]

PAGE = f"/admin/spaces/{SPACE}/events"


async def admin(world: EventsWorld) -> AsgiClient:
    async with world.context.db.transaction() as session:
        await create_admin(session, "admin", "correct horse battery", actor="test")
    browser = AsgiClient(world.apps[0])
    page = await browser.get("/admin/login")
    await browser.post(
        "/admin/login",
        {"csrf_token": page.csrf(), "username": "admin", "password": "correct horse battery"},
    )
    return browser


async def post(browser: AsgiClient, url: str, **form: str) -> Result:
    page = await browser.get(PAGE)
    return await browser.post(url, {"csrf_token": page.csrf(), **form})


async def finished(browser: AsgiClient) -> Result:
    async def done() -> bool:
        state = (await browser.get(f"{PAGE}/sync.json")).json()
        return bool(state["status"] != "running")

    await until(done, seconds=20)
    return await browser.get(PAGE)


async def status_of(world: EventsWorld, userid: str) -> str:
    async with world.context.db.session() as session:
        member = await session.scalar(
            select(Member).where(Member.space_id == SPACE, Member.dingtalk_userid == userid)
        )
    assert member is not None
    return member.status


async def test_settings_are_saved_and_bad_input_is_refused_keeping_it(
    events_world: EventsWorld,
) -> None:
    world = events_world
    browser = await admin(world)
    page = await browser.get(PAGE)
    assert page.status == 200 and "通讯录同步" in page.text and "立即同步" in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline scripts
    saved = await post(
        browser,
        PAGE,
        mode="http",
        guard="20",
        notify_admins="1",
        admin_userids="user001，user002\nuser003",
    )
    assert saved.status == 303
    async with world.context.db.session() as session:
        settings = await load_event_settings(session, SPACE)
    assert settings.mode == "http" and settings.guard_percent == 20
    assert settings.notify_admins and not settings.notify_binding
    assert settings.admin_userids == ("user001", "user002", "user003")

    refused = await post(browser, PAGE, mode="stream", guard="abc", admin_userids="no way!")
    assert refused.status == 400
    assert "保护上限必须是 1 到 100 之间的百分比" in refused.text
    assert "不是有效的钉钉 userid" in refused.text
    assert "no way!" in refused.text  # what was typed is still there
    async with world.context.db.session() as session:
        assert await load_event_settings(session, SPACE) == settings


async def test_callback_keys_are_shown_once_with_the_callback_url(
    events_world: EventsWorld,
) -> None:
    world = events_world
    browser = await admin(world)
    await post(browser, PAGE, mode="http", guard="10")
    shown = await post(browser, f"{PAGE}/keys")
    assert shown.status == 200 and "只显示这一次" in shown.text
    async with world.context.db.session() as session:
        secrets = await callback_secrets(session, world.context.secret_box, SPACE)
    assert secrets is not None
    token, aes_key = secrets
    assert token in shown.text and aes_key in shown.text
    assert f"/{SPACE}/dingtalk/events" in shown.text
    assert shown.header("cache-control") == "no-store"
    later = await browser.get(PAGE)
    assert aes_key not in later.text and "已设置密钥" in later.text


async def test_preview_changes_nothing_then_sync_disables_the_leaver(
    events_world: EventsWorld,
) -> None:
    world = events_world
    browser = await admin(world)
    changes.user_leaves(world.sim.state, DEMO_CORP_ID, "user012")
    started = await post(browser, f"{PAGE}/sync", dry_run="1")
    assert started.status == 303
    preview = await finished(browser)
    assert "预览（未做任何更改）" in preview.text and "user012" in preview.text
    assert await status_of(world, "user012") == "active"

    await post(browser, f"{PAGE}/sync")
    result = await finished(browser)
    assert "已停用 1 人" in result.text
    assert await status_of(world, "user012") == "disabled"


async def test_the_guard_stop_is_shown_and_nothing_changes(events_world: EventsWorld) -> None:
    world = events_world
    browser = await admin(world)
    corp = world.sim.state.corps[DEMO_CORP_ID]
    leavers = list(corp.users)[: round(len(corp.users) * 0.3)]
    for userid in leavers:
        changes.user_leaves(world.sim.state, DEMO_CORP_ID, userid)
    await post(browser, f"{PAGE}/sync")
    page = await finished(browser)
    assert "同步已被保护上限停止：未做任何更改" in page.text
    assert [await status_of(world, u) for u in leavers] == ["active"] * len(leavers)
