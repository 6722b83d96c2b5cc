"""``dingbridge app …``: a space's apps (links, OpenID Connect clients, forward-auth apps)."""

from __future__ import annotations

from pathlib import Path

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption

cli = typer.Typer(
    help="A space's apps: links, OpenID Connect clients and forward-auth apps.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(cli, name="app")


# -- the OpenID provider's signing keys (keep at the end of the module) --------------------
@cli.command("rotate-keys")
def rotate_keys(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The app space, e.g. 10001."),
    alg: str = typer.Option(
        "RS256", "--alg", help="Signing algorithm of the new key: RS256 (default) or ES256."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """A new ID-token signing key for a space's OpenID Connect apps; the old keys stay in the
    space's JWKS until the tokens they signed have expired."""
    from dingbridge.commands.db import load_settings
    from dingbridge.errors import DingbridgeError
    from dingbridge.oidc.headless import rotate_space_keys

    if alg not in ("RS256", "ES256"):
        typer.echo("--alg must be RS256 or ES256", err=True)
        raise typer.Exit(2)
    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        kid = rotate_space_keys(settings, space_id, alg)
    except DingbridgeError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"space {space_id}: new signing key {kid} ({alg}); apps fetch it from the JWKS")
