"""First start to saved DingTalk settings, in a real Chromium (phone-sized screen)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.browser

SECRET = "sim-secret-whitelist-03"
PASSWORD = "e2e-admin-password"


async def test_first_start_to_dingtalk_settings(
    live_server: LiveServer, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    match = re.search(r"(http://\S+/admin/setup\?token=\S+)", "\n".join(live_server.announced))
    assert match, "no setup link printed at first start"
    setup_link = match.group(1).replace("http://127.0.0.1:0", live_server.base_url)
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = await context.new_page()
    try:
        # First admin through the one-time link.
        await page.goto(setup_link)
        await page.screenshot(path=artifacts / "console-01-setup.png", full_page=True)
        await page.fill("#f-username", "admin")
        await page.fill("#f-password", PASSWORD)
        await page.fill("#f-password2", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url("**/admin/spaces?done=welcome")
        # Sign out and back in.
        await page.click("header form button")
        await page.wait_for_url("**/admin/login")
        await page.fill("#f-username", "admin")
        await page.fill("#f-password", PASSWORD)
        await page.screenshot(path=artifacts / "console-02-login.png", full_page=True)
        await page.click("main button[type=submit]")
        await page.wait_for_url("**/admin/spaces")
        # The link is spent.
        spent = await page.goto(setup_link)
        assert spent is not None and spent.status == 404
        # A space.
        await page.goto(f"{live_server.base_url}/admin/spaces")
        await page.fill("#f-name", "销售部")
        await page.click("main button[type=submit]")
        await page.wait_for_url("**/admin/spaces/10001?done=created")
        assert "10001" in await page.inner_text("h1")
        await page.screenshot(path=artifacts / "console-03-space.png", full_page=True)
        # CSV import with one bad row: reported, nothing imported.
        csv_path = tmp_path / "成员.csv"
        csv_path.write_bytes(
            "姓名,手机号,邮箱,角色\n张伟,13800000001,,\n李娜,1380000,,\n王芳,13800000003,,\n".encode(
                "gbk"
            )
        )
        await page.goto(f"{live_server.base_url}/admin/spaces/10001/import")
        await page.set_input_files("#f-file", str(csv_path))
        await page.click("main form button[type=submit]")
        report = page.locator("#import-report")
        await report.wait_for()
        assert "3" in await report.locator("td").first.inner_text()
        await page.screenshot(path=artifacts / "console-04-import-report.png", full_page=True)
        await page.goto(f"{live_server.base_url}/admin/spaces/10001/members")
        assert "张伟" not in await page.inner_text("#members")
        # Fixed file: imported.
        csv_path.write_bytes(
            "\ufeff姓名,手机号\n张伟,13800000001\n李娜,13800000002\n王芳,13800000003\n".encode()
        )
        await page.goto(f"{live_server.base_url}/admin/spaces/10001/import")
        await page.set_input_files("#f-file", str(csv_path))
        await page.click("main form button[type=submit]")
        await page.locator("#import-report").wait_for()
        await page.goto(f"{live_server.base_url}/admin/spaces/10001/members")
        members = await page.inner_text("#members")
        assert "张伟" in members and "13800000002" in members
        await page.screenshot(path=artifacts / "console-05-members.png", full_page=True)
        # DingTalk settings: a bad CorpId is refused, then saved.
        await page.goto(f"{live_server.base_url}/admin/spaces/10001/dingtalk")
        await page.check("#f-enabled")
        await page.fill("#f-corp_name", "示例科技有限公司")
        await page.fill("#f-corp_id", "5f2a7c31e08b4d96")
        await page.fill("#f-agent_id", "3001003")
        await page.fill("#f-app_key", "dingwhitelistonly03d")
        await page.fill("#f-app_secret", SECRET)
        await page.click("main form button[type=submit]")
        await page.locator("#error-corp_id").wait_for()
        await page.fill("#f-corp_id", "ding5f2a7c31e08b4d96")
        await page.fill("#f-app_secret", SECRET)
        await page.click("main form button[type=submit]")
        await page.wait_for_url("**/dingtalk?done=saved")
        assert SECRET not in await page.content()
        assert "已设置" in await page.inner_text("#secret-state")
        await page.screenshot(path=artifacts / "console-06-dingtalk.png", full_page=True)
        # English.
        await page.click("#lang-en")
        await page.wait_for_url("**/admin/spaces/10001/dingtalk")
        assert "DingTalk authorization (micro-app)" in await page.inner_text("h1")
        await page.goto(f"{live_server.base_url}/admin/audit")
        audit = await page.inner_text("#audit")
        assert "changed the DingTalk settings of space 10001" in audit and SECRET not in audit
        await page.screenshot(path=artifacts / "console-07-audit-en.png", full_page=True)
    finally:
        await context.close()
