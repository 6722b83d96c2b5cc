"""``dingbridge app …``: a space's apps (links, OpenID Connect clients, forward-auth apps)."""

from __future__ import annotations

from pathlib import Path

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, load_settings

cli = typer.Typer(
    help="A space's apps: links, OpenID Connect clients and forward-auth apps.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(cli, name="app")


@cli.command("nginx-conf")
def nginx_conf(
    app_id: int = typer.Argument(..., metavar="APP", help="The forward-auth app's id."),
    listen: str = typer.Option(..., "--listen", help="HOST:PORT nginx listens on (the app's)."),
    upstream: str = typer.Option(
        ..., "--upstream", help="The app itself, e.g. http://127.0.0.1:3000."
    ),
    dingbridge: str = typer.Option(
        ...,
        "--dingbridge",
        help="dingbridge's URL, as nginx reaches it and browsers see it.",
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Print an nginx.conf that puts a forward-auth app behind dingbridge's gate (run it with
    `nginx -p DIR -c FILE`)."""
    from dingbridge.errors import DingbridgeError
    from dingbridge.gate.gate_apps import forward_auth_app
    from dingbridge.gate.nginx_conf import GateConf, render_gate_nginx_conf
    from dingbridge.spaces.headless import run_in_transaction

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        space_id, url = run_in_transaction(
            settings, lambda session: forward_auth_app(session, app_id)
        )
        text = render_gate_nginx_conf(GateConf(space_id, app_id, url, listen, upstream, dingbridge))
    except (DingbridgeError, ValueError) as exc:
        typer.echo(exc.message if isinstance(exc, DingbridgeError) else str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(text, nl=False)
