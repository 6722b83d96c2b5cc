"""The ``dingbridge`` command line: one Typer app, one module per command group.

Commands stay thin (parse options, build settings, call one library function, print); each
lives in ``dingbridge.commands.<name>`` and imports its heavy dependencies only when it runs,
so ``dingbridge --help`` and ``dingbridge sim`` start fast.
"""

from __future__ import annotations

import typer

from dingbridge import __version__

app = typer.Typer(
    name="dingbridge",
    help="钉钉登录桥 dingbridge: DingTalk sign-in for app spaces, its API forwarder and simulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dingbridge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """DingTalk sign-in for app spaces."""


def _register() -> None:
    # Each module adds its commands to ``app``; imported here so that the order is fixed.
    from dingbridge.commands import register_all

    if not app.registered_commands and not app.registered_groups:
        register_all(app)


def main() -> None:
    _register()
    app()
