"""``dingbridge db upgrade``; also the --data-dir / --database-url options every command takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dingbridge.settings import Settings, SettingsError, field_help

DataDirOption = typer.Option(None, "--data-dir", help=field_help("data_dir"), show_default=False)
DatabaseUrlOption = typer.Option(
    None, "--database-url", help=field_help("database_url"), show_default=False
)


def load_settings(**options: Any) -> Settings:
    """Settings from these options > environment > defaults; exits listing every problem."""
    try:
        settings = Settings.load(options)
    except SettingsError as exc:
        problems = exc.problems
    else:
        problems = settings.validate()
        if not problems:
            return settings
    typer.echo("dingbridge: the settings have problems:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database maintenance.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade(
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
    ) -> None:
        """Apply the database migrations (the server also does this when it starts)."""
        from dingbridge.storage.migrate import upgrade as run_upgrade

        settings = load_settings(data_dir=data_dir, database_url=database_url)
        revision = run_upgrade(settings.effective_database_url)
        typer.echo(f"database at revision {revision}")

    app.add_typer(db, name="db")
