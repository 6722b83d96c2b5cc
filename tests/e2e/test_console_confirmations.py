"""Destructive console actions ask first and say what will be lost, at desktop and phone widths,
with no script on the page (a strict CSP would block inline script)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.console_site import WIDTHS, prepare_site, signed_in_page

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", ["desktop", "phone"])
async def test_deleting_a_member_unbinding_and_disabling_ask_first(
    live_server: LiveServer, browser: Any, artifacts: Path, width: str
) -> None:
    site = await prepare_site(live_server)
    page = await signed_in_page(browser, site, WIDTHS[width])
    base = f"{site.base_url}/admin/spaces/10001"
    try:
        # 删除 on the member page: a page naming what goes, nothing deleted yet.
        await page.goto(f"{base}/members/{site.bound_member_id}")
        await page.click("text=删除…")
        await page.wait_for_url(f"**/members/{site.bound_member_id}/delete")
        confirm = await page.inner_text("#confirm")
        assert "张伟" in confirm and "user001" in confirm and "不能撤销" in confirm
        await page.screenshot(path=artifacts / f"confirm-member-{width}.png", full_page=True)
        inline = await page.eval_on_selector_all("script:not([src])", "s => s.length")
        assert inline == 0  # no inline script: works under a strict CSP
        await page.click("text=取消")
        await page.goto(f"{base}/members")
        assert "张伟" in await page.inner_text("#members")
        # 解除绑定 on the sign-in page: confirm, then it is gone.
        await page.goto(f"{base}/signin")
        await page.click(f"#binding-{site.binding_id} >> text=解除绑定…")
        confirm = await page.inner_text("#confirm")
        assert "user001" in confirm and "重新绑定" in confirm
        await page.screenshot(path=artifacts / f"confirm-unbind-{width}.png", full_page=True)
        await page.click("#confirm button[type=submit]")
        await page.wait_for_url("**/signin?done=unbound")
        assert await page.locator(f"#binding-{site.binding_id}").count() == 0
        # 停用 the space: says how many members lose access.
        await page.goto(base)
        await page.click("text=停用…")
        confirm = await page.inner_text("#confirm")
        assert "3 名启用中的成员" in confirm
        await page.screenshot(path=artifacts / f"confirm-disable-{width}.png", full_page=True)
        box = await page.locator("#confirm button[type=submit]").bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTHS[width]["width"]
        await page.click("#confirm button[type=submit]")
        await page.wait_for_url("**/admin/spaces/10001?done=disabled")
    finally:
        await page.context.close()
