"""``dingbridge forward`` (the DingTalk API forwarder) and ``dingbridge nginx-conf``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

_PRECEDENCE = "Flags override DINGBRIDGE_FORWARD_* environment variables, which override --config."

Listen = Annotated[str | None, typer.Option(help="HOST:PORT to listen on (default: 0.0.0.0:888).")]
Oapi = Annotated[
    str | None, typer.Option(help="oapi upstream (default: https://oapi.dingtalk.com).")
]
Api = Annotated[str | None, typer.Option(help="api upstream (default: https://api.dingtalk.com).")]
SourceAddress = Annotated[
    str | None, typer.Option(help="Bind outgoing connections to this local IP (the whitelisted).")
]
Token = Annotated[str | None, typer.Option(help="Require this X-Dingbridge-Token from callers.")]
TokenFile = Annotated[str | None, typer.Option(help="Read the caller token from this file.")]
Allow = Annotated[
    list[str] | None,
    typer.Option(help="Allow callers only from this CIDR (repeatable; default: anyone)."),
]
CaFile = Annotated[
    str | None, typer.Option(help="CA bundle for upstream TLS (default: system store).")
]
Config = Annotated[
    str | None, typer.Option(help="TOML file with these settings (top level or a forward table).")
]


def _settings(flags: dict[str, Any], config: str | None) -> Any:
    from dingbridge.forwarder.settings import SettingsError, load_settings

    try:
        return load_settings(flags=flags, config_file=config)
    except SettingsError as exc:
        for problem in exc.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    @app.command("forward", help=f"Run the DingTalk API forwarder (port 888). {_PRECEDENCE}")
    def forward(
        listen: Listen = None,
        oapi: Oapi = None,
        api: Api = None,
        source_address: SourceAddress = None,
        token: Token = None,
        token_file: TokenFile = None,
        allow: Allow = None,
        ca_file: CaFile = None,
        workers: Annotated[
            int | None, typer.Option(help="Worker processes (Linux) (default: 1).")
        ] = None,
        server_name: Annotated[
            list[str] | None,
            typer.Option(help="A name of this forwarder accepted in absolute URLs (repeatable)."),
        ] = None,
        access_log: Annotated[
            str | None, typer.Option(help="'-' (stderr, default), a file path, or 'off'.")
        ] = None,
        max_body_bytes: Annotated[
            int | None, typer.Option(help="Largest request body (default: 32 MiB).")
        ] = None,
        connect_timeout: Annotated[
            float | None, typer.Option(help="Upstream connect+TLS seconds (default: 5).")
        ] = None,
        read_timeout: Annotated[
            float | None, typer.Option(help="Seconds the upstream may stay silent (default: 30).")
        ] = None,
        write_timeout: Annotated[
            float | None, typer.Option(help="Seconds a write upstream may stall (default: 30).")
        ] = None,
        pool_timeout: Annotated[
            float | None, typer.Option(help="Seconds to wait for a pool slot (default: 5).")
        ] = None,
        pool_size: Annotated[
            int | None, typer.Option(help="Max connections per upstream (default: 128).")
        ] = None,
        config: Config = None,
    ) -> None:
        """Run the DingTalk API forwarder: a drop-in for the vendor guide's nginx on port 888."""
        import logging

        from dingbridge.forwarder.server import run_forwarder

        flags = {
            "listen": listen,
            "oapi": oapi,
            "api": api,
            "source_address": source_address,
            "token": token,
            "token_file": token_file,
            "allow": tuple(allow or ()),
            "ca_file": ca_file,
            "workers": workers,
            "server_names": tuple(server_name or ()),
            "access_log": access_log,
            "max_body_bytes": max_body_bytes,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "pool_timeout": pool_timeout,
            "pool_size": pool_size,
        }
        settings = _settings(flags, config)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
        run_forwarder(settings, echo=typer.echo)

    @app.command("nginx-conf", help=f"Print the equivalent nginx configuration. {_PRECEDENCE}")
    def nginx_conf(
        listen: Listen = None,
        oapi: Oapi = None,
        api: Api = None,
        source_address: SourceAddress = None,
        token: Token = None,
        token_file: TokenFile = None,
        allow: Allow = None,
        ca_file: CaFile = None,
        access_log: Annotated[
            str, typer.Option(help="nginx access_log path (query strings are never logged).")
        ] = "logs/dingbridge.log",
        config: Config = None,
    ) -> None:
        """Print an nginx.conf equivalent to `dingbridge forward` (keepalive, HTTP/1.1, SNI)."""
        from dingbridge.forwarder.nginx_conf import render_nginx_conf

        flags = {
            "listen": listen,
            "oapi": oapi,
            "api": api,
            "source_address": source_address,
            "token": token,
            "token_file": token_file,
            "allow": tuple(allow or ()),
            "ca_file": ca_file,
        }
        settings = _settings(flags, config)
        try:
            typer.echo(render_nginx_conf(settings, access_log=access_log), nl=False)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
