"""``dingbridge demo``: server + DingTalk simulator + forwarder, ready to walk every flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def N_(message: str) -> str:
    return message


DEMO_PORT_IN_USE = N_(
    "Cannot listen on %(host)s:%(port)s (%(reason)s): another program, or another demo, is "
    "using the port. Stop it or choose another --port (the demo also takes the next two)."
)


def demo(
    port: Annotated[
        int, typer.Option(help="Server port; the simulator takes P+1, the forwarder P+2.")
    ] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback).")] = "127.0.0.1",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Keep the demo's database here (default: a temporary folder, removed at exit).",
        ),
    ] = None,
) -> None:
    """Try dingbridge on one machine: sign in "inside DingTalk" and in a PC browser."""
    import asyncio
    import contextlib
    import logging

    from dingbridge.commands.db import fail
    from dingbridge.demo import run_demo
    from dingbridge.server_runner import PortInUse
    from dingbridge.settings import Settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_demo(port, host=host, data_dir=data_dir, echo=typer.echo))
    except PortInUse as exc:
        params = {"host": exc.host, "port": exc.port, "reason": exc.reason}
        fail(Settings.load({}), DEMO_PORT_IN_USE, params)
    typer.echo("dingbridge demo stopped.")
