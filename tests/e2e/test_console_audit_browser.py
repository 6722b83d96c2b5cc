"""The audit log in a browser at desktop (1280 px) and phone (390 px) widths: the filters fit
the screen and narrow the list, and the CSV link exports what is shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.console_site import WIDTHS, prepare_site, signed_in_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_filter_the_audit_log_and_export_it(
    live_server: LiveServer, browser: Any, artifacts: Path, width: str
) -> None:
    site = await prepare_site(live_server)
    page = await signed_in_page(browser, site, WIDTHS[width])
    screen = WIDTHS[width]["width"]
    try:
        await page.goto(f"{site.base_url}/admin/audit")
        assert "共 5 条" in await page.inner_text("#audit-count")
        assert "test 在空间 10001 添加了成员 李娜。" in await page.inner_text("#audit")
        await page.select_option("select[name=action]", "member.add")
        await page.select_option("select[name=space]", "10001")
        await page.click("#audit-filters button[type=submit]")
        await page.wait_for_url("**action=member.add**")
        assert "共 3 条" in await page.inner_text("#audit-count")
        await page.screenshot(path=artifacts / f"audit-{width}.png", full_page=True)
        for selector in ("#audit-filters button", "#audit-csv", "select[name=actor]"):
            box = await page.locator(selector).bounding_box()
            assert box is not None and box["x"] + box["width"] <= screen, selector
        assert await page.evaluate("document.documentElement.scrollWidth") <= screen
        href = await page.get_attribute("#audit-csv", "href")
        assert href is not None and "action=member.add" in href
        export = await page.request.get(f"{site.base_url}{href}")
        lines = (await export.text()).lstrip("\ufeff").strip().splitlines()
        assert lines[0] == "时间,操作人,操作,对象,内容" and len(lines) == 4
    finally:
        await page.context.close()
