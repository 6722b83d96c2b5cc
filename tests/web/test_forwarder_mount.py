"""``dingbridge serve --forwarder``: the server forwards its two DingTalk prefixes (only those) to
the DingTalk hosts, here the simulator on a real socket."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dingbridge.app import create_app
from dingbridge.settings import Settings
from dingbridge.sim.defaults import FULL_APP, WHITELIST_APP
from tests.conftest import SimServer
from tests.web.conftest import AsgiClient


async def _client(settings: Settings) -> AsyncIterator[AsgiClient]:
    app = create_app(settings, announce=lambda _m: None)
    async with app.router.lifespan_context(app):
        yield AsgiClient(app)


def _settings(tmp_path: Path, sim: SimServer, **changes: Any) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        dingtalk_api=sim.url,
        dingtalk_oapi=sim.url,
        **changes,
    )


@pytest.fixture
async def forwarding(tmp_path: Path, sim_server: SimServer) -> AsyncIterator[AsgiClient]:
    async for client in _client(_settings(tmp_path, sim_server, forwarder=True)):
        yield client


def _gettoken(app_key: str, secret: str) -> str:
    return f"/oapi-dingtalk-com/gettoken?appkey={app_key}&appsecret={secret}"


async def test_both_prefixes_reach_dingtalk(
    forwarding: AsgiClient, sim_server: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    oapi = await forwarding.get(_gettoken(FULL_APP.app_key, FULL_APP.app_secret))
    assert oapi.status == 200 and oapi.json()["errcode"] == 0 and oapi.json()["access_token"]
    api = await forwarding.post(
        "/api-dingtalk-com/v1.0/oauth2/accessToken",
        headers={"content-type": "application/json"},
        body=json.dumps({"appKey": FULL_APP.app_key, "appSecret": FULL_APP.app_secret}).encode(),
    )
    assert api.status == 200 and api.json()["accessToken"]
    paths = [entry.path for entry in sim_server.state.request_log]
    assert "/gettoken" in paths and "/v1.0/oauth2/accessToken" in paths
    assert FULL_APP.app_secret not in caplog.text
    metrics = (await forwarding.get("/metrics")).text
    assert 'dingbridge_forward_requests_total{route="oapi",status="200"} 1' in metrics


async def test_nothing_else_is_forwarded(forwarding: AsgiClient, sim_server: SimServer) -> None:
    # The seed's nginx forwards "/" to oapi too; the server keeps "/" for itself.
    plain = await forwarding.get(f"/gettoken?appkey={FULL_APP.app_key}&appsecret=x")
    assert plain.status == 404
    assert (await forwarding.get("/v1.0/contact/users/me")).status == 404
    assert (await forwarding.get("/healthz")).json() == {"status": "ok"}  # the server's own
    tricks = await forwarding.get("/api-dingtalk-com/../admin/spaces")
    assert tricks.status == 400
    assert sim_server.state.request_log == [] or all(
        entry.path != "/admin/spaces" for entry in sim_server.state.request_log
    )
    assert all(entry.path != "/gettoken" for entry in sim_server.state.request_log)


async def test_source_address_is_what_dingtalk_sees(tmp_path: Path, sim_server: SimServer) -> None:
    url = _gettoken(WHITELIST_APP.app_key, WHITELIST_APP.app_secret)
    async for direct in _client(_settings(tmp_path / "a", sim_server, forwarder=True)):
        refused = (await direct.get(url)).json()
        assert refused["errcode"] == 60020 and "127.0.0.1" in refused["errmsg"]
    settings = _settings(
        tmp_path / "b", sim_server, forwarder=True, forwarder_source_address="127.0.0.2"
    )
    async for whitelisted in _client(settings):
        answer = (await whitelisted.get(url)).json()
        assert answer["errcode"] == 0 and answer["access_token"]


async def test_without_the_option_the_prefixes_are_not_served(
    tmp_path: Path, sim_server: SimServer
) -> None:
    async for client in _client(_settings(tmp_path, sim_server)):
        result = await client.get(_gettoken(FULL_APP.app_key, FULL_APP.app_secret))
        assert result.status == 404
    assert sim_server.state.request_log == []


def test_a_bad_source_address_is_a_settings_problem(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, forwarder=True, forwarder_source_address="not-an-ip")
    assert any("forwarder_source_address" in p for p in settings.validate())


def test_the_options_come_from_the_environment_too(tmp_path: Path) -> None:
    settings = Settings.load(
        {"data_dir": tmp_path},
        environ={"DINGBRIDGE_FORWARDER": "1", "DINGBRIDGE_FORWARDER_SOURCE_ADDRESS": "127.0.0.2"},
    )
    assert settings.forwarder and settings.forwarder_source_address == "127.0.0.2"


async def test_mounted_forwarder_can_require_a_token_and_an_address(
    tmp_path: Path, sim_server: SimServer
) -> None:
    # A forwarder on a whitelisted IP is worth abusing: the mounted one takes the same caller
    # checks as `dingbridge forward` (the in-process client's peer is 127.0.0.1 here).
    settings = _settings(
        tmp_path, sim_server, forwarder=True, forwarder_caller_token="mount-token-123456"
    )
    async for client in _client(settings):
        url = _gettoken(FULL_APP.app_key, FULL_APP.app_secret)
        assert (await client.get(url)).status == 401
        ok = await client.get(url, headers={"X-Dingbridge-Token": "mount-token-123456"})
        assert ok.status == 200 and ok.json()["errcode"] == 0
    settings = _settings(
        tmp_path, sim_server, forwarder=True, forwarder_allow="10.0.0.0/8, 192.168.0.0/16"
    )
    async for client in _client(settings):
        assert (await client.get(_gettoken(FULL_APP.app_key, FULL_APP.app_secret))).status == 403


def test_a_bad_forwarder_allow_entry_is_a_settings_problem(tmp_path: Path) -> None:
    problems = Settings(data_dir=tmp_path, forwarder_allow="10.0.0.0/8,not-a-net").validate()
    assert any("forwarder_allow" in p and "not-a-net" in p for p in problems)
