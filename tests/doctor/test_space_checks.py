"""The doctor on stored spaces: settings loaded from the database, the egress IP DingTalk
named saved for the console, the real server's space URL checked, ``dingbridge doctor``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from dingbridge.app import create_app
from dingbridge.cli import app as cli_app
from dingbridge.dingtalk import AiohttpTransport, ASGITransport
from dingbridge.doctor import Status, space_checks
from dingbridge.settings import Settings, secret_keys
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP, DemoApp
from dingbridge.spaces.dingtalk_settings import DingTalkInput, load_dingtalk
from dingbridge.spaces.headless import configure_dingtalk, create_space
from dingbridge.spaces.secret_box import SecretBox
from dingbridge.storage.db import Database
from dingbridge.storage.migrate import upgrade
from tests.conftest import SimServer
from tests.doctor.conftest import by_id


def make_settings(tmp_path: Path, base: str, **changes: Any) -> Settings:
    return Settings(
        data_dir=tmp_path,
        dingtalk_api=base,
        dingtalk_oapi=base,
        dingtalk_login=base,
        **changes,
    )


def set_up_space(settings: Settings, app: DemoApp, *, enabled: bool = True, **changes: Any) -> int:
    space_id = create_space(settings, "销售部")
    data = DingTalkInput(
        enabled=enabled,
        corp_name="示例科技有限公司",
        corp_id=app.corp_id,
        agent_id=str(app.agent_id),
        app_key=app.app_key,
        app_secret=app.app_secret,
        api_version="v2",
    )
    configure_dingtalk(settings, space_id, DingTalkInput(**{**data.__dict__, **changes}))
    return space_id


@dataclass
class Context:
    """What the console's AppContext offers run_connection_checks."""

    settings: Settings
    db: Database
    secret_box: SecretBox
    signin: Any = None


@pytest.fixture
async def db_for(tmp_path: Path) -> AsyncIterator[Any]:
    opened: list[Database] = []

    def open_db(settings: Settings) -> Database:
        db = Database(settings.effective_database_url)
        opened.append(db)
        return db

    yield open_db
    for db in opened:
        await db.dispose()


async def test_connection_saves_the_egress_ip_dingtalk_named(
    tmp_path: Path, sim_app: Any, db_for: Any
) -> None:
    settings = make_settings(tmp_path, "http://sim.test")
    space_id = await asyncio.to_thread(set_up_space, settings, WHITELIST_APP)
    db = db_for(settings)
    # The server's shared DingTalk transport (context.signin.clients) is used when present.
    signin = SimpleNamespace(clients=SimpleNamespace(transport=ASGITransport(sim_app)))
    context = Context(settings, db, SecretBox(secret_keys(settings)), signin)
    results = await space_checks.run_connection_checks(context, space_id)
    assert by_id(results)["ip_whitelist"].status is Status.FAIL
    async with db.session() as session:
        stored = await load_dingtalk(session, space_id)
    assert stored.egress_ip_seen == "127.0.0.1"


async def test_results_never_carry_the_app_secret(
    tmp_path: Path, sim_app: Any, db_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = make_settings(tmp_path, "http://sim.test")
    space_id = await asyncio.to_thread(
        set_up_space, settings, FULL_APP, app_secret="sim-secret-wrong-value-77"
    )
    report = await space_checks.check_space(
        db_for(settings),
        settings,
        SecretBox(secret_keys(settings)),
        space_id,
        transport=ASGITransport(sim_app),
    )
    assert by_id(report.results)["credentials"].data["wrong"] == "app_secret"
    dumped = json.dumps(report.as_dict(), ensure_ascii=False)
    assert "sim-secret-wrong-value-77" not in dumped
    assert "sim-secret-wrong-value-77" not in caplog.text
    assert "sim-secret" not in repr(space_checks.doctor_config_for)


SERVER_URL = "http://apps.example.test"


@pytest.fixture
async def server(tmp_path: Path, sim_server: SimServer) -> AsyncIterator[tuple[Settings, Any]]:
    """The real dingbridge server app (in-process), its DingTalk hosts at the simulator."""
    settings = make_settings(tmp_path, sim_server.url, external_url=SERVER_URL)
    app = create_app(settings, announce=lambda _message: None)
    yield settings, app
    await app.state.context.signin.aclose()
    await app.state.context.db.dispose()


async def test_every_check_passes_for_a_good_space_on_the_real_server(
    server: tuple[Settings, Any], db_for: Any
) -> None:
    settings, app = server
    space_id = await asyncio.to_thread(set_up_space, settings, FULL_APP)
    transport = AiohttpTransport()
    try:
        report = await space_checks.check_space(
            db_for(settings),
            settings,
            SecretBox(secret_keys(settings)),
            space_id,
            transport=transport,
            site_transport=ASGITransport(app),
        )
    finally:
        await transport.aclose()
    assert {r.id: r.status for r in report.results} == {r.id: Status.PASS for r in report.results}
    assert by_id(report.results)["home_url"].data["url"] == f"{SERVER_URL}/{space_id}/"


async def test_a_disabled_space_fails_the_home_url_check(
    server: tuple[Settings, Any], db_for: Any
) -> None:
    settings, app = server
    space_id = await asyncio.to_thread(set_up_space, settings, FULL_APP)
    db = db_for(settings)
    async with db.transaction() as session:
        from dingbridge.spaces.store import set_space_enabled

        await set_space_enabled(session, space_id, False, actor="test")
    report = await space_checks.check_space(
        db,
        settings,
        SecretBox(secret_keys(settings)),
        space_id,
        site_transport=ASGITransport(app),  # DingTalk calls: the simulator over a socket
    )
    home = by_id(report.results)["home_url"]
    assert home.status is Status.FAIL
    assert home.cause is not None and "answers 404" in home.cause.en


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(cli_app, list(args))


def test_cli_json_lists_every_field_and_fails_with_status_1(
    sim_server: SimServer, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, sim_server.url)
    space_id = set_up_space(settings, FULL_APP, agent_id="3001002")
    hosts = ["--dingtalk-api", sim_server.url, "--dingtalk-oapi", sim_server.url]
    result = run_cli("doctor", str(space_id), "--json", "--data-dir", str(tmp_path), *hosts)
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["ok"] is False
    checks = {c["id"]: c for c in data["spaces"][0]["checks"]}
    agent = checks["agent_id"]
    assert set(agent) == {"id", "title_zh", "title_en", "status", "cause", "fix", "detail", "data"}
    assert agent["status"] == "fail" and agent["title_zh"] == "AgentId 属于此应用"
    assert "凭证与基础信息" in agent["fix"]["zh_CN"] and "AgentId" in agent["fix"]["en"]


def test_cli_text_report_in_both_languages(sim_server: SimServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sim_server.url)
    set_up_space(settings, FULL_APP)
    other = set_up_space(settings, FULL_APP, enabled=False)
    hosts = ["--dingtalk-api", sim_server.url, "--dingtalk-oapi", sim_server.url]
    zh = run_cli("doctor", "--data-dir", str(tmp_path), *hosts)
    assert zh.exit_code == 0, zh.output
    assert "✓ 1. 配置完整" in zh.output and "✓ 7. CorpId 属于此应用的企业" in zh.output
    assert f"应用空间 {other}" in zh.output and "未开通钉钉授权" in zh.output
    en = run_cli("doctor", "--lang", "en", "--data-dir", str(tmp_path), *hosts)
    assert "✓ 3. AppKey and AppSecret valid" in en.output
    assert "– 8. Redirect URL / home page reachable" in en.output


def test_cli_names_the_fix_for_a_failing_space(sim_server: SimServer, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, sim_server.url)
    space_id = set_up_space(settings, WHITELIST_APP)
    hosts = ["--dingtalk-api", sim_server.url, "--dingtalk-oapi", sim_server.url]
    result = run_cli("doctor", str(space_id), "--lang", "en", "--data-dir", str(tmp_path), *hosts)
    assert result.exit_code == 1
    assert "✗ 4. Egress IP whitelisted" in result.output
    assert "IP 127.0.0.1" in result.output and "服务器出口IP" in result.output


def test_cli_unknown_space(tmp_path: Path) -> None:
    upgrade(Settings(data_dir=tmp_path).effective_database_url)  # a database, of no such space
    result = run_cli("doctor", "10099", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "10099" in result.output


async def test_connection_checks_the_url_the_browser_used(
    server: tuple[Settings, Any], db_for: Any
) -> None:
    settings, app = server
    space_id = await asyncio.to_thread(set_up_space, settings, FULL_APP)
    no_external = settings.replace(external_url=None)
    context = Context(no_external, db_for(settings), SecretBox(secret_keys(settings)))
    results = by_id(
        await space_checks.run_connection_checks(
            context,
            space_id,
            base_url="http://console.example.test/",
            site_transport=ASGITransport(app),
        )
    )
    assert results["home_url"].status is Status.PASS
    assert results["home_url"].data["url"] == f"http://console.example.test/{space_id}/"
    assert not any(r.failed for r in results.values())
