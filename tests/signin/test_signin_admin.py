"""Sign-in from the admin's side: binding policies, unbinding, ending sessions, the space's
apps, the development outbox, cookie flags, and secrets kept out of the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.signin.binding_flow import list_bindings, set_policy
from dingbridge.signin.codes import CodePolicy
from dingbridge.spaces.audit import recent
from dingbridge.spaces.members import find_by_mobile
from tests.signin.signin_world import Browser, World, admin_browser


async def test_dingtalk_mobile_policy_binds_at_once_within_three_calls(world: World) -> None:
    async with world.context.db.transaction() as session:
        await set_policy(session, 10001, "dingtalk_mobile", actor="test")
    home = await world.in_client(world.new_browser(), "user003")
    assert 'id="space-home"' in home.text and "李娜" in home.text
    calls = world.dingtalk_calls()
    assert len(calls) <= 3 and "/topapi/v2/user/get" in calls, calls
    # no matching member (user009 is not one): falls back to the SMS binding page
    page = await world.in_client(world.new_browser(), "user009")
    assert page.url.endswith("/10001/bind")


async def test_auto_provision_creates_the_member(world: World) -> None:
    async with world.context.db.transaction() as session:
        await set_policy(session, 10001, "auto_provision", actor="test")
    home = await world.in_client(world.new_browser(), "user005")
    assert 'id="space-home"' in home.text and "陈静" in home.text
    async with world.context.db.session() as session:
        actions = [e.action for e in await recent(session)]
    assert "member.add" in actions and "binding.create" in actions


async def test_a_member_binds_to_one_dingtalk_user_per_corp(world: World) -> None:
    first = world.new_browser()
    await world.in_client(first, "user001")
    await world.bind(first, "13800000001")
    world.context.signin.codes.policy = CodePolicy(resend_cooldown=0)  # a minute later
    intruder = world.new_browser()
    await world.in_client(intruder, "user006")
    refused = await world.bind(intruder, "13800000001")
    assert refused.status == 409 and 'data-reason="member_bound_elsewhere"' in refused.text


async def test_admin_unbinds_and_ends_sessions(world: World) -> None:
    phone = world.new_browser()
    await world.in_client(phone, "user001")
    await world.bind(phone, "13800000001")
    admin = await admin_browser(world)
    page = await admin.get("/admin/spaces/10001/signin")
    assert page.status == 200 and "user001" in page.text and "张伟" in page.text
    async with world.context.db.session() as session:
        (row,) = await list_bindings(session, 10001)
    done = await admin.post(
        f"/admin/spaces/10001/signin/bindings/{row.binding.id}/delete",
        {"csrf_token": page.csrf(), "confirm": "1"},
    )
    assert done.status == 303
    assert 'id="space-home"' not in (await phone.get("/10001/")).text
    again = await world.in_client(world.new_browser(), "user001")
    assert again.url.endswith("/10001/bind")  # must bind anew
    async with world.context.db.session() as session:
        assert "binding.delete" in [e.action for e in await recent(session)]


async def test_admin_ends_a_members_sessions(world: World) -> None:
    phone = world.new_browser()
    await world.in_client(phone, "user001")
    await world.bind(phone, "13800000001")
    admin = await admin_browser(world)
    page = await admin.get("/admin/spaces/10001/signin")
    async with world.context.db.session() as session:
        member = await find_by_mobile(session, 10001, "+8613800000001")
    assert member is not None
    done = await admin.post(
        f"/admin/spaces/10001/signin/members/{member.id}/revoke",
        {"csrf_token": page.csrf(), "confirm": "1"},
    )
    assert done.status == 303
    assert 'id="space-home"' not in (await phone.get("/10001/")).text
    # still bound: the next in-client visit signs in at once
    assert 'id="space-home"' in (await world.in_client(world.new_browser(), "user001")).text


async def test_admin_sets_the_policy_and_the_apps_members_see(world: World) -> None:
    admin = await admin_browser(world)
    page = await admin.get("/admin/spaces/10001/signin")
    csrf = page.csrf()
    assert (
        await admin.post("/admin/spaces/10001/signin/policy", {"csrf_token": csrf, "policy": "x"})
    ).status == 400
    saved = await admin.post(
        "/admin/spaces/10001/signin/policy", {"csrf_token": csrf, "policy": "dingtalk_mobile"}
    )
    assert saved.status == 303
    bad = await admin.post(
        "/admin/spaces/10001/apps",
        {"csrf_token": csrf, "name": "报销", "url": "javascript:alert(1)"},
    )
    assert bad.status == 400
    added = await admin.post(
        "/admin/spaces/10001/apps",
        {"csrf_token": csrf, "name": "报销系统", "url": "https://apps.example.com/expense"},
    )
    assert added.status == 303
    forged = await admin.post(
        "/admin/spaces/10001/apps", {"csrf_token": "nope", "name": "x", "url": "/x"}
    )
    assert forged.status == 403
    home = await world.in_client(world.new_browser(), "user002")  # dingtalk_mobile: at once
    assert "报销系统" in home.text and "https://apps.example.com/expense" in home.text


async def test_the_outbox_lists_codes_in_development_only(world: World, tmp_path: Path) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    page = await browser.get("/10001/bind")
    await browser.post("/10001/bind/send", {"token": page.token(), "mobile": "13800000001"})
    listed = (await browser.get("/_dev/outbox.json")).json()
    assert listed[0]["mobile"] == "13800000001" and "验证码" in listed[0]["text"]
    assert "13800000001" in (await browser.get("/_dev/outbox")).text
    production = create_app(Settings(data_dir=tmp_path / "prod"), announce=lambda _m: None)
    async with production.router.lifespan_context(production):
        visitor = Browser(production)
        assert (await visitor.get("/_dev/outbox.json")).status == 404
        assert (await visitor.get("/_dev/outbox")).status == 404


async def test_cookies_are_secure_behind_https(tmp_path: Path) -> None:
    from tests.signin.signin_world import setup_spaces

    settings = Settings(
        data_dir=tmp_path / "d", external_url="https://apps.example.com", development=True
    )
    app = create_app(settings, announce=lambda _m: None)
    async with app.router.lifespan_context(app):
        await setup_spaces(app)
        browser = Browser(app)
        started = await browser.get("/10001/signin/dingtalk")
        cookie = started.header("set-cookie") or ""
        assert cookie.startswith("dingbridge_oauth=") and "Secure" in cookie
        assert "redirect_uri=https%3A%2F%2Fapps.example.com%2F10001%2F" in (
            started.header("location") or ""
        )


async def test_no_secret_in_the_logs(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    browser = world.new_browser()
    code = world.sim.issue_authcode("ding5f2a7c31e08b4d96", "user001")
    answer = await browser.post("/10001/signin/code", json_body={"code": code, "next": "/10001/"})
    ticket = answer.json()["next"].split("ticket=")[1].split("&")[0]
    await browser.get(answer.json()["next"], follow=True)
    home = await world.bind(browser, "13800000001")
    assert 'id="space-home"' in home.text
    sms_code = world.outbox.last_code_for("13800000001")
    pc = world.new_browser()
    await world.browser_signin(pc, "user001")
    secrets = [code, ticket, sms_code, browser.cookies["dingbridge_session"]]
    secrets += [pc.cookies["dingbridge_session"], "sim-secret-full-0001"]
    for secret in secrets:
        assert secret and secret not in caplog.text
    # and none in the URLs we built, except the one-time ticket
    assert code not in answer.json()["next"]


async def test_a_sender_failure_is_a_clear_message_and_costs_nothing(
    world: World, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dingbridge.signin.services import UnconfiguredSender

    codes = world.context.signin.codes
    monkeypatch.setattr(codes, "_sender", UnconfiguredSender())
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    page = await browser.get("/10001/bind")
    failed = await browser.post(
        "/10001/bind/send", {"token": page.token(), "mobile": "13800000001"}
    )
    assert failed.status == 502 and "短信服务配置有误" in failed.text
    assert any(r.levelno == logging.ERROR for r in caplog.records)
    monkeypatch.undo()  # the admin fixed the sender: no cool-down was started, so it works now
    home = await world.bind(browser, "13800000001")
    assert 'id="space-home"' in home.text
