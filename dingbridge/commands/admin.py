"""``dingbridge admin create``, ``admin rotate-key`` and ``admin token create|list|revoke``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, complain, load_settings
from dingbridge.i18n import N_

cli = typer.Typer(help="Admin console accounts and the secret key.", no_args_is_help=True)
token_cli = typer.Typer(help="API tokens for the JSON API (/api/v1/).", no_args_is_help=True)
cli.add_typer(token_cli, name="token")


@cli.command("create")
def create(
    username: str = typer.Option(..., "--username", help="The new admin's user name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Create an admin account (asks for the password unless --password-stdin)."""
    from dingbridge.errors import ValidationFailed
    from dingbridge.spaces.headless import create_admin_account

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_admin_account(settings, username, password)
    except ValidationFailed as exc:
        for name, problem in exc.problems.items():
            complain(settings, problem, field=name)
        raise typer.Exit(1) from None
    typer.echo(f"admin {username} created")


@cli.command("rotate-key")
def rotate_key(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Make a new secret key current and re-encrypt every AppSecret with it.

    The previous key is kept as the second line of <data folder>/secret.key, so servers
    still running with it keep working; restart them to pick up the new key.
    """
    import secrets

    from dingbridge.spaces.headless import reencrypt_secrets, rotate_secret_key

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    if settings.secret_key:
        count = reencrypt_secrets(settings)
        typer.echo(f"re-encrypted {count} AppSecret(s) with DINGBRIDGE_SECRET_KEY")
        return
    count = rotate_secret_key(settings, secrets.token_urlsafe(32))
    typer.echo(f"new secret key written; re-encrypted {count} AppSecret(s)")


@token_cli.command("create")
def token_create(
    name: str = typer.Option(..., "--name", help="What uses the token, e.g. 'HR sync'."),
    username: str | None = typer.Option(
        None, "--username", help="The admin it acts as (default: the only admin)."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Create an API token and print it (only this once; it is stored hashed)."""
    from dingbridge.accounts.api_tokens import create_token_headless
    from dingbridge.errors import ValidationFailed

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        value = create_token_headless(settings, name, username)
    except ValidationFailed as exc:
        for field, problem in exc.problems.items():
            complain(settings, problem, field=field)
        raise typer.Exit(1) from None
    typer.echo(value)
    complain(
        settings,
        N_("Keep it now: it is not shown again. Send it as: Authorization: Bearer <token>"),
    )


@token_cli.command("list")
def token_list(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """List the API tokens (id, name, admin, created, last used); never the tokens."""
    from dingbridge.accounts.api_tokens import list_tokens_headless

    settings = load_settings(database="existing", data_dir=data_dir, database_url=database_url)
    for info in list_tokens_headless(settings):
        used = info.last_used_at.strftime("%Y-%m-%d %H:%M") if info.last_used_at else "never"
        created = info.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{info.id}\t{info.name}\t{info.username}\t{created}\t{used}")


@token_cli.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(
        ..., metavar="TOKEN_ID", help="The id shown by `admin token list`."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Revoke an API token: calls with it are refused from now on."""
    from dingbridge.accounts.api_tokens import revoke_token_headless
    from dingbridge.errors import NotFound

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        revoke_token_headless(settings, token_id)
    except NotFound as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    typer.echo(f"API token {token_id} revoked")
