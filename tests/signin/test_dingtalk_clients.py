"""The per-space DingTalk client registry: built from the saved settings, cached, rebuilt the
moment the settings change, endpoints from the forward address or the server's hosts."""

from __future__ import annotations

from pathlib import Path

import pytest

from dingbridge.kv.memory import MemoryKV
from dingbridge.settings import Settings
from dingbridge.signin.kv_token_store import KVTokenStore
from dingbridge.sim.defaults import DEMO_CORP_ID, FULL_APP
from dingbridge.spaces.dingtalk_clients import DingTalkClients, DingTalkNotConfigured
from dingbridge.spaces.dingtalk_settings import DingTalkInput, load_dingtalk, save_dingtalk
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.spaces.store import create_space
from dingbridge.storage import migrate
from dingbridge.storage.db import Database


def _input(**changes: object) -> DingTalkInput:
    values: dict[str, object] = {
        "enabled": True,
        "corp_name": "示例科技有限公司",
        "corp_id": DEMO_CORP_ID,
        "agent_id": str(FULL_APP.agent_id),
        "app_key": FULL_APP.app_key,
        "app_secret": FULL_APP.app_secret,
    }
    values.update(changes)
    return DingTalkInput(**values)  # type: ignore[arg-type]


async def test_clients_follow_the_saved_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        dingtalk_api="http://dt-api.test",
        dingtalk_oapi="http://dt-oapi.test",
        dingtalk_login="http://dt-login.test",
    )
    migrate.upgrade(settings.effective_database_url)
    db = Database(settings.effective_database_url)
    box = SecretBox(["k" * 40])
    kv = MemoryKV()
    clients = DingTalkClients(settings, box, KVTokenStore(kv))
    try:
        async with db.transaction() as session:
            space = await create_space(session, "A", actor="test")
            await save_dingtalk(session, box, space.id, _input(enabled=False), actor="test")
            disabled = await load_dingtalk(session, space.id)
        with pytest.raises(DingTalkNotConfigured):
            clients.for_space(disabled)

        async with db.transaction() as session:
            await save_dingtalk(session, box, space.id, _input(), actor="test")
            config = await load_dingtalk(session, space.id)
        first = clients.for_space(config)
        assert clients.for_space(config) is first
        assert first.endpoints.api == "http://dt-api.test"
        assert first.endpoints.login == "http://dt-login.test"
        assert first.corp_id == DEMO_CORP_ID and first.api_version == "v2"

        async with db.transaction() as session:
            await save_dingtalk(
                session,
                box,
                space.id,
                _input(api_version="v1", forward_url="http://203.0.113.5:888/api-dingtalk-com/"),
                actor="test",
            )
            changed = await load_dingtalk(session, space.id)
        second = clients.for_space(changed)
        assert second is not first and second.api_version == "v1"
        assert second.endpoints.api == "http://203.0.113.5:888/api-dingtalk-com"
        assert second.endpoints.oapi == "http://203.0.113.5:888/oapi-dingtalk-com"
        assert second.endpoints.login == "http://dt-login.test"  # browsers go direct
        assert second.transport is first.transport  # one connection pool
    finally:
        await clients.aclose()
        await db.dispose()
        await kv.close()
