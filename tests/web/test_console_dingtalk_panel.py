"""The 钉钉授权 page's "paste these into DingTalk" panel, QR code and Test connection button."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from dingbridge.settings import Settings
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from dingbridge.spaces.dingtalk_settings import load_dingtalk, record_egress_ip
from tests.web.conftest import AsgiClient, Server, csrf_of
from tests.web.console_world import space_for, use_simulator

EXTERNAL = "https://apps.example.com"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=8000, external_url=EXTERNAL)


def _copy_value(page: str, name: str) -> str:
    marker = f'<code id="v-{name}">'
    start = page.index(marker) + len(marker)
    return page[start : page.index("</code>", start)]


async def test_panel_lists_every_value_to_paste(server: Server, admin: AsgiClient) -> None:
    space_id = await space_for(server, FULL_APP)
    page = (await admin.get(f"/admin/spaces/{space_id}/dingtalk")).text
    url = f"{EXTERNAL}/{space_id}/"
    assert _copy_value(page, "home_url") == url
    assert _copy_value(page, "pc_home_url") == url
    assert _copy_value(page, "redirect_url") == url  # the OAuth callback is the space URL
    # 安全设置 → 端内免登地址: the page's origin, checked for in-client sign-in.
    assert "端内免登地址" in page and _copy_value(page, "in_client_origin") == EXTERNAL
    for name in ("home_url", "pc_home_url", "redirect_url", "in_client_origin"):
        assert f'data-copy="v-{name}"' in page
    # The permissions by the developer console's name and code, and the mobile field.
    assert "成员信息读权限" in page and "<code>qyapi_get_member</code>" in page
    assert "通讯录部门信息读权限" in page and "企业员工手机号信息" in page
    # The egress IP is not known before a test.
    assert 'id="v-egress_ip"' in page and "测试连接后才能知道" in page
    # The steps in the seed's order: 网页应用 (③), 安全设置 (④), 权限管理 (⑤), 凭证 (2.3).
    panel = page[page.index('id="paste-panel"') :]
    order = [panel.index(s) for s in ("网页应用", "安全设置", "权限管理", "凭证与基础信息")]
    assert order == sorted(order)


async def test_qr_code_of_the_space_url_is_inline_svg(server: Server, admin: AsgiClient) -> None:
    space_id = await space_for(server, FULL_APP)
    page = (await admin.get(f"/admin/spaces/{space_id}/dingtalk")).text
    start = page.index("<svg")
    svg = page[start : page.index("</svg>", start)]
    assert 'class="qr"' in svg and "<path" in svg
    assert f'aria-label="{EXTERNAL}/{space_id}/"' in svg
    # Nothing loaded from another site: our own script and stylesheet only.
    assert '<script src="/static/console.js"' in page
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', page)


async def test_panel_shows_the_egress_ip_dingtalk_named(server: Server, admin: AsgiClient) -> None:
    space_id = await space_for(server, WHITELIST_APP)
    async with server.app.state.context.db.transaction() as session:
        await record_egress_ip(session, space_id, "203.0.113.7")
    page = (await admin.get(f"/admin/spaces/{space_id}/dingtalk")).text
    assert _copy_value(page, "egress_ip") == "203.0.113.7"


async def test_test_connection_names_the_ip_to_whitelist(
    server: Server, admin: AsgiClient, sim_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_simulator(server, sim_app)
    space_id = await space_for(server, WHITELIST_APP)
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    done = await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    assert done.status == 303
    page = (await admin.get(done.header("location") or "")).text
    assert 'data-check="ip_whitelist" data-status="fail"' in page
    assert 'data-check="config" data-status="pass"' in page
    assert "127.0.0.1" in page and "服务器出口IP" in page
    # The panel now shows the IP DingTalk saw, ready to copy.
    assert _copy_value(page, "egress_ip") == "127.0.0.1"
    async with server.app.state.context.db.session() as session:
        assert (await load_dingtalk(session, space_id)).egress_ip_seen == "127.0.0.1"
    # Audited, without the secret; the secret is in no page or log line either.
    audit = (await admin.get("/admin/audit")).text
    assert "dingtalk.test" in audit
    assert WHITELIST_APP.app_secret not in audit + page + caplog.text


async def test_test_results_follow_the_language(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    use_simulator(server, sim_app)
    space_id = await space_for(server, WHITELIST_APP)
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    admin.cookies["dingbridge_lang"] = "en"
    page = (await admin.get(page_url)).text
    assert "Egress IP whitelisted" in page and "Paste these into DingTalk" in page
    assert "What to do:" in page


async def test_saving_settings_clears_the_old_results(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    use_simulator(server, sim_app)
    space_id = await space_for(server, WHITELIST_APP)
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    assert 'id="check-results"' in (await admin.get(page_url)).text
    form = {
        "csrf_token": await csrf_of(admin, page_url),
        "enabled": "1",
        "corp_name": "示例科技有限公司",
        "corp_id": WHITELIST_APP.corp_id,
        "agent_id": str(WHITELIST_APP.agent_id),
        "app_key": WHITELIST_APP.app_key,
        "api_version": "v2",
        "forward_url": "http://127.0.0.1:8888/api-dingtalk-com/",
    }
    assert (await admin.post(page_url, form=form)).status == 303
    page = (await admin.get(page_url)).text
    assert 'id="check-results"' not in page
    # The calls now take another way: the IP DingTalk saw directly no longer applies.
    assert "测试连接后才能知道" in page and '<code id="v-egress_ip">' not in page
    async with server.app.state.context.db.session() as session:
        assert (await load_dingtalk(session, space_id)).egress_ip_seen is None


@pytest.mark.parametrize(
    "path",
    [
        "/admin/spaces/{id}/dingtalk/test",
        "/admin/spaces/{id}/directory-import",
        "/admin/tokens",
        "/admin/tokens/1/revoke",
    ],
)
async def test_new_forms_refuse_a_missing_csrf_token(
    server: Server, admin: AsgiClient, path: str
) -> None:
    space_id = await space_for(server, FULL_APP)
    result = await admin.post(path.format(id=space_id), form={"name": "x"})
    assert result.status == 403
    wrong = await admin.post(path.format(id=space_id), form={"name": "x", "csrf_token": "nope"})
    assert wrong.status == 403


async def test_one_connection_test_at_a_time(server: Server, admin: AsgiClient) -> None:
    space_id = await space_for(server, FULL_APP)
    await server.app.state.context.kv.set(f"dingtalk-test-lock:{space_id}", b"1", 60)
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    busy = await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    assert busy.status == 409 and "正在测试连接" in busy.text


async def test_without_the_doctor_the_button_says_not_available(
    server: Server, admin: AsgiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dingbridge.web.console import dingtalk as admin_dingtalk

    monkeypatch.setattr(admin_dingtalk, "available", lambda: False)
    space_id = await space_for(server, FULL_APP)
    page = (await admin.get(f"/admin/spaces/{space_id}/dingtalk")).text
    assert 'id="test-unavailable"' in page and 'id="test-connection"' not in page


async def test_a_run_with_a_warning_says_so(server: Server, admin: AsgiClient) -> None:
    from dingbridge.doctor.results import CheckResult, Message, Status
    from dingbridge.spaces.connection_test import ConnectionTest

    space_id = await space_for(server, FULL_APP)
    warned = CheckResult("home_url", Status.WARN, cause=Message("Check again later."))
    run = ConnectionTest(
        space_id, "2026-01-01 10:00:00", [CheckResult.passed("config").as_dict(), warned.as_dict()]
    )
    context = server.app.state.context
    await context.kv.set(f"dingtalk-test:{space_id}", json.dumps(run.as_dict()).encode())
    page = (await admin.get(f"/admin/spaces/{space_id}/dingtalk")).text
    summary = page[page.index('id="test-summary"') :].split("</p>")[0]
    assert "通过，有 1 条提醒。" in summary and "所有检查都已通过" not in summary


async def test_after_a_passing_test_the_panel_keeps_the_ip_dingtalk_named(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    """A refused call named the IP; once whitelisted, the test passes and the panel still shows
    that IP, now marked whitelisted."""
    use_simulator(server, sim_app)
    space_id = await space_for(server, FULL_APP)
    async with server.app.state.context.db.transaction() as session:
        await record_egress_ip(session, space_id, "203.0.113.7")
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    page = (await admin.get(page_url)).text
    assert 'data-check="ip_whitelist" data-status="pass"' in page
    assert _copy_value(page, "egress_ip") == "203.0.113.7"
    assert 'id="egress-ip-status"' in page and "已在白名单中" in page


async def test_a_first_test_that_passes_says_why_the_ip_is_not_known(
    server: Server, admin: AsgiClient, sim_app: Any
) -> None:
    use_simulator(server, sim_app)
    space_id = await space_for(server, FULL_APP)
    page_url = f"/admin/spaces/{space_id}/dingtalk"
    await admin.post(f"{page_url}/test", form={"csrf_token": await csrf_of(admin, page_url)})
    page = (await admin.get(page_url)).text
    assert 'data-check="ip_whitelist" data-status="pass"' in page
    assert '<code id="v-egress_ip">' not in page
    assert "钉钉只在拒绝调用时才给出它看到的 IP" in page
