"""``dingbridge serve``: the server (admin console, app spaces, sign-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, load_settings
from dingbridge.settings import field_help


def _option(name: str, flag: str) -> Any:
    return typer.Option(None, flag, help=field_help(name), show_default=False)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str | None = _option("host", "--host"),
        port: int | None = _option("port", "--port"),
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
        external_url: str | None = _option("external_url", "--external-url"),
        kv_url: str | None = _option("kv_url", "--kv-url"),
        dingtalk_api: str | None = _option("dingtalk_api", "--dingtalk-api"),
        dingtalk_oapi: str | None = _option("dingtalk_oapi", "--dingtalk-oapi"),
        dingtalk_login: str | None = _option("dingtalk_login", "--dingtalk-login"),
        jsapi_url: str | None = _option("jsapi_url", "--jsapi-url"),
        development: bool | None = typer.Option(
            None, "--development/--production", help=field_help("development"), show_default=False
        ),
        forwarder: bool | None = typer.Option(
            None, "--forwarder/--no-forwarder", help=field_help("forwarder"), show_default=False
        ),
        forwarder_source_address: str | None = _option(
            "forwarder_source_address", "--forwarder-source-address"
        ),
        forwarder_allow: str | None = _option("forwarder_allow", "--forwarder-allow"),
    ) -> None:
        """Run the server: admin console at /admin/, each app space at /<id>/."""
        from dingbridge.server_runner import run_server

        settings = load_settings(
            host=host,
            port=port,
            data_dir=data_dir,
            database_url=database_url,
            external_url=external_url,
            kv_url=kv_url,
            dingtalk_api=dingtalk_api,
            dingtalk_oapi=dingtalk_oapi,
            dingtalk_login=dingtalk_login,
            jsapi_url=jsapi_url,
            development=development,
            forwarder=forwarder,
            forwarder_source_address=forwarder_source_address,
            forwarder_allow=forwarder_allow,
        )
        run_server(settings)
