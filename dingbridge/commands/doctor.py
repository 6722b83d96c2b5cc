"""``dingbridge doctor [SPACE]``: check spaces' DingTalk setup and say what to fix."""

from __future__ import annotations

from pathlib import Path

import typer

from dingbridge.commands.db import (
    DatabaseUrlOption,
    DataDirOption,
    complain,
    fail,
    load_settings,
    server_option,
)


def doctor(
    space_id: int | None = typer.Argument(
        None, metavar="SPACE", help="The space id (default: every space)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every result as JSON."),
    lang: str = typer.Option("zh_CN", "--lang", help="zh_CN (default) or en."),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
    external_url: str | None = server_option("external_url"),
    dingtalk_api: str | None = server_option("dingtalk_api"),
    dingtalk_oapi: str | None = server_option("dingtalk_oapi"),
    dingtalk_login: str | None = server_option("dingtalk_login"),
) -> None:
    """Check a space's DingTalk setup step by step and say what to fix.

    Exit status 1 when a check fails (2 when the server settings are invalid)."""
    from rich.console import Console

    from dingbridge.doctor.report import print_reports, reports_json
    from dingbridge.doctor.space_checks import doctor_spaces
    from dingbridge.errors import DingbridgeError
    from dingbridge.i18n import N_, translate, translations
    from dingbridge.storage.database_check import DatabaseProblem, shown_url

    if lang not in ("zh_CN", "en"):
        typer.echo("--lang must be zh_CN or en", err=True)
        raise typer.Exit(2)
    settings = load_settings(
        database="existing",  # read-only: never create a database
        language=lang,
        data_dir=data_dir,
        database_url=database_url,
        external_url=external_url,
        dingtalk_api=dingtalk_api,
        dingtalk_oapi=dingtalk_oapi,
        dingtalk_login=dingtalk_login,
    )
    try:
        reports = doctor_spaces(settings, None if space_id is None else [space_id])
    except DatabaseProblem as problem:
        fail(settings, problem.template, problem.params)
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    database = shown_url(settings.effective_database_url)
    if as_json:
        typer.echo(reports_json(reports, database=database))
        if any(report.failed for report in reports):
            raise typer.Exit(1)
        return
    typer.echo(translations(lang).gettext("Database: %(url)s") % {"url": database})
    typer.echo()
    if not reports:
        typer.echo(translate(N_("There are no app spaces."), lang))
    else:
        print_reports(reports, Console(highlight=False), lang)
    if any(report.failed for report in reports):
        raise typer.Exit(1)
