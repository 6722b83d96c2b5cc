"""Chromium walks the sign-in flows of ``dingbridge demo`` (server, simulator and forwarder on
real sockets): inside "DingTalk" on a phone (the simulator's /_sim/open, a DingTalk user agent)
and in a PC browser through the OAuth page, for a V2 and a V1 space."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from dingbridge.demo import DemoUrls
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.demo_site import (
    DINGTALK_UA,
    TIMEOUT,
    bind,
    dingtalk_calls,
    http,
    outbox_code,
    pc,
    phone,
)

pytestmark = pytest.mark.browser


async def test_in_dingtalk_first_visit_binds_and_returning_is_one_call(
    demo: DemoUrls, browser: Browser
) -> None:
    await http("DELETE", f"{demo.sim}/_sim/requests")
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user002"))
    await bind(page, demo, "13800000002")
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)
    first_binding = await dingtalk_calls(demo)
    assert 1 <= len(first_binding) <= 3, first_binding
    assert "王秀英" in await page.inner_text("#who")
    assert "user002" in await page.inner_text("#who")

    # a second visit: the home at once, no page in between
    seen: list[str] = []
    page.on("framenavigated", lambda frame: seen.append(frame.url))
    await page.goto(demo.space)
    assert await page.is_visible("#space-home")
    assert seen == [demo.space]

    # a new phone (no cookie): the JSAPI signs in with exactly one DingTalk call
    await http("DELETE", f"{demo.sim}/_sim/requests")
    other = await phone(browser)
    fresh = await other.new_page()
    await fresh.goto(demo.open_in_dingtalk("user002"))
    await fresh.wait_for_selector("#space-home", timeout=TIMEOUT)
    assert await dingtalk_calls(demo) == ["/topapi/v2/user/getuserinfo"]

    # logout → signed out (and not signed straight back in by the JSAPI)
    await fresh.click("#logout")
    await fresh.wait_for_selector("#signed-out", timeout=TIMEOUT)
    await fresh.wait_for_selector("#signin-again", timeout=TIMEOUT)
    assert not any(c["name"] == "dingbridge_session" for c in await other.cookies())
    await fresh.click("#signin-again")
    await fresh.wait_for_selector("#space-home", timeout=TIMEOUT)
    await context.close()
    await other.close()


async def test_pc_browser_through_the_oauth_page(demo: DemoUrls, browser: Browser) -> None:
    context = await pc(browser)
    page = await context.new_page()
    await page.goto(demo.space)
    await page.click("#dingtalk-login")
    await page.get_by_role("button", name="刘洋", exact=True).click()
    await bind(page, demo, "13800000004")
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)
    assert "刘洋" in await page.inner_text("#who")
    # a session cookie of 10001 is not valid in 10002
    cookie = next(c for c in await context.cookies() if c["name"] == "dingbridge_session")
    assert cookie["path"] == "/10001/" and cookie["httpOnly"]
    await context.add_cookies(
        [
            {
                "name": cookie["name"],
                "value": cookie["value"],
                "domain": cookie["domain"],
                "path": "/10002/",
            }
        ]
    )
    await page.goto(demo.v1_space)
    assert not await page.is_visible("#space-home")
    assert await page.is_visible("#dingtalk-login")
    await context.close()


async def test_v1_space_in_dingtalk_and_in_a_pc_browser(demo: DemoUrls, browser: Browser) -> None:
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user003", demo.v1_space))
    await bind(page, demo, "13800000003")
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)
    assert "李娜" in await page.inner_text("#who")
    desktop = await pc(browser)
    pc_page = await desktop.new_page()
    await pc_page.goto(demo.v1_space)
    await pc_page.click("#dingtalk-login")
    assert "/connect/qrconnect" in pc_page.url
    await pc_page.get_by_role("button", name="李娜", exact=True).click()
    await pc_page.wait_for_selector("#space-home", timeout=TIMEOUT)
    assert "李娜" in await pc_page.inner_text("#who")
    await context.close()
    await desktop.close()


@pytest.mark.parametrize(("width", "user"), [(390, "user005"), (1280, "user015")])
async def test_a_dead_code_is_disabled_and_a_new_code_offered(
    demo: DemoUrls, browser: Browser, width: int, user: str
) -> None:
    """The bind page names the space; five wrong tries kill the code: its field and button
    are disabled and 发送新的验证码 is offered (asked within the minute's cool-down, it says how
    long to wait and the code stays dead; tests/signin/test_bind_names_the_space.py signs in
    with the new code)."""
    mobile = f"138000000{user[-2:]}"
    context = await browser.new_context(
        viewport={"width": width, "height": 844}, user_agent=DINGTALK_UA, locale="zh-CN"
    )
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk(user))
    await page.wait_for_selector("#bind", timeout=TIMEOUT)
    assert "示例科技 · 应用空间 (10001)" in await page.inner_text("#bind-space")
    await page.fill("#mobile", mobile)
    await page.click("#send-code")
    await page.wait_for_selector("#code", timeout=TIMEOUT)
    assert "示例科技 · 应用空间（10001）的成员" in await page.inner_text("#notice")
    real = await outbox_code(demo, mobile)
    assert real is not None
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(5):
        await page.fill("#code", wrong)
        await page.click("#verify-code")
        await page.wait_for_selector("#error", timeout=TIMEOUT)
    assert "已失效" in await page.inner_text("#error")
    assert await page.is_disabled("#code") and await page.is_disabled("#verify-code")
    resend = page.locator("#resend-code")
    box = await resend.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width
    await page.screenshot(path=ARTIFACTS / f"bind-dead-code-{width}.png", full_page=True)
    await resend.click()
    await page.wait_for_selector("#notice", timeout=TIMEOUT)
    assert "秒" in await page.inner_text("#notice")
    assert await page.is_disabled("#code") and await page.is_visible("#resend-code")
    assert await outbox_code(demo, mobile) == real  # nothing sent within the cool-down
    await context.close()


async def test_an_unknown_mobile_is_refused(demo: DemoUrls, browser: Browser) -> None:
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user006"))
    await page.wait_for_selector("#bind", timeout=TIMEOUT)
    await page.fill("#mobile", "13912345678")
    await page.click("#send-code")
    await page.wait_for_selector("#notice", timeout=TIMEOUT)
    assert await outbox_code(demo, "13912345678") is None
    await page.fill("#code", "123456")
    await page.click("#verify-code")
    await page.wait_for_selector("#error", timeout=TIMEOUT)
    assert not await page.is_visible("#space-home")
    await context.close()


async def test_a_user_of_the_other_corp_is_refused(demo: DemoUrls, browser: Browser) -> None:
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("other001"))
    await page.wait_for_selector("#problem", state="visible", timeout=TIMEOUT)
    assert "不是该企业" in await page.inner_text("#problem")
    assert not await page.is_visible("#space-home")
    await context.close()


async def test_a_disabled_member_is_refused(demo: DemoUrls, browser: Browser) -> None:
    from dingbridge.spaces.members import find_by_mobile, set_member_status
    from dingbridge.storage.db import Database

    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user007"))
    await bind(page, demo, "13800000007")
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)
    db = Database(f"sqlite:///{(demo.data_dir / 'dingbridge.db').as_posix()}")
    try:
        async with db.transaction() as session:
            member = await find_by_mobile(session, 10001, "+8613800000007")
            assert member is not None
            await set_member_status(session, 10001, member.id, "disabled", actor="test")
    finally:
        await db.dispose()
    await page.goto(demo.open_in_dingtalk("user007"))
    await page.wait_for_selector("#problem", state="visible", timeout=TIMEOUT)
    problem = await page.inner_text("#problem")
    assert "您在应用空间“示例科技 · 应用空间（10001）”的账号已停用" in problem
    assert "请联系该应用空间的管理员重新启用" in problem  # "test" is no admin to name
    await context.close()


async def test_a_tampered_state_is_refused(demo: DemoUrls, browser: Browser) -> None:
    context = await pc(browser)
    page = await context.new_page()
    await page.goto(demo.space)
    await page.click("#dingtalk-login")
    await page.wait_for_url("**/oauth2/auth?**", timeout=TIMEOUT)
    state = page.url.split("state=")[1].split("&")[0]
    await page.goto(page.url.replace(f"state={state}", f"state={state}x"))
    await page.get_by_role("button", name="张伟", exact=True).click()
    await page.wait_for_selector("#refused", timeout=TIMEOUT)
    assert await page.get_attribute("#refused", "data-reason") == "state_invalid"
    assert not any(c["name"] == "dingbridge_session" for c in await context.cookies())
    await context.close()


@pytest.mark.parametrize(
    ("client", "api"),
    [("current", "requestAuthCode"), ("legacy", "runtime.permission.requestAuthCode")],
)
async def test_in_client_sign_in_uses_the_current_jsapi_and_falls_back_on_old_clients(
    demo: DemoUrls, browser: Browser, client: str, api: str
) -> None:
    """Current clients get dd.requestAuthCode({corpId, clientId}); an old client, whose JSAPI
    lacks it, signs in through the legacy dd.runtime.permission.requestAuthCode."""
    await http("DELETE", f"{demo.sim}/_sim/jsapi/calls")
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user001") + f"&client={client}")
    await page.wait_for_selector("#bind, #space-home", timeout=TIMEOUT)
    calls = (await http("GET", f"{demo.sim}/_sim/jsapi/calls"))["calls"]
    assert [call["api"] for call in calls] == [api]
    assert calls[0]["userid"] == "user001" and calls[0]["corp_id"].startswith("ding")
    if client == "current":  # the space's AppKey (Client ID)
        assert calls[0]["client_id"] and calls[0]["client_id"] != calls[0]["corp_id"]
    await context.close()
