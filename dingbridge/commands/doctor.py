"""``dingbridge doctor [SPACE]`` and ``dingbridge member import-dingtalk SPACE``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, fail, load_settings
from dingbridge.commands.options import settings_option
from dingbridge.settings import ENV_PREFIX, Settings


def _option(name: str, flag: str) -> Any:
    return settings_option(Settings, name, env_prefix=ENV_PREFIX)


def _member_group(app: typer.Typer) -> typer.Typer:
    """The ``member`` command group (registered by dingbridge.commands.member), or a new one."""
    for info in reversed(app.registered_groups):  # the latest wins, as in click
        if info.name == "member" and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help="Members of app spaces.", no_args_is_help=True)
    app.add_typer(group, name="member")
    return group


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        space_id: int | None = typer.Argument(
            None, metavar="[SPACE]", help="The space id (default: every space)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print every result as JSON."),
        lang: str = typer.Option("zh_CN", "--lang", help="zh_CN (default) or en."),
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
        external_url: str | None = _option("external_url", "--external-url"),
        dingtalk_api: str | None = _option("dingtalk_api", "--dingtalk-api"),
        dingtalk_oapi: str | None = _option("dingtalk_oapi", "--dingtalk-oapi"),
        dingtalk_login: str | None = _option("dingtalk_login", "--dingtalk-login"),
    ) -> None:
        """Check a space's DingTalk setup step by step and say what to fix.

        Exit status 1 when a check fails (2 when the server settings are invalid)."""
        from rich.console import Console

        from dingbridge.doctor.report import print_reports, reports_json
        from dingbridge.doctor.space_checks import doctor_spaces
        from dingbridge.errors import DingbridgeError
        from dingbridge.i18n import translations
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
            typer.echo(exc.message, err=True)
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
            typer.echo("没有应用空间。" if lang == "zh_CN" else "There are no app spaces.")
        else:
            print_reports(reports, Console(highlight=False), lang)
        if any(report.failed for report in reports):
            raise typer.Exit(1)

    member = _member_group(app)

    @member.command("import-dingtalk")
    def import_dingtalk(
        space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
        dingtalk_api: str | None = _option("dingtalk_api", "--dingtalk-api"),
        dingtalk_oapi: str | None = _option("dingtalk_oapi", "--dingtalk-oapi"),
    ) -> None:
        """Import members from the space's DingTalk directory (re-runnable, never duplicates).

        Users DingTalk shows without a mobile are listed, not imported."""
        from dingbridge.dingtalk import DingTalkError
        from dingbridge.errors import DingbridgeError
        from dingbridge.spaces.directory_import import (
            DirectoryNotConfigured,
            ImportProgress,
            import_dingtalk_directory,
        )

        settings = load_settings(
            data_dir=data_dir,
            database_url=database_url,
            dingtalk_api=dingtalk_api,
            dingtalk_oapi=dingtalk_oapi,
        )

        def show(p: ImportProgress) -> None:
            if p.phase == "walking":
                typer.echo(
                    f"departments {p.departments_done}/{p.departments_found}, "
                    f"users seen {p.users_seen}",
                    err=True,
                )

        try:
            report = import_dingtalk_directory(settings, space_id, progress=show)
        except (DingbridgeError, DirectoryNotConfigured) as exc:
            typer.echo(getattr(exc, "message", str(exc)), err=True)
            raise typer.Exit(1) from None
        except DingTalkError as exc:
            typer.echo(f"DingTalk: {exc}\n{exc.explanation_en}", err=True)
            raise typer.Exit(1) from None
        p = report.progress
        typer.echo(
            f"{p.users_seen} DingTalk users in {p.departments_done} departments: "
            f"{p.created} created, {p.updated} updated, {p.unchanged} unchanged, "
            f"{p.skipped_without_mobile} without a mobile, "
            f"{p.skipped_invalid_mobile} with an invalid mobile, {p.conflicts} conflicts"
        )
        if report.without_mobile:
            typer.echo(
                "Not imported, DingTalk showed no mobile (grant the app the 企业员工手机号信息 "
                "field permission: 权限管理 → search 企业员工手机号信息 → 开通):"
            )
        for skipped in report.skipped:
            typer.echo(f"  {skipped.userid}\t{skipped.name}\t{skipped.reason}")
