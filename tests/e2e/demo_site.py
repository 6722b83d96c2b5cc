"""What the browser tests of ``dingbridge demo`` share: the DingTalk user agent, phone and PC
browser contexts, the demo's SMS outbox and simulator log, and the binding step. The ``demo``
fixture (``dingbridge demo`` on free ports) is registered by the conftest files that import it."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page

from dingbridge.demo import DemoUrls, run_demo

DINGTALK_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 AliApp(DingTalk/7.6.0) com.laiwang.DingTalk/31234567 "
    "Channel/201200 language/zh-Hans-CN UT4Aplus/0.0.6 WK"
)
TIMEOUT = 15_000


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


@pytest.fixture(scope="module", name="demo")
def demo_fixture() -> Iterator[DemoUrls]:
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
