"""``dingbridge space create|list|dingtalk``: app spaces without the browser."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, complain, load_settings


def _field(flag: str, help_text: str) -> Any:
    """An optional DingTalk setting: not given keeps the saved value, "" clears it."""
    return typer.Option(None, flag, help=help_text, show_default=False)


cli = typer.Typer(help="App spaces.", no_args_is_help=True)


@cli.command("create")
def create(
    name: str = typer.Option(..., "--name", help="The space's name."),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Create an app space and print its id (10001 for the first)."""
    from dingbridge.spaces.headless import create_space

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    typer.echo(create_space(settings, name))


@cli.command("list")
def list_(
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """List the app spaces: id, members, DingTalk on/off, enabled, name."""
    from dingbridge.spaces.headless import list_spaces

    settings = load_settings(database="existing", data_dir=data_dir, database_url=database_url)
    for item in list_spaces(settings):
        typer.echo(
            f"{item.space.id}\t{item.members} members\t"
            f"dingtalk {'on' if item.dingtalk_enabled else 'off'}\t"
            f"{'enabled' if item.space.enabled else 'disabled'}\t{item.space.name}"
        )


@cli.command("show")
def show(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Show a space's 钉钉授权(微应用) settings (the AppSecret only as set or not)."""
    import json

    from dingbridge.errors import DingbridgeError
    from dingbridge.spaces.headless import show_dingtalk

    settings = load_settings(database="existing", data_dir=data_dir, database_url=database_url)
    try:
        config = show_dingtalk(settings, space_id)
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    values: dict[str, object] = {
        "enabled": config.enabled,
        "corp_name": config.corp_name,
        "corp_id": config.corp_id,
        "agent_id": config.agent_id,
        "app_key": config.app_key,
        "app_secret_set": config.has_app_secret,
        "api_version": config.api_version,
        "forward_url": config.forward_url,
        "egress_ip_seen": config.egress_ip_seen,
        "updated_at": config.updated_at.isoformat() if config.updated_at else None,
    }
    if as_json:
        typer.echo(json.dumps(values, ensure_ascii=False, indent=2))
        return
    for name, value in values.items():
        typer.echo(f"{name}: {'' if value is None else value}")


@cli.command("dingtalk")
def dingtalk(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    corp_name: str | None = _field("--corp-name", "企业名称, the company name."),
    corp_id: str | None = _field("--corp-id", "企业ID (CorpId), ding..."),
    agent_id: str | None = _field("--agent-id", "The app's AgentId."),
    app_key: str | None = _field("--app-key", "AppKey (Client ID)."),
    app_secret_stdin: bool = typer.Option(
        False, "--app-secret-stdin", help="Read the AppSecret (Client Secret) from stdin."
    ),
    api_version: str | None = _field("--api-version", "v2 (new apps) or v1."),
    forward_url: str | None = _field("--forward-url", "钉钉API转发地址."),
    enable: bool | None = typer.Option(
        None, "--enable/--disable", help="Turn sign-in on or off.", show_default=False
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Change a space's 钉钉授权(微应用) settings; every problem is listed when invalid.

    Only the options given change; the others keep their saved value. Clear a field by
    giving it empty, e.g. --forward-url "" (calls then go to DingTalk directly)."""
    from dingbridge.errors import DingbridgeError, ValidationFailed
    from dingbridge.spaces.headless import change_dingtalk

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    given: dict[str, object] = {
        "enabled": enable,
        "corp_name": corp_name,
        "corp_id": corp_id,
        "agent_id": agent_id,
        "app_key": app_key,
        "api_version": None if api_version is None else api_version.lower(),
        "forward_url": forward_url,
    }
    if app_secret_stdin:
        given["app_secret"] = sys.stdin.readline().strip()
    changes = {name: value for name, value in given.items() if value is not None}
    try:
        config = change_dingtalk(settings, space_id, changes)
    except ValidationFailed as exc:
        for name, problem in exc.problems.items():
            complain(settings, problem, field=name)
        raise typer.Exit(1) from None
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    state = "on" if config.enabled else "off"
    typer.echo(f"space {space_id}: DingTalk sign-in {state}, corp {config.corp_id}")


@cli.command("events")
def events(
    space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
    mode: str | None = typer.Option(
        None, "--mode", help="How DingTalk's directory events arrive: stream, http or off."
    ),
    new_callback_keys: bool = typer.Option(
        False, "--new-callback-keys", help="Generate the HTTP push token and aes_key."
    ),
    guard: int | None = typer.Option(
        None, "--guard", help="Stop a sync that would disable more than this % of members."
    ),
    data_dir: Path | None = DataDirOption,
    database_url: str | None = DatabaseUrlOption,
) -> None:
    """Directory events for a space (people who leave lose access at once)."""
    from dingbridge.errors import DingbridgeError, ValidationFailed
    from dingbridge.spaces.headless import configure_events

    settings = load_settings(data_dir=data_dir, database_url=database_url)
    try:
        result, keys = configure_events(
            settings, space_id, mode=mode, guard=guard, new_callback_keys=new_callback_keys
        )
    except ValidationFailed as exc:
        for name, text in exc.problems.items():
            complain(settings, text, field=name)
        raise typer.Exit(1) from None
    except DingbridgeError as exc:
        complain(settings, exc.message)
        raise typer.Exit(1) from None
    typer.echo(f"space {space_id}: events {result.mode}, guard {result.guard_percent}%")
    if keys is not None:  # shown once: paste into 事件订阅 → HTTP 推送
        typer.echo(f"callback URL: {settings.external_url or ''}/{space_id}/dingtalk/events")
        typer.echo(f"token: {keys.token}")
        typer.echo(f"aes_key: {keys.aes_key}")
