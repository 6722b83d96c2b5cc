"""``dingbridge space create|list|dingtalk``: app spaces without the browser."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from dingbridge.commands.db import DatabaseUrlOption, DataDirOption, load_settings


def register(app: typer.Typer) -> None:
    space = typer.Typer(help="App spaces.", no_args_is_help=True)

    @space.command("create")
    def create(
        name: str = typer.Option(..., "--name", help="The space's name."),
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
    ) -> None:
        """Create an app space and print its id (10001 for the first)."""
        from dingbridge.spaces.headless import create_space

        settings = load_settings(data_dir=data_dir, database_url=database_url)
        typer.echo(create_space(settings, name))

    @space.command("list")
    def list_(
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
    ) -> None:
        """List the app spaces: id, members, DingTalk on/off, enabled, name."""
        from dingbridge.spaces.headless import list_spaces

        settings = load_settings(data_dir=data_dir, database_url=database_url)
        for item in list_spaces(settings):
            typer.echo(
                f"{item.space.id}\t{item.members} members\t"
                f"dingtalk {'on' if item.dingtalk_enabled else 'off'}\t"
                f"{'enabled' if item.space.enabled else 'disabled'}\t{item.space.name}"
            )

    @space.command("dingtalk")
    def dingtalk(
        space_id: int = typer.Argument(..., metavar="SPACE", help="The space id, e.g. 10001."),
        corp_name: str = typer.Option("", "--corp-name", help="企业名称, the company name."),
        corp_id: str = typer.Option("", "--corp-id", help="企业ID (CorpId), ding..."),
        agent_id: str = typer.Option("", "--agent-id", help="The app's AgentId."),
        app_key: str = typer.Option("", "--app-key", help="AppKey (Client ID)."),
        app_secret_stdin: bool = typer.Option(
            False, "--app-secret-stdin", help="Read the AppSecret (Client Secret) from stdin."
        ),
        api_version: str = typer.Option("v2", "--api-version", help="v2 (new apps) or v1."),
        forward_url: str = typer.Option("", "--forward-url", help="钉钉API转发地址 (optional)."),
        enable: bool = typer.Option(False, "--enable/--disable", help="Turn sign-in on or off."),
        data_dir: Path | None = DataDirOption,
        database_url: str | None = DatabaseUrlOption,
    ) -> None:
        """Set a space's 钉钉授权(微应用) settings; every problem is listed when invalid."""
        from dingbridge.errors import DingbridgeError, ValidationFailed
        from dingbridge.spaces.dingtalk_settings import DingTalkInput
        from dingbridge.spaces.headless import configure_dingtalk

        settings = load_settings(data_dir=data_dir, database_url=database_url)
        secret = sys.stdin.readline().strip() if app_secret_stdin else ""
        data = DingTalkInput(
            enabled=enable,
            corp_name=corp_name,
            corp_id=corp_id,
            agent_id=agent_id,
            app_key=app_key,
            app_secret=secret,
            api_version=api_version.lower(),
            forward_url=forward_url,
        )
        try:
            config = configure_dingtalk(settings, space_id, data)
        except ValidationFailed as exc:
            for name, problem in exc.problems.items():
                typer.echo(f"{name}: {problem}", err=True)
            raise typer.Exit(1) from None
        except DingbridgeError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
        state = "on" if config.enabled else "off"
        typer.echo(f"space {space_id}: DingTalk sign-in {state}, corp {config.corp_id}")

    @space.command("events")
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
                typer.echo(f"{name}: {text}", err=True)
            raise typer.Exit(1) from None
        except DingbridgeError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"space {space_id}: events {result.mode}, guard {result.guard_percent}%")
        if keys is not None:  # shown once: paste into 事件订阅 → HTTP 推送
            typer.echo(f"callback URL: {settings.external_url or ''}/{space_id}/dingtalk/events")
            typer.echo(f"token: {keys.token}")
            typer.echo(f"aes_key: {keys.aes_key}")

    app.add_typer(space, name="space")
