"""Inside the DingTalk WebView a sign-in never loops: DingTalk unreachable gets one more try
with a fresh code, then a message and a "sign in again" button; a WebView that drops our
cookies (every sign-in comes back signed out) is stopped after three automatic starts.
Chromium against ``dingbridge demo`` (real sockets), faults through the simulator's control
API."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.async_api import Browser, Request, Route

from dingbridge.demo import DemoUrls
from tests.e2e.demo_site import TIMEOUT, bind, http, phone
from tests.e2e.demo_site import demo_fixture as demo_fixture

pytestmark = pytest.mark.browser
GETUSERINFO = "/topapi/v2/user/getuserinfo"


def _post_json(url: str, body: Any) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


async def _calls(demo: DemoUrls, path: str) -> int:
    log = await http("GET", f"{demo.sim}/_sim/requests")
    return sum(1 for entry in log["requests"] if entry["path"] == path)


async def test_dingtalk_unreachable_one_retry_then_a_message(
    demo: DemoUrls, browser: Browser
) -> None:
    await http("DELETE", f"{demo.sim}/_sim/requests")
    fault = {"path": GETUSERINFO, "kind": "error", "errcode": -1, "errmsg": "系统繁忙"}
    await asyncio.to_thread(_post_json, f"{demo.sim}/_sim/faults", fault)
    context = await phone(browser)
    page = await context.new_page()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.url.endswith("/signin/code") else None)
    try:
        await page.goto(demo.open_in_dingtalk("user004"))
        await page.wait_for_selector("#problem:not([hidden])", timeout=TIMEOUT)
        assert "钉钉" in await page.inner_text("#problem")
        assert await page.is_visible("#signin-again")
        assert len(posts) == 2 and await _calls(demo, GETUSERINFO) == 2  # one retry, no loop
    finally:
        await http("DELETE", f"{demo.sim}/_sim/faults")
    await page.click("#signin-again")  # DingTalk is back: the person tries again, it works
    await page.wait_for_selector("#bind, #space-home", timeout=TIMEOUT)
    await context.close()


async def test_a_webview_that_drops_cookies_stops_after_three_starts(
    demo: DemoUrls, browser: Browser
) -> None:
    context = await phone(browser)  # first a normal visit: user005 binds
    page = await context.new_page()
    await page.goto(demo.open_in_dingtalk("user005"))
    await bind(page, demo, "13800000005")
    await page.wait_for_selector("#space-home", timeout=TIMEOUT)
    await context.close()

    context = await phone(browser)
    page = await context.new_page()

    async def drop_cookies(route: Route) -> None:
        # route.fetch shares the context's cookie jar: forget what the server set (our
        # cookies, not the simulator's "in DingTalk" one) before the page sees the answer.
        answer = await route.fetch(max_redirects=0)
        await context.clear_cookies(name=re.compile(r"^dingbridge_(?!sim_)"))
        headers = {k: v for k, v in answer.headers.items() if k.lower() != "set-cookie"}
        await route.fulfill(response=answer, headers=headers)

    await page.route(f"{demo.server}/**", drop_cookies)
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.url.endswith("/signin/code") else None)
    await page.goto(demo.open_in_dingtalk("user005"))
    await page.wait_for_selector("#problem:not([hidden])", timeout=TIMEOUT)
    assert "Cookie" in await page.inner_text("#problem")
    assert len(posts) == 3  # three automatic sign-ins, then the person decides
    assert await page.is_visible("#signin-again")
    await context.close()
