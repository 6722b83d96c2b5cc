"""Chromium walks the sample app (示例应用) of ``dingbridge demo``, an OpenID Connect client of
space 10001: inside the simulated DingTalk client it opens signed in (the first time through
the SMS binding, then back in the app), in a PC browser through DingTalk's OAuth page;
``prompt=none``; a member the app does not allow; sign-out reaching the app by back-channel."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from dingbridge.demo import DemoUrls, run_demo

pytestmark = pytest.mark.browser

DINGTALK_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/31234567 "
    "Channel/201200 language/zh-Hans-CN UT4Aplus/0.0.6 WK"
)
TIMEOUT = 15_000


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoUrls]:
    """``dingbridge demo`` on free ports, in its own thread and event loop."""
    ready = threading.Event()
    found: list[DemoUrls] = []
    loop = asyncio.new_event_loop()
    task: list[asyncio.Task[None]] = []

    def started(urls: DemoUrls) -> None:
        found.append(urls)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        task.append(loop.create_task(run_demo(0, echo=lambda _m: None, started=started)))
        try:
            loop.run_until_complete(task[0])
        except asyncio.CancelledError:
            pass
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="demo", daemon=True)
    thread.start()
    assert ready.wait(30) and found, "the demo did not start"
    yield found[0]
    loop.call_soon_threadsafe(task[0].cancel)
    thread.join(15)


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(
        viewport={"width": 390, "height": 844},
        user_agent=DINGTALK_UA,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )


async def pc(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")


def _http(method: str, url: str) -> Any:
    request = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


async def http(method: str, url: str) -> Any:
    return await asyncio.to_thread(_http, method, url)


async def outbox_code(demo: DemoUrls, mobile: str) -> str | None:
    for message in await http("GET", f"{demo.server}/_dev/outbox.json"):
        if message["mobile"] == mobile:
            return str(message["text"]).split("您的验证码为 ")[1].split("，")[0]
    return None


async def dingtalk_calls(demo: DemoUrls) -> list[str]:
    log = await http("GET", f"{demo.sim}/_sim/requests")
    return [entry["path"] for entry in log["requests"]]


async def bind(page: Page, demo: DemoUrls, mobile: str) -> None:
    await page.wait_for_selector("#bind", timeout=TIMEOUT)
    await page.fill("#mobile", mobile)
    await page.click("#send-code")
    await page.wait_for_selector("#code", timeout=TIMEOUT)
    code = await outbox_code(demo, mobile)
    assert code is not None
    await page.fill("#code", code)
    await page.click("#verify-code")


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
