"""The whole DingTalk setup in a real Chromium, against real sockets: the server (its DingTalk
hosts pointed at the simulator, its external URL its own address), the simulator, and a
forwarder whose calls leave from 127.0.0.2, the only address WHITELIST_APP whitelists.

first start → admin from the setup link → sign in → space → CSV (a bad row, then fixed) →
DingTalk settings of WHITELIST_APP → test connection names 127.0.0.1, the paste panel shows it
→ forward address through the 127.0.0.2 forwarder → every check passes → directory import →
English. Screenshots of the key pages go to test-artifacts/.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from dingbridge.app import create_app
from dingbridge.forwarder.server import Forwarder
from dingbridge.forwarder.settings import ForwarderSettings
from dingbridge.settings import Settings
from dingbridge.sim.defaults import WHITELIST_APP
from tests.conftest import SimServer

pytestmark = pytest.mark.browser

PASSWORD = "e2e-admin-password"
PHONE = {"width": 390, "height": 844}


@dataclass
class World:
    base_url: str
    announced: list[str]
    sim: SimServer


@pytest.fixture
def world(tmp_path: Path, sim_server: SimServer) -> Iterator[World]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    announced: list[str] = []
    settings = Settings(
        data_dir=tmp_path / "data",
        external_url=base_url,
        dingtalk_api=sim_server.url,
        dingtalk_oapi=sim_server.url,
        dingtalk_login=sim_server.url,
    )
    app = create_app(settings, announce=announced.append)
    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield World(base_url, announced, sim_server)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
async def forwarder(sim_server: SimServer) -> AsyncIterator[Forwarder]:
    """The whitelisted machine: a forwarder whose upstream calls leave from 127.0.0.2."""
    settings = ForwarderSettings(
        listen="127.0.0.1:0", api=sim_server.url, oapi=sim_server.url, source_address="127.0.0.2"
    )
    running = Forwarder(settings)
    await running.start()
    try:
        yield running
    finally:
        await running.close()


async def _statuses(page: Any) -> dict[str, str]:
    items = page.locator("#check-results li")
    found: dict[str, str] = {}
    for index in range(await items.count()):
        item = items.nth(index)
        found[await item.get_attribute("data-check")] = await item.get_attribute("data-status")
    return found


async def _sign_in_and_create_space(page: Any, world: World, artifacts: Path) -> None:
    match = re.search(r"(http://\S+/admin/setup\?token=\S+)", "\n".join(world.announced))
    assert match, "no setup link printed at first start"
    await page.goto(match.group(1))
    await page.fill("#f-username", "admin")
    await page.fill("#f-password", PASSWORD)
    await page.fill("#f-password2", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/admin/spaces?done=welcome")
    await page.click("header form button")  # sign out, then in
    await page.wait_for_url("**/admin/login")
    await page.fill("#f-username", "admin")
    await page.fill("#f-password", PASSWORD)
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/admin/spaces")
    await page.fill("#f-name", "销售部")
    await page.click("main button[type=submit]")
    await page.wait_for_url("**/admin/spaces/10001?done=created")
    await page.screenshot(path=artifacts / "dingtalk-01-space.png", full_page=True)


async def _import_csv(page: Any, world: World, artifacts: Path, tmp_path: Path) -> None:
    csv_path = tmp_path / "成员.csv"
    csv_path.write_bytes("姓名,手机号\n张伟,13800000001\n李娜,1380000\n".encode("gbk"))
    await page.goto(f"{world.base_url}/admin/spaces/10001/import")
    await page.set_input_files("#f-file", str(csv_path))
    await page.click("main form button[type=submit]")
    await page.locator("#import-report").wait_for()
    assert "3" in await page.locator("#import-report td").first.inner_text()
    await page.screenshot(path=artifacts / "dingtalk-02-csv-bad-row.png", full_page=True)
    csv_path.write_bytes("姓名,手机号\n张伟,13800000001\n李娜,13800000002\n".encode("gbk"))
    await page.set_input_files("#f-file", str(csv_path))
    await page.click("main form button[type=submit]")
    await page.locator("#import-report").wait_for()
    await page.goto(f"{world.base_url}/admin/spaces/10001/members")
    assert "李娜" in await page.inner_text("#members")


async def _test_connection(page: Any) -> dict[str, str]:
    await page.click("#test-connection")
    await page.wait_for_url("**/dingtalk?done=tested*", timeout=60_000)
    return await _statuses(page)


async def test_dingtalk_setup_from_first_start_to_every_check_passing(
    world: World, forwarder: Forwarder, browser: Any, artifacts: Path, tmp_path: Path
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN")
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=world.base_url)
    page = await context.new_page()
    dingtalk = f"{world.base_url}/admin/spaces/10001/dingtalk"
    try:
        await _sign_in_and_create_space(page, world, artifacts)
        await _import_csv(page, world, artifacts, tmp_path)
        # The simulator's whitelist-restricted app, called directly from 127.0.0.1.
        await page.goto(dingtalk)
        assert "测试连接后才能知道" in await page.inner_text("#paste-panel")
        await page.check("#f-enabled")
        await page.fill("#f-corp_name", "示例科技有限公司")
        await page.fill("#f-corp_id", WHITELIST_APP.corp_id)
        await page.fill("#f-agent_id", str(WHITELIST_APP.agent_id))
        await page.fill("#f-app_key", WHITELIST_APP.app_key)
        await page.fill("#f-app_secret", WHITELIST_APP.app_secret)
        await page.click("main form button[type=submit]")
        await page.wait_for_url("**/dingtalk?done=saved")
        statuses = await _test_connection(page)
        assert statuses["credentials"] != "pass" or statuses["ip_whitelist"] == "fail"
        assert statuses["ip_whitelist"] == "fail"
        failure = await page.inner_text("#check-results li[data-check=ip_whitelist]")
        assert "127.0.0.1" in failure and "服务器出口IP" in failure
        # The paste panel now has the IP to whitelist, with a working copy button.
        assert await page.inner_text("#v-egress_ip") == "127.0.0.1"
        await page.click("button[data-copy=v-egress_ip]")
        assert await page.evaluate("navigator.clipboard.readText()") == "127.0.0.1"
        await page.screenshot(path=artifacts / "dingtalk-03-ip-not-whitelisted.png", full_page=True)
        # Through the forwarder on the whitelisted address: every check passes.
        await page.fill("#f-forward_url", f"http://127.0.0.1:{forwarder.port}/api-dingtalk-com/")
        await page.click("main form button[type=submit]")
        await page.wait_for_url("**/dingtalk?done=saved")
        statuses = await _test_connection(page)
        assert statuses and set(statuses.values()) == {"pass"}, statuses
        assert "所有检查都已通过" in await page.inner_text("#test-summary")
        assert "已在白名单中" in await page.inner_text("#v-egress_ip")
        assert await page.inner_text("#v-home_url") == f"{world.base_url}/10001/"
        assert await page.locator("svg.qr").is_visible()
        await page.screenshot(path=artifacts / "dingtalk-04-every-check-passes.png", full_page=True)
        content = await page.content()
        assert WHITELIST_APP.app_secret not in content
        # The directory import runs in the background; the page follows its progress.
        await page.goto(f"{world.base_url}/admin/spaces/10001/members")
        await page.click("#start-directory-import")
        await page.locator("#directory-import-result").wait_for(timeout=60_000)
        assert "新增" in await page.inner_text("#directory-import-result")
        await page.screenshot(path=artifacts / "dingtalk-05-directory-import.png", full_page=True)
        # English.
        await page.goto(dingtalk)
        await page.click("#lang-en")
        await page.wait_for_url("**/admin/spaces/10001/dingtalk")
        assert "Paste these into DingTalk" in await page.inner_text("#paste-panel")
        results = await page.inner_text("#check-results")
        assert "Egress IP whitelisted" in results
        await page.screenshot(path=artifacts / "dingtalk-06-english.png", full_page=True)
        # An API token for scripts: shown once, then usable.
        await page.goto(f"{world.base_url}/admin/tokens")
        await page.fill("#f-name", "HR sync")
        await page.click("main form button[type=submit]")
        token = await page.inner_text("#v-token")
        assert token.startswith("dbt_")
        await page.screenshot(path=artifacts / "dingtalk-07-api-token.png", full_page=True)
        answer = await page.request.get(
            f"{world.base_url}/api/v1/spaces/10001/dingtalk",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status == 200 and (await answer.json())["app_secret_set"] is True
        audit_page = await context.new_page()
        await audit_page.goto(f"{world.base_url}/admin/audit")
        audit = await audit_page.inner_text("#audit")
        assert "tested the DingTalk connection of space 10001: it passed." in audit
        assert WHITELIST_APP.app_secret not in audit
    finally:
        await context.close()
    await asyncio.sleep(0)
