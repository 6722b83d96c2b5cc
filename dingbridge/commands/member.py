"""``dingbridge member import SPACE FILE``, ``member import-dingtalk SPACE``, ``member sync``,
``member disable|enable|delete SPACE MEMBER``."""

from __future__ import annotations

from pathlib import Path

import typer

from dingbridge.commands.db import (
    DatabaseUrlOption,
    DataDirOption,
    complain,
    load_settings,
    server_option,
)
from dingbridge.i18n import N_, Message

CsvFileArgument = typer.Argument(
    ..., exists=True, dir_okay=False, metavar="FILE", help="CSV file (UTF-8 or GBK)."
)


cli = typer.Typer(help="Members of app spaces.", no_args_is_help=True)


@cli.command("import")
def import_(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    file: Path = CsvFileArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Import members from a CSV file (UTF-8 or GBK); all rows or none."""
    from dingbridge.errors import DingbridgeError, ValidationFailed
    from dingbridge.spaces.csv_import import CsvImportFailed
    from dingbridge.spaces.headless import import_members_file

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        report = import_members_file(settings, space_id, file)
    except CsvImportFailed as exc:
        complain(settings, N_("Nothing was imported. Fix these lines and import again:"))
        for problem in exc.report.problems:
            line = Message("  line %(line)s: %(problem)s", line=problem.line, problem=problem.text)
            complain(settings, line)
        raise typer.Exit(1) from None
    except ValidationFailed as exc:
        for name, text in exc.problems.items():
            complain(settings, text, field=name)
        raise typer.Exit(1) from None
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    typer.echo(
        f"{report.rows} rows: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )


@cli.command("import-dingtalk")
def import_dingtalk(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
    dingtalk_api: str | None = server_option("dingtalk_api"),
    dingtalk_oapi: str | None = server_option("dingtalk_oapi"),
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
        complain(settings, getattr(exc, "message", str(exc)))
        raise typer.Exit(1) from None
    except DingTalkError as exc:
        typer.echo(f"DingTalk: {exc}", err=True)
        complain(settings, exc.hint)
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


@cli.command("sync")
def sync(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change; change nothing."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Catch up with the DingTalk directory: disable members who left (their sessions end),
    update names, mobiles and emails. Stops, changing nothing, when it would disable more
    than the space's guard (default 10 %) of its members."""
    from dingbridge.dingtalk import DingTalkError
    from dingbridge.errors import DingbridgeError
    from dingbridge.events.sync_run import describe
    from dingbridge.server_runner import run_directory_sync
    from dingbridge.spaces.directory_import import DirectoryNotConfigured

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        report = run_directory_sync(settings, space_id, dry_run=dry_run)
    except (DingbridgeError, DingTalkError, DirectoryNotConfigured) as exc:
        complain(settings, getattr(exc, "message", None) or str(exc))
        raise typer.Exit(1) from None
    for line in describe(report):
        typer.echo(line)


MemberArgument = typer.Argument(
    ..., metavar="MEMBER", help="The member's number in the space (the console shows it)."
)


def _change_member(
    space_id: int, member_id: int, data_dir: Path | None, database_url: str | None, what: str
) -> None:
    from dingbridge import server_runner
    from dingbridge.errors import DingbridgeError

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        if what == "delete":
            server_runner.delete_member(settings, space_id, member_id)
        else:
            server_runner.set_member_status(settings, space_id, member_id, what)
    except DingbridgeError as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None


@cli.command("disable")
def disable(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    member_id: int = MemberArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Disable a member: every session of theirs ends at once (dingbridge, the gate, the
    tokens apps hold, with back-channel logout) on the servers sharing this KV (kv_url)."""
    _change_member(space_id, member_id, data_dir, database_url, "disabled")
    typer.echo(f"member {member_id} of space {space_id}: disabled")


@cli.command("enable")
def enable(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    member_id: int = MemberArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Enable a disabled member again (they sign in anew)."""
    _change_member(space_id, member_id, data_dir, database_url, "active")
    typer.echo(f"member {member_id} of space {space_id}: active")


@cli.command("delete")
def delete(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    member_id: int = MemberArgument,
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Delete a member and their DingTalk bindings; every session of theirs ends first."""
    _change_member(space_id, member_id, data_dir, database_url, "delete")
    typer.echo(f"member {member_id} of space {space_id}: deleted")
