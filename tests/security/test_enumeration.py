"""Enumeration of members by mobile: the binding pages answer a number of no member exactly as
they answer a member's, step by step: the neutral "a code was sent", the cool-down, wrong tries
and the dead code after five, a new code after the cool-down, expiry after five minutes, and
the daily cap per number. Before, a non-member's number got a decoy that never expired, never
reached the daily cap and kept its wrong tries across new codes: three ways to tell.

Timings: ``bench/security/enumeration_timing.py`` prints both distributions (no timed
assertion here). The console SMS sender answers at once; a real provider's network time is
spent only for members (see SECURITY.md)."""

from __future__ import annotations

import re

import pytest

from dingbridge.kv.memory import MemoryKV
from dingbridge.signin.codes import CodeService
from tests.kv.backends import FakeClock
from tests.signin.signin_world import Browser, Page, World

MEMBER = "13800000002"  # 王秀英, a member of both spaces
STRANGER = "13900000009"  # no member's


def _answer(page: Page, mobile: str) -> tuple[int, str]:
    """What the person sees: the status and the page's message, the number masked away."""
    found = re.search(r'<p class="(?:notice|error)" id="(?:notice|error)">([^<]*)</p>', page.text)
    step = "code" if 'id="verify-code"' in page.text else "mobile"
    text = (found.group(1) if found else "") + f" [{step}]"
    return page.status, text.replace(mobile[-4:], "####")


async def _steps(world: World, userid: str, mobile: str) -> list[tuple[int, str]]:
    """One scripted attempt on the binding pages with a fresh code store and clock."""
    clock = FakeClock()
    signin = world.context.signin
    signin.codes = CodeService(MemoryKV(clock=clock), signin.sender, b"k" * 32, clock=clock)
    browser: Browser = world.new_browser()
    page = await world.in_client(browser, userid)
    assert 'id="bind"' in page.text
    seen: list[tuple[int, str]] = []

    async def post(action: str, **fields: str) -> Page:
        nonlocal page
        form = {"token": page.token(), **fields}
        page = await browser.post(f"/10001/bind/{action}", form, follow=True)
        seen.append(_answer(page, mobile))
        return page

    await post("send", mobile=mobile)  # "if this number belongs to a member, a code was sent"
    await post("change")
    await post("send", mobile=mobile)  # again at once: the cool-down
    await post("change")
    clock.advance(61)
    await post("send", mobile=mobile)  # a new code after the cool-down
    for _ in range(6):
        await post("verify", code="000000")  # wrong x4, then dead, then still dead
    await post("change")
    clock.advance(61)
    await post("send", mobile=mobile)  # a new code: five tries again
    await post("verify", code="000000")
    clock.advance(301)
    await post("verify", code="000000")  # expired
    for _ in range(9):  # the daily cap per number (10 codes) is reached...
        await post("change")
        clock.advance(61)
        await post("send", mobile=mobile)
    return seen


async def test_a_stranger_s_number_gets_a_member_s_answers(world: World) -> None:
    member = await _steps(world, "user001", MEMBER)
    stranger = await _steps(world, "user003", STRANGER)
    assert len(member) == 33
    for step, (mine, theirs) in enumerate(zip(member, stranger, strict=True)):
        assert mine == theirs, f"step {step}: {mine} != {theirs}"
    statuses = [status for status, _ in member]
    assert 429 in statuses and 400 in statuses  # the cool-down, the cap and wrong codes ran
    assert member[-1] == (429, "今天获取验证码的次数过多，请明天再试。 [mobile]"), member[-1]
    assert member[-19] == (400, "验证码已过期。请发送新的验证码后重试。 [code]"), member[-19]
    assert world.outbox.last_code_for(STRANGER) is None  # nothing sent to the stranger


@pytest.mark.parametrize("mobile", [MEMBER, STRANGER, "13800000009", "+8613800000002"])
async def test_the_first_answer_is_the_same_for_any_number(world: World, mobile: str) -> None:
    steps = await _first_send(world, mobile)
    sent = "如果该号码属于示例空间（10001）的成员，验证码已发送到该号码。" + (
        "短信中会写明这个应用空间。 [code]"
    )
    assert steps == (200, sent), steps


async def _first_send(world: World, mobile: str) -> tuple[int, str]:
    browser = world.new_browser()
    page = await world.in_client(browser, "user001")
    sent = await browser.post("/10001/bind/send", {"token": page.token(), "mobile": mobile})
    return _answer(sent, mobile)
