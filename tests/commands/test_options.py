"""Command-line options generated from the settings declarations."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from dingbridge.commands.options import settings_options
from dingbridge.setting_fields import find
from dingbridge.settings import ENV_PREFIX, Settings
from tests.commands.conftest import Cli


def _probe() -> tuple[typer.Typer, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    app = typer.Typer()

    @app.command()
    @settings_options(Settings, ["port", "development", "data_dir"], env_prefix=ENV_PREFIX)
    def probe(given: dict[str, Any]) -> None:
        seen.append(given)

    return app, seen


def test_an_option_left_out_is_not_given() -> None:
    app, seen = _probe()
    assert CliRunner().invoke(app, []).exit_code == 0
    assert seen[-1] == {"port": None, "development": None, "data_dir": None}
    assert CliRunner().invoke(app, ["--port", "9100", "--production"]).exit_code == 0
    assert seen[-1]["port"] == 9100 and seen[-1]["development"] is False


def test_serve_help_is_the_declarations(cli: Cli) -> None:
    text = " ".join(cli("serve", "--help", env={"COLUMNS": "200"}).stdout.split())
    for name in ("host", "port", "kv_url", "development", "forwarder_allow"):
        item = find(Settings, name)
        assert item.spec.help in text, name
        assert f"(env: DINGBRIDGE_{name.upper()})" in text
    assert "[default: 127.0.0.1]" in text and "[default: 8000]" in text
    assert "[default: ./data]" in text and "--development --production" in text


def test_the_environment_still_counts_when_an_option_is_left_out(cli: Cli) -> None:
    result = cli("space", "list", env={"DINGBRIDGE_DATABASE_URL": "sqlite://nowhere.db"})
    assert result.exit_code == 2 and "sqlite:///nowhere.db" in result.stderr
