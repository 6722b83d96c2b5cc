"""The apps page in a real Chromium on a phone-sized screen: the OIDC fields and the department
chooser appear for the choice made (CSS, no script), the secret page's copy button works, and
deleting asks first."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from dingbridge.spaces.headless import create_admin_account, create_space
from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "e2e-admin-password"


async def test_add_an_oidc_app_on_a_phone(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    settings = live_server.settings
    await asyncio.to_thread(create_admin_account, settings, "admin", PASSWORD)
    await asyncio.to_thread(create_space, settings, "示例空间")
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    await context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = await context.new_page()
    base = live_server.base_url
    try:
        await page.goto(f"{base}/admin/login")
        await page.fill("#f-username", "admin")
        await page.fill("#f-password", PASSWORD)
        await page.click("main button[type=submit]")
        await page.wait_for_url("**/admin/spaces")
        await page.goto(f"{base}/admin/spaces/10001/apps")
        await page.click("#add-app")
        await page.wait_for_url("**/apps/new")
        assert not await page.is_visible("#oidc-fields")  # a link by default
        assert not await page.is_visible("#department-chooser")
        await page.fill("#f-name", "Grafana")
        await page.fill("#f-url", "https://grafana.example.com/")
        await page.check("input[name=kind][value=oidc]")
        assert await page.is_visible("#oidc-fields")
        await page.fill("#f-redirect_uris", "https://grafana.example.com/login/generic_oauth")
        await page.check("input[name=access][value=departments]")
        assert await page.is_visible("#department-chooser")
        assert "还没有部门" in await page.inner_text("#department-chooser")
        await page.check("input[name=access][value=all]")
        assert not await page.is_visible("#department-chooser")
        await page.screenshot(path=artifacts / "console-apps-01-form.png", full_page=True)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390  # nothing wider than the phone
        await page.click("#save-app")
        await page.wait_for_selector("#client-credentials")
        secret = (await page.inner_text("#v-client-secret")).strip()
        assert secret.startswith("dbs_")
        await page.click("button[data-copy=v-client-secret]")
        await page.wait_for_selector("button[data-copy=v-client-secret].done")
        await page.screenshot(path=artifacts / "console-apps-02-secret.png", full_page=True)

        await page.goto(f"{base}/admin/spaces/10001/apps")
        assert "Grafana" in await page.inner_text("#apps")
        assert secret not in await page.content()
        await page.click("#apps a.danger-link")
        await page.wait_for_selector("#confirm")
        await page.click("#confirm-button")
        await page.wait_for_url("**/apps?done=app_deleted")
        assert "Grafana" not in await page.inner_text("#apps")
    finally:
        await context.close()
