"""The JSON API's resources: spaces, members (and CSV), DingTalk settings, test connection,
audit, with an API token."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from dingbridge.settings import Settings
from dingbridge.sim.defaults import WHITELIST_APP
from tests.web.conftest import AsgiClient, Result, Server
from tests.web.console_world import use_simulator
from tests.web.test_api_auth import bearer, new_token


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", port=8000, external_url="http://apps.example.cn")


class Api:
    def __init__(self, client: AsgiClient, token: str) -> None:
        self.client, self.token = client, token

    async def call(
        self, method: str, url: str, body: object = None, raw: bytes | None = None
    ) -> Result:
        headers = bearer(self.token)
        data = raw
        if body is not None:
            headers["content-type"] = "application/json"
            data = json.dumps(body).encode()
        elif raw is not None:
            headers["content-type"] = "text/csv"
        return await self.client.request(method, url, headers=headers, body=data)


@pytest.fixture
async def api(server: Server, admin: AsgiClient) -> Api:
    return Api(server.new_client(), await new_token(admin))


async def test_spaces_create_rename_disable(api: Api, server: Server) -> None:
    created = await api.call("POST", "/api/v1/spaces", {"name": "销售部"})
    assert created.status == 201
    assert created.json() == {
        "id": 10001,
        "name": "销售部",
        "enabled": True,
        "members": 0,
        "dingtalk_enabled": False,
        "url": "http://apps.example.cn/10001/",
    }
    renamed = await api.call("PATCH", "/api/v1/spaces/10001", {"name": "销售一部"})
    assert renamed.json()["name"] == "销售一部"
    disabled = await api.call("PATCH", "/api/v1/spaces/10001", {"enabled": False})
    assert disabled.json()["enabled"] is False
    assert (await server.new_client().get("/10001/")).status == 404
    assert (await api.call("GET", "/api/v1/spaces/99999")).status == 404
    bad = await api.call("POST", "/api/v1/spaces", {"name": "   "})
    assert bad.status == 400 and "name" in bad.json()["problems"]
    wrong_shape = await api.call("POST", "/api/v1/spaces", {"title": "x"})
    assert wrong_shape.status == 400 and wrong_shape.json()["error"] == "validation_failed"


async def test_members_add_edit_disable_delete(api: Api) -> None:
    await api.call("POST", "/api/v1/spaces", {"name": "销售部"})
    base = "/api/v1/spaces/10001/members"
    added = await api.call("POST", base, {"name": "张伟", "mobile": "138 0000 0001"})
    assert added.status == 201
    member = added.json()
    assert member["mobile"] == "+8613800000001" and member["status"] == "active"
    duplicate = await api.call("POST", base, {"name": "李娜", "mobile": "13800000001"})
    assert duplicate.status == 400 and "mobile" in duplicate.json()["problems"]
    url = f"{base}/{member['id']}"
    edited = await api.call("PATCH", url, {"email": "zhangwei@example.cn", "status": "disabled"})
    assert edited.json()["email"] == "zhangwei@example.cn"
    assert edited.json()["status"] == "disabled" and edited.json()["name"] == "张伟"
    listed = await api.call("GET", f"{base}?q={quote('张')}")
    assert [m["id"] for m in listed.json()] == [member["id"]]
    assert (await api.call("DELETE", url)).status == 204
    assert (await api.call("GET", url)).status == 404


async def test_csv_import_reports_bad_rows_and_saves_nothing(api: Api) -> None:
    await api.call("POST", "/api/v1/spaces", {"name": "销售部"})
    url = "/api/v1/spaces/10001/members/import"
    bad = "姓名,手机号\n张伟,13800000001\n李娜,12345\n".encode("gbk")
    refused = await api.call("POST", url, raw=bad)
    assert refused.status == 400
    report = refused.json()
    assert report["ok"] is False and report["problems"][0]["line"] == 3
    assert (await api.call("GET", "/api/v1/spaces/10001/members")).json() == []
    good = "\ufeff姓名,手机号\n张伟,13800000001\n李娜,13800000002\n".encode()
    imported = await api.call("POST", url, raw=good)
    assert imported.status == 200 and imported.json()["added"] == 2
    again = await api.call("POST", url, raw=good)
    assert again.json()["unchanged"] == 2


async def test_dingtalk_settings_never_return_the_secret(
    api: Api, admin: AsgiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await api.call("POST", "/api/v1/spaces", {"name": "销售部"})
    url = "/api/v1/spaces/10001/dingtalk"
    before = await api.call("GET", url)
    assert before.json()["app_secret_set"] is False
    settings = {
        "enabled": True,
        "corp_name": "示例科技有限公司",
        "corp_id": WHITELIST_APP.corp_id,
        "agent_id": str(WHITELIST_APP.agent_id),
        "app_key": WHITELIST_APP.app_key,
        "app_secret": WHITELIST_APP.app_secret,
        "api_version": "v2",
        "forward_url": "",
    }
    saved = await api.call("PUT", url, settings)
    assert saved.status == 200
    assert saved.json()["app_secret_set"] is True and "app_secret" not in saved.json()
    # Leaving the secret out keeps it.
    kept = await api.call("PUT", url, {**settings, "app_secret": None, "corp_name": "示例"})
    assert kept.json()["app_secret_set"] is True and kept.json()["corp_name"] == "示例"
    bad = await api.call("PUT", url, {**settings, "forward_url": "http://203.0.113.5:888/x/"})
    assert bad.status == 400 and "forward_url" in bad.json()["problems"]
    audit = (await api.call("GET", "/api/v1/audit?target=space:10001")).text
    assert "dingtalk.update" in audit and '"app_secret":{"old":null,"new":"(set)"}' in audit
    seen = (await api.call("GET", url)).text + audit + (await admin.get("/admin/audit")).text
    assert WHITELIST_APP.app_secret not in seen + caplog.text


async def test_setup_values_and_test_connection(api: Api, server: Server, sim_app: Any) -> None:
    use_simulator(server, sim_app)
    await api.call("POST", "/api/v1/spaces", {"name": "销售部"})
    await api.call(
        "PUT",
        "/api/v1/spaces/10001/dingtalk",
        {
            "enabled": True,
            "corp_id": WHITELIST_APP.corp_id,
            "agent_id": str(WHITELIST_APP.agent_id),
            "app_key": WHITELIST_APP.app_key,
            "app_secret": WHITELIST_APP.app_secret,
        },
    )
    values = (await api.call("GET", "/api/v1/spaces/10001/dingtalk/setup-values")).json()
    assert values["home_url"] == values["redirect_url"] == "http://apps.example.cn/10001/"
    assert values["egress_ip"] is None
    assert {"code": "qyapi_get_member", "name": "成员信息读权限"} in values["permissions"]
    tested = await api.call("POST", "/api/v1/spaces/10001/dingtalk/test")
    assert tested.status == 200
    result = tested.json()
    assert result["ok"] is False and result["egress_ip"] == "127.0.0.1"
    checks = {c["id"]: c for c in result["checks"]}
    assert checks["ip_whitelist"]["status"] == "fail"
    assert "127.0.0.1" in checks["ip_whitelist"]["fix"]["zh_CN"]
    values = (await api.call("GET", "/api/v1/spaces/10001/dingtalk/setup-values")).json()
    assert values["egress_ip"] == "127.0.0.1"
    assert WHITELIST_APP.app_secret not in tested.text
