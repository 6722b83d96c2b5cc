"""The ``dingbridge`` command line: one Typer app; each command group is a module-level Typer
sub-app in ``dingbridge.commands.<name>`` (``cli``), each single command a function there.

Commands stay thin (parse options, build settings, call one library function, print) and
import their heavy dependencies only when they run, so ``dingbridge --help`` and
``dingbridge sim`` start fast.
"""

from __future__ import annotations

import typer

from dingbridge import __version__
from dingbridge.commands import admin, db, demo, doctor, forward, member, serve, sim, space
from dingbridge.commands import app as apps
from dingbridge.commands.help_style import TidyGroup

app = typer.Typer(
    name="dingbridge",
    cls=TidyGroup,
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


# In the order they appear in --help.
app.command("serve")(serve.serve)
app.add_typer(admin.cli, name="admin")
app.add_typer(space.cli, name="space")
app.add_typer(member.cli, name="member")
app.add_typer(apps.cli, name="app")
app.add_typer(db.cli, name="db")
app.command("sim")(sim.sim)
app.command("forward", help=forward.FORWARD_HELP)(forward.forward)
app.command("nginx-conf", help=forward.NGINX_CONF_HELP)(forward.nginx_conf)
app.command("demo")(demo.demo)
app.command("doctor")(doctor.doctor)


def main() -> None:
    app()
