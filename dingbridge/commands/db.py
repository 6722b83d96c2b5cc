"""``dingbridge db upgrade``; also the --data-dir / --database-url options every command takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import typer

from dingbridge.commands.options import settings_option
from dingbridge.settings import ENV_PREFIX, Settings, SettingsError


def server_option(name: str) -> Any:
    """The option of a server setting (declared in dingbridge/settings.py), not given: None."""
    return settings_option(Settings, name, env_prefix=ENV_PREFIX)


DataDirOption = server_option("data_dir")
DatabaseUrlOption = server_option("database_url")


def load_settings(*, database: str | None = "create", **options: Any) -> Settings:
    """Settings from these options > environment > defaults; exits listing every problem.

    ``database``: ``"create"`` (the default) checks that the database can be used or created,
    ``"existing"`` (read-only commands) that it exists, ``None`` looks at its URL only. A
    problem with it is one line in the user's language and exit status 2, before anything is
    written.
    """
    from dingbridge.storage.database_check import url_problem

    try:
        settings = Settings.load(options)
    except SettingsError as exc:
        problems = exc.problems
    else:
        unusable = url_problem(settings.effective_database_url)
        if unusable is not None:
            fail(settings, unusable.template, unusable.params)
        problems = settings.validate()
        if not problems:
            if database is not None:
                check_database_or_exit(settings, create=database == "create")
            return settings
    typer.echo("dingbridge: the settings have problems:", err=True)
    for problem in problems:
        typer.echo(f"  - {problem}", err=True)
    raise typer.Exit(2)


def fail(settings: Settings, template: str, params: dict[str, object], status: int = 2) -> NoReturn:
    """Exit after one line on stderr: ``template`` (a catalog id) in the settings' language."""
    from dingbridge.i18n import translations

    message = translations(settings.language).gettext(template) % params
    typer.echo(f"dingbridge: {message}", err=True)
    raise typer.Exit(status)


def complain(settings: Settings, message: str, *, field: str = "") -> None:
    """One line on stderr in the settings' language: ``message`` is a catalog message (a
    :class:`dingbridge.i18n.Message` or a catalog id); ``field`` names the option it is about."""
    from dingbridge.i18n import translate

    text = translate(message, settings.language)
    typer.echo(f"{field}: {text}" if field else text, err=True)


def check_database_or_exit(settings: Settings, *, create: bool = True) -> None:
    from dingbridge.storage.database_check import DatabaseProblem, check_database

    try:
        check_database(settings.effective_database_url, create=create)
    except DatabaseProblem as problem:
        fail(settings, problem.template, problem.params)


cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)


@cli.command("upgrade")
def upgrade(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Apply the database migrations (the server also does this when it starts)."""
    from dingbridge.storage.migrate import upgrade as run_upgrade

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    revision = run_upgrade(settings.effective_database_url)
    typer.echo(f"database at revision {revision}")


BackupFileArgument = typer.Argument(
    ..., metavar="FILE", help="The new backup file (an existing file is not overwritten)."
)


@cli.command("backup")
def backup(
    target: Path = BackupFileArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Copy the SQLite database to FILE, consistently, while the server runs (PostgreSQL:
    use pg_dump). Restore: stop the servers, put FILE in place of dingbridge.db."""
    from dingbridge.storage.backup import BackupError, backup_database

    settings = load_settings(data_dir=data_dir, database_url=database_url, database="existing")
    try:
        result = backup_database(settings.effective_database_url, target)
    except BackupError as exc:
        typer.echo(f"dingbridge: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"backup written to {result.path} ({result.size} bytes, revision {result.revision})")
