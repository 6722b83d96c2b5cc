"""``dingbridge admin create`` and ``dingbridge admin rotate-key``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, load_settings


def register(app: typer.Typer) -> None:
    admin = typer.Typer(help="Admin console accounts and the secret key.", no_args_is_help=True)

    @admin.command("create")
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
                typer.echo(f"{name}: {problem}", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"admin {username} created")

    @admin.command("rotate-key")
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

    app.add_typer(admin, name="admin")
