"""``dingbridge admin token create|list|revoke`` and the server honouring what they did."""

from __future__ import annotations

from pathlib import Path

import pytest

from dingbridge.app import create_app
from dingbridge.settings import Settings
from tests.web.conftest import AsgiClient
from tests.web.test_cli_commands import run


async def _status_with(data: Path, token: str) -> int:
    app = create_app(Settings(data_dir=data), announce=lambda _m: None)
    async with app.router.lifespan_context(app):
        client = AsgiClient(app)
        result = await client.get("/api/v1/spaces", headers={"authorization": f"Bearer {token}"})
        return result.status


@pytest.mark.slow
async def test_token_created_on_the_command_line_works_until_revoked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(["admin", "token", "create", "--name", "ci"], data).returncode == 1  # no admin
    run(["admin", "create", "--username", "ops", "--password-stdin"], data, "long enough pw 1\n")
    created = run(["admin", "token", "create", "--name", "HR sync"], data)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("dbt_") and len(token) > 40
    assert "不会再次显示" in created.stderr  # the settings' language, zh_CN by default
    listed = run(["admin", "token", "list"], data)
    assert "HR sync" in listed.stdout and "ops" in listed.stdout and "never" in listed.stdout
    assert token not in listed.stdout
    assert await _status_with(data, token) == 200
    token_id = listed.stdout.split("\t", 1)[0]
    assert run(["admin", "token", "revoke", token_id], data).returncode == 0
    assert await _status_with(data, token) == 401
    assert run(["admin", "token", "revoke", token_id], data).returncode == 1
