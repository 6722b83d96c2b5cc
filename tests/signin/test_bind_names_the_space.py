"""Binding by SMS names the app space, in the message and on the page, so a code for 10001
typed into 10002 reads as another space's; a dead code's field is disabled and a new code
offered; a disabled member is told whom to ask."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from dingbridge.signin.sms import format_code_text
from dingbridge.storage.models import Member
from tests.signin.signin_world import Browser, World, admin_browser, world

__all__ = ["world"]

MOBILE = "13800000001"


def test_the_message_names_the_space() -> None:
    assert format_code_text("示例科技", "482916", 5, "销售部（10001）") == (
        "【示例科技】您的验证码为 482916，用于登录应用空间“销售部（10001）”，5 分钟内有效。"
        "如非本人操作，请忽略。"
    )


async def _code_step(world: World, space_id: int) -> tuple[Browser, str, str]:
    """A new user001 on the bind page of ``space_id`` with a code sent: the browser, the form
    token and the page."""
    browser = world.new_browser()
    page = await world.in_client(browser, "user001", space_id)
    assert page.url.endswith(f"/{space_id}/bind")
    sent = await browser.post(f"/{space_id}/bind/send", {"token": page.token(), "mobile": MOBILE})
    assert sent.status == 200, sent.text
    return browser, sent.token(), sent.text


async def test_a_code_for_one_space_typed_into_another_reads_as_the_other_s(
    world: World,
) -> None:
    await _code_step(world, 10001)
    sms_1 = world.outbox.messages[-1].text
    assert "“示例空间（10001）”" in sms_1
    browser, token, page = await _code_step(world, 10002)
    sms_2 = world.outbox.messages[-1].text
    assert "“旧版空间（10002）”" in sms_2 and "10001" not in sms_2
    assert "应用空间：旧版空间 (10002)" in page
    assert "如果该号码属于旧版空间（10002）的成员" in page
    code_for_10001 = sms_1.split("验证码为 ")[1].split("，")[0]
    wrong = await browser.post("/10002/bind/verify", {"token": token, "code": code_for_10001})
    assert wrong.status == 400
    assert "请确认短信里写的是“旧版空间（10002）”" in wrong.text
    assert "其他应用空间的验证码在这里无效" in wrong.text


async def _kill_the_code(browser: Browser, token: str) -> str:
    for _ in range(5):
        answer = await browser.post("/10001/bind/verify", {"token": token, "code": "000000"})
    assert answer.status == 400
    return answer.text


async def test_a_dead_code_disables_the_field_and_offers_a_new_code(world: World) -> None:
    browser, token, _ = await _code_step(world, 10001)
    first = world.outbox.last_code_for(MOBILE)
    dead = await _kill_the_code(browser, token)
    assert "错误次数过多" in dead
    assert 'autocomplete="one-time-code" maxlength="10" disabled>' in dead
    assert 'id="verify-code" disabled' in dead
    assert 'id="resend-code"' in dead and "发送新的验证码到 138****0001" in dead
    codes = world.context.signin.codes
    codes.policy = replace(codes.policy, resend_cooldown=0)  # a minute later
    again = await browser.post("/10001/bind/send", {"token": token, "resend": "1"})
    assert again.status == 200 and 'id="resend-code"' not in again.text
    assert 'id="verify-code" disabled' not in again.text
    second = world.outbox.last_code_for(MOBILE)
    assert second is not None and second != first
    home = await browser.post("/10001/bind/verify", {"token": token, "code": second}, follow=True)
    assert 'id="space-home"' in home.text


async def test_asking_again_too_soon_keeps_the_dead_code_dead(world: World) -> None:
    browser, token, _ = await _code_step(world, 10001)
    await _kill_the_code(browser, token)
    soon = await browser.post("/10001/bind/send", {"token": token, "resend": "1"})
    assert "秒" in soon.text and 'id="resend-code"' in soon.text
    assert 'id="verify-code" disabled' in soon.text


async def test_a_disabled_member_is_told_who_disabled_them_and_whom_to_ask(
    world: World,
) -> None:
    browser = world.new_browser()
    await world.in_client(browser, "user001")
    await world.bind(browser, MOBILE)
    admin = await admin_browser(world)
    async with world.context.db.session() as session:
        member = await session.scalar(
            select(Member).where(Member.space_id == 10001, Member.name == "张伟")
        )
    assert member is not None
    page = await admin.get(f"/admin/spaces/10001/members/{member.id}")
    disabled = await admin.post(
        f"/admin/spaces/10001/members/{member.id}/status",
        {"csrf_token": page.csrf(), "status": "disabled"},
    )
    assert disabled.status == 303
    refused = await world.in_client(world.new_browser(), "user001")
    assert refused.status == 403
    message = refused.json()["message"]
    assert "您在应用空间“示例空间（10001）”的账号已于" in message
    assert "被管理员 admin 停用。请联系 admin 重新启用。" in message
