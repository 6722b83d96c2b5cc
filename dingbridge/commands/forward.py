"""``dingbridge forward`` (the DingTalk API forwarder) and ``dingbridge nginx-conf``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dingbridge.commands.options import settings_options
from dingbridge.forwarder.settings import ForwarderSettings

_PRECEDENCE = "Flags override DINGBRIDGE_FORWARD_* environment variables, which override --config."

Config = Annotated[
    str | None,
    typer.Option(
        help="TOML file with these settings (top level or a forward table). "
        "(env: DINGBRIDGE_FORWARD_CONFIG)",
        metavar="FILE",
    ),
]
ENV_PREFIX = "DINGBRIDGE_FORWARD_"
# The forwarder settings each command offers (all declared in dingbridge/forwarder/settings.py).
UPSTREAM = ["listen", "oapi", "api", "source_address", "token", "token_file", "allow", "ca_file"]
FORWARD = [
    *UPSTREAM,
    "workers",
    "server_names",
    "access_log",
    "max_body_bytes",
    "connect_timeout",
    "read_timeout",
    "write_timeout",
    "pool_timeout",
    "pool_size",
]


def _settings(flags: dict[str, Any], config: str | None) -> Any:
    from dingbridge.forwarder.settings import SettingsError, load_settings

    try:
        return load_settings(flags=flags, config_file=config)
    except SettingsError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None


FORWARD_HELP = f"Run the DingTalk API forwarder (port 888). {_PRECEDENCE}"
NGINX_CONF_HELP = f"Print the equivalent nginx configuration. {_PRECEDENCE}"


@settings_options(ForwarderSettings, FORWARD, env_prefix=ENV_PREFIX)
def forward(given: dict[str, Any], config: Config = None) -> None:
    """Run the DingTalk API forwarder: a drop-in for the vendor guide's nginx (port 888)."""
    import logging

    from dingbridge.forwarder.server import run_forwarder

    settings = _settings(given, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_forwarder(settings, echo=typer.echo)


@settings_options(ForwarderSettings, UPSTREAM, env_prefix=ENV_PREFIX)
def nginx_conf(
    given: dict[str, Any],
    nginx_access_log: Annotated[
        str,
        typer.Option(
            "--access-log", help="nginx access_log path (query strings are never logged)."
        ),
    ] = "logs/dingbridge.log",
    config: Config = None,
) -> None:
    """Print an nginx.conf equivalent to `dingbridge forward` (keepalive, HTTP/1.1, SNI)."""
    from dingbridge.forwarder.nginx_conf import render_nginx_conf

    settings = _settings(given, config)
    try:
        typer.echo(render_nginx_conf(settings, access_log=nginx_access_log), nl=False)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
