"""After using every new console and API feature, the AppSecret and the API token appear in no
page, no API answer, no audit entry and no log line."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from dingbridge.sim.defaults import FULL_APP
from tests.web.conftest import AsgiClient, Server, csrf_of
from tests.web.console_world import use_simulator
from tests.web.test_api_auth import bearer, new_token


async def test_secrets_stay_hidden_everywhere(
    server: Server, admin: AsgiClient, sim_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    use_simulator(server, sim_app)
    token = await new_token(admin)
    robot = server.new_client()
    auth = {**bearer(token), "content-type": "application/json"}

    async def send(method: str, url: str, body: object = None) -> str:
        data = None if body is None else json.dumps(body).encode()
        result = await robot.request(method, url, headers=auth, body=data)
        assert result.status < 500, result.text
        return result.text

    seen = [await send("POST", "/api/v1/spaces", {"name": "销售部"})]
    settings = {
        "enabled": True,
        "corp_id": FULL_APP.corp_id,
        "agent_id": str(FULL_APP.agent_id),
        "app_key": FULL_APP.app_key,
        "app_secret": FULL_APP.app_secret,
    }
    seen.append(await send("PUT", "/api/v1/spaces/10001/dingtalk", settings))
    seen.append(await send("POST", "/api/v1/spaces/10001/dingtalk/test"))
    seen.append(await send("POST", "/api/v1/spaces/10001/directory-import"))
    for _ in range(400):
        state = json.loads(await send("GET", "/api/v1/spaces/10001/directory-import"))
        if state["status"] != "running":
            break
        await asyncio.sleep(0.02)
    seen.append(json.dumps(state))
    page = "/admin/spaces/10001/dingtalk"
    await admin.post(f"{page}/test", form={"csrf_token": await csrf_of(admin, page)})
    for url in (
        "/api/v1/spaces/10001/dingtalk",
        "/api/v1/spaces/10001/dingtalk/setup-values",
        "/api/v1/spaces/10001/members",
        "/api/v1/audit",
        "/api/v1/openapi.json",
    ):
        seen.append(await send("GET", url))
    for url in (
        page,
        "/admin/spaces/10001/members",
        "/admin/spaces/10001",
        "/admin/audit",
        "/admin/tokens",
    ):
        seen.append((await admin.get(url)).text)
    everything = "\n".join(seen) + caplog.text
    assert "张伟" in everything  # the directory import did run
    for secret in (FULL_APP.app_secret, token, token.removeprefix("dbt_")):
        assert secret not in everything
