"""``dingbridge serve``: the server (admin console, app spaces, sign-in)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dingbridge.commands.db import (
    DatabaseUrlOption,
    DataDirOption,
    check_database_or_exit,
    fail,
    load_settings,
)
from dingbridge.settings import field_help


def N_(message: str) -> str:
    return message


PORT_IN_USE = N_(
    "Cannot listen on %(host)s:%(port)s (%(reason)s): another program, or another dingbridge, "
    "is using the port. Stop it or choose another --port."
)


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
        from dingbridge.server_runner import PortInUse, listening_socket, run_server

        settings = load_settings(
            database=None,
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
        # The port first: nothing (data folder, secret key, migrations, setup link) for a
        # server that cannot listen.
        try:
            sock = listening_socket(settings.host, settings.port)
        except PortInUse as exc:
            fail(settings, PORT_IN_USE, {"host": exc.host, "port": exc.port, "reason": exc.reason})
        try:
            check_database_or_exit(settings)
        except typer.Exit:
            sock.close()
            raise
        run_server(settings, sock)
