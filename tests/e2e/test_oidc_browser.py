"""Chromium walks the sample app (示例应用) of ``dingbridge demo``, an OpenID Connect client of
space 10001: inside the simulated DingTalk client it opens signed in (the first time through
the SMS binding, then back in the app), in a PC browser through DingTalk's OAuth page;
``prompt=none``; a member the app does not allow; sign-out reaching the app by back-channel."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, Route

from dingbridge.demo import DemoUrls
from dingbridge.sim.defaults import DEMO_CORP_ID
from tests.e2e.demo_site import (
    TIMEOUT,
    bind,
    http,
    pc,
    phone,
)

pytestmark = pytest.mark.browser


def served_pages(page: Page, demo: DemoUrls) -> list[str]:
    """The dingbridge pages (HTML documents) the page is shown, as paths."""
    seen: list[str] = []

    def on_response(response: Any) -> None:
        document = response.request.resource_type == "document"
        if response.url.startswith(demo.server) and document and response.status == 200:
            seen.append(urlsplit(response.url).path)

    page.on("response", on_response)
    return seen


async def test_in_dingtalk_first_time_binds_then_opens_signed_in(
    demo: DemoUrls, browser: Browser
) -> None:
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user001", demo.sample + "/"))
    await bind(page, demo, "13800000001")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    assert page.url == demo.sample + "/"
    assert "张伟" in await page.inner_text("#greeting")
    assert "user001" in await page.inner_text('[data-claim="dingtalk"]')
    await context.close()
    # Next time, in a new client session: the app opens signed in; the only dingbridge page
    # is the entry page whose script gets the JSAPI code by itself (no click, no form).
    again = await phone(browser)
    page = await again.new_page()
    pages = served_pages(page, demo)
    await page.goto(demo.open_in_dingtalk("user001", demo.sample + "/"))
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    assert pages == ["/10001/"], pages
    await again.close()


async def test_pc_browser_through_the_oauth_page_to_the_app(
    demo: DemoUrls, browser: Browser
) -> None:
    context = await pc(browser)
    page = await context.new_page()
    await page.goto(demo.sample + "/")
    await page.get_by_role("button", name="李娜", exact=True).click(timeout=TIMEOUT)
    await bind(page, demo, "13800000003")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    assert "李娜" in await page.inner_text("#greeting")
    await context.close()


async def test_prompt_none_is_silent_both_ways(demo: DemoUrls, browser: Browser) -> None:
    context = await phone(browser)
    page = await context.new_page()
    pages = served_pages(page, demo)
    await page.goto(demo.open_in_dingtalk("user004", demo.sample + "/?prompt=none"))
    await page.wait_for_selector("#error", timeout=TIMEOUT)  # the app's own error page
    assert "login_required" in await page.inner_text("#error")
    assert pages == []  # not signed in: straight back to the app, no dingbridge page
    await page.goto(demo.open_in_dingtalk("user004", demo.sample + "/"))
    await bind(page, demo, "13800000004")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    pages.clear()
    await page.goto(demo.sample + "/?prompt=none")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    assert "刘洋" in await page.inner_text("#greeting")
    assert pages == []  # signed in: a new code, no page
    await context.close()


async def test_signing_out_of_the_space_signs_out_of_the_app(
    demo: DemoUrls, browser: Browser
) -> None:
    context = await pc(browser)
    page = await context.new_page()
    await page.goto(demo.sample + "/")
    await page.get_by_role("button", name="王秀英", exact=True).click(timeout=TIMEOUT)
    await bind(page, demo, "13800000002")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    await page.goto(demo.space)
    assert "示例应用" in await page.inner_text("#apps")  # listed on the space home
    await page.click("#logout")
    await page.wait_for_selector("#signed-out", timeout=TIMEOUT)
    await page.goto(demo.sample + "/")  # the app was told: it sends the browser to sign in
    await page.wait_for_url(demo.sim + "/**", timeout=TIMEOUT)
    await context.close()


async def test_a_member_outside_the_app_s_departments_is_refused_with_a_clear_page(
    demo: DemoUrls, browser: Browser
) -> None:
    """An app open to 市场部 only (its departments from the console's directory import): 陈静 of
    后端组, opening it inside DingTalk, gets dingbridge's page naming the app and whom to ask;
    周杰 of 市场部 gets into the app's authorization (a code for its redirect URI)."""
    admin = await pc(browser)
    console = await admin.new_page()
    await console.goto(f"{demo.server}/admin/login")
    await console.fill("#f-username", "admin")
    await console.fill("#f-password", demo.admin_password)
    await console.click("main button[type=submit]")
    await console.wait_for_url("**/admin/spaces", timeout=TIMEOUT)
    await console.goto(f"{demo.server}/admin/spaces/10001/members")
    await console.click("#start-directory-import")
    await console.wait_for_selector(
        '#directory-import[data-status="done"]', state="attached", timeout=TIMEOUT
    )
    token = await console.get_attribute('meta[name="csrf-token"]', "content")
    assert token
    api = console.request
    departments = await (await api.get(f"{demo.server}/api/v1/spaces/10001/departments")).json()
    marketing = next(d["id"] for d in departments if d["name"] == "市场部")
    created = await api.post(
        f"{demo.server}/api/v1/spaces/10001/apps",
        headers={"X-CSRF-Token": token},
        data={
            "name": "市场看板",
            "url": "http://127.0.0.1:9/board/",
            "access": "departments",
            "departments": [marketing],
            "redirect_uris": ["http://127.0.0.1:9/board/callback"],
        },
    )
    assert created.status == 201, await created.text()
    client_id = (await created.json())["client_id"]
    await admin.close()
    authorize = (
        f"{demo.server}/10001/oidc/authorize?response_type=code&client_id={client_id}"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fboard%2Fcallback&scope=openid&state=s"
    )

    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user005", authorize))
    await bind(page, demo, "13800000005")
    await page.wait_for_selector("#app-refused", timeout=TIMEOUT)
    text = await page.inner_text("main")
    assert "无权使用此应用" in text and "市场看板" in text and "陈静" in text
    assert "管理员" in text  # whom to ask
    await context.close()

    allowed = await phone(browser)
    page = await allowed.new_page()
    arrived: list[str] = []

    async def at_the_app(route: Route) -> None:
        arrived.append(route.request.url)
        await route.abort()

    await page.route("http://127.0.0.1:9/**", at_the_app)
    await page.goto(demo.open_in_dingtalk("user009", authorize))
    await bind(page, demo, "13800000009")
    for _ in range(100):
        if arrived:
            break
        await asyncio.sleep(0.1)
    assert arrived and "code=" in arrived[0], arrived
    await allowed.close()


async def test_a_member_who_leaves_dingtalk_is_signed_out_of_the_space_and_the_app(
    demo: DemoUrls, browser: Browser
) -> None:
    """Space 10001 of the demo follows DingTalk's events (Stream mode): 杨磊, signed in to the
    space and the sample app inside DingTalk, leaves the company in the simulator; his next page
    view is the signed-out entry page, and the sample app has lost his session too (back-channel
    logout, before any request of his reached dingbridge)."""
    context = await phone(browser)
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user006", demo.sample + "/"))
    await bind(page, demo, "13800000006")
    await page.wait_for_selector("#claims", timeout=TIMEOUT)
    await page.goto(demo.space)
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)

    await http("POST", f"{demo.sim}/_sim/corps/{DEMO_CORP_ID}/users/user006/leave")
    # The sample app keeps its own session and asks dingbridge nothing while it lasts: it
    # stops showing the claims only once told by back-channel (the event travels: simulator →
    # Stream → the server → the app).
    for _ in range(150):
        await page.goto(demo.sample + "/")
        await page.wait_for_load_state("load")
        if not page.url.startswith(demo.sample) or await page.query_selector("#claims") is None:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the sample app kept the session of a member who left")
    # sent to the space's sign-in, which cannot pass any more (DingTalk no longer lists him)
    await page.wait_for_selector("#signin", timeout=TIMEOUT)
    await page.wait_for_selector("#problem:not([hidden])", timeout=TIMEOUT)
    assert "钉钉成员" in await page.inner_text("#problem")
    await page.goto(demo.space)  # the space: the signed-out entry page, not the home
    await page.wait_for_selector("#signin", timeout=TIMEOUT)
    assert await page.query_selector("#space-home") is None
    await context.close()
