"""``dingbridge serve``: the server (admin console, app spaces, sign-in)."""

from __future__ import annotations

from typing import Any

import typer

from dingbridge.commands.db import check_database_or_exit, fail, load_settings
from dingbridge.commands.options import settings_options
from dingbridge.settings import ENV_PREFIX, Settings


def N_(message: str) -> str:
    return message


PORT_IN_USE = N_(
    "Cannot listen on %(host)s:%(port)s (%(reason)s): another program, or another dingbridge, "
    "is using the port. Stop it or choose another --port."
)


# The settings `serve` offers as options (the others: environment variables, docs/server.md).
OPTIONS = [
    "host",
    "port",
    "data_dir",
    "database_url",
    "external_url",
    "kv_url",
    "trusted_proxies",
    "dingtalk_api",
    "dingtalk_oapi",
    "dingtalk_login",
    "jsapi_url",
    "development",
    "forwarder",
    "forwarder_source_address",
    "forwarder_allow",
    "log_level",
]


@settings_options(Settings, OPTIONS, env_prefix=ENV_PREFIX)
def serve(given: dict[str, Any]) -> None:
    """Run the server: admin console at /admin/, each app space at /<id>/."""
    from dingbridge.server_runner import PortInUse, listening_socket, run_server

    settings = load_settings(database=None, **given)
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
