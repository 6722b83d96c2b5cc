"""The console's layout at desktop (1280 px) and phone (390 px) widths: the search button on
one line, member rows with their actions on screen, the outbox's code readable, an icon, the
DingTalk form before the paste panel, the member page saying whether the member is bound."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.console_site import WIDTHS, dev_server, prepare_site, signed_in_page

pytestmark = pytest.mark.browser


async def _inside(page: Any, selector: str, width: int) -> bool:
    box = await page.locator(selector).first.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_console_pages_fit_the_screen(
    live_server: LiveServer, browser: Any, artifacts: Path, width: str
) -> None:
    site = await prepare_site(live_server)
    page = await signed_in_page(browser, site, WIDTHS[width])
    screen = WIDTHS[width]["width"]
    base = f"{site.base_url}/admin/spaces/10001"
    try:
        await page.goto(f"{base}/members")
        await page.screenshot(path=artifacts / f"layout-members-{width}.png", full_page=True)
        button = page.locator("form.search button")
        box = await button.bounding_box()
        field = await page.locator("form.search input").bounding_box()
        assert box is not None and field is not None
        assert box["height"] <= field["height"] + 2, "the search button wraps"
        # Every row's action is on screen, without scrolling sideways.
        actions = page.locator("#members td.actions button")
        assert await actions.count() == 3
        for index in range(3):
            action = await actions.nth(index).bounding_box()
            assert action is not None and action["x"] + action["width"] <= screen
        scroll = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= screen
        # The bindings table of 登录策略 stacks like the members table: actions on screen.
        await page.goto(f"{base}/signin")
        await page.screenshot(path=artifacts / f"layout-bindings-{width}.png", full_page=True)
        unbind = await page.locator("#bindings-table td.actions a").first.bounding_box()
        assert unbind is not None and unbind["x"] + unbind["width"] <= screen
        assert await page.evaluate("document.documentElement.scrollWidth") <= screen
        if width == "phone":
            userid = page.locator("#bindings-table td[data-label]").nth(1)
            assert "钉钉" in await userid.evaluate(
                "cell => getComputedStyle(cell, '::before').content"
            )
        # The member page says whether the member is bound.
        await page.goto(f"{base}/members/{site.bound_member_id}")
        assert "已绑定钉钉用户 user001" in await page.inner_text("#member-binding")
        await page.goto(f"{base}/members")
        await page.click("text=李娜")
        assert "未绑定" in await page.inner_text("#member-binding")
        # 钉钉授权: the form comes first, the paste panel after it.
        await page.goto(f"{base}/dingtalk")
        form = await page.locator("main form[action$='/dingtalk']").bounding_box()
        panel = await page.locator("#paste-panel").bounding_box()
        assert form is not None and panel is not None and form["y"] < panel["y"]
        await page.screenshot(path=artifacts / f"layout-dingtalk-{width}.png", full_page=True)
        # Our own icon.
        icon = await page.request.get(f"{site.base_url}/favicon.ico")
        assert icon.status == 200 and (await icon.body())[:4] == b"\x00\x00\x01\x00"
    finally:
        await page.context.close()


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_the_outbox_shows_the_whole_code(
    browser: Any, artifacts: Path, tmp_path: Path, width: str
) -> None:
    with dev_server(tmp_path) as (base_url, app):
        outbox = app.state.context.signin.outbox
        await outbox.send("+8613800000001", "482916")
        context = await browser.new_context(viewport=WIDTHS[width], locale="zh-CN")
        page = await context.new_page()
        try:
            await page.goto(f"{base_url}/_dev/outbox")
            await page.screenshot(path=artifacts / f"layout-outbox-{width}.png", full_page=True)
            text = page.locator("#outbox td.outbox-text")
            assert "482916" in await text.inner_text()
            assert await _inside(page, "#outbox td.outbox-text", WIDTHS[width]["width"])
            scroll = await page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= WIDTHS[width]["width"]
        finally:
            await context.close()
