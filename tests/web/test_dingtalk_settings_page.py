"""The 钉钉授权(微应用) page: validation, write-only AppSecret, audit, logs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from tests.web.conftest import AsgiClient, Server, csrf_of

SECRET = "sim-secret-whitelist-03"
FORM = {
    "enabled": "1",
    "corp_name": "示例科技有限公司",
    "corp_id": "ding5f2a7c31e08b4d96",
    "agent_id": "3001003",
    "app_key": "dingwhitelistonly03d",
    "app_secret": SECRET,
    "api_version": "v2",
    "forward_url": "",
}


@pytest.fixture
async def space(admin: AsgiClient) -> str:
    await admin.post("/admin/spaces", form={"csrf_token": await csrf_of(admin), "name": "A"})
    return "/admin/spaces/10001/dingtalk"


async def test_save_and_secret_never_shown_stored_or_logged(
    server: Server, admin: AsgiClient, space: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await csrf_of(admin, space)
    saved = await admin.post(space, form={**FORM, "csrf_token": token})
    assert saved.status == 303
    page = await admin.get(space)
    assert SECRET not in page.text
    assert 'id="secret-state"' in page.text
    assert "ding5f2a7c31e08b4d96" in page.text and "3001003" in page.text
    async with server.app.state.context.db.session() as session:
        stored = (
            await session.execute(text("SELECT app_secret_encrypted FROM dingtalk_settings"))
        ).scalar()
        audit = (await session.execute(text("SELECT details FROM audit_log"))).scalars().all()
    assert stored and SECRET not in stored
    assert all(SECRET not in str(details) for details in audit)
    assert SECRET not in (await admin.get("/admin/audit")).text
    assert SECRET not in caplog.text


async def test_invalid_fields_listed_and_nothing_saved(admin: AsgiClient, space: str) -> None:
    token = await csrf_of(admin, space)
    bad = {
        **FORM,
        "csrf_token": token,
        "corp_id": "corp123",
        "agent_id": "12a",
        "forward_url": "http://203.0.113.5:888/wrong/",
    }
    result = await admin.post(space, form=bad)
    assert result.status == 400
    for field in ("corp_id", "agent_id", "forward_url"):
        assert f'id="error-{field}"' in result.text
    assert SECRET not in result.text  # the typed secret is not echoed back
    page = (await admin.get(space)).text
    assert "corp123" not in page and 'value="ding5f2a7c31e08b4d96"' not in page


async def test_change_applies_at_once_and_blank_secret_kept(
    server: Server, admin: AsgiClient, space: str
) -> None:
    from dingbridge.spaces.dingtalk_settings import load_dingtalk, reveal_app_secret

    token = await csrf_of(admin, space)
    await admin.post(space, form={**FORM, "csrf_token": token})
    await admin.post(
        space,
        form={
            **FORM,
            "csrf_token": token,
            "app_secret": "",
            "forward_url": "http://127.0.0.2:888/api-dingtalk-com/",
        },
    )
    context = server.app.state.context
    async with context.db.session() as session:
        config = await load_dingtalk(session, 10001)
    assert config.forward_url == "http://127.0.0.2:888/api-dingtalk-com/"
    assert reveal_app_secret(context.secret_box, config) == SECRET
    audit = (await admin.get("/admin/audit")).text
    assert "修改了空间 10001 的钉钉设置" in audit
    assert "钉钉API转发地址：</span>— → http://127.0.0.2:888/api-dingtalk-com/" in audit


async def test_settings_page_needs_csrf(admin: AsgiClient, space: str) -> None:
    assert (await admin.post(space, form=FORM)).status == 403
