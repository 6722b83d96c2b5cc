"""``dingbridge app …``: a space's apps (links, OpenID Connect clients, forward-auth apps)."""

from __future__ import annotations

import typer

cli = typer.Typer(
    help="A space's apps: links, OpenID Connect clients and forward-auth apps.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(cli, name="app")
