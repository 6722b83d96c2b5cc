"""``dingbridge demo``: server + DingTalk simulator + forwarder, ready to walk every flow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        port: Annotated[
            int, typer.Option(help="Server port; the simulator takes P+1, the forwarder P+2.")
        ] = 8000,
        host: Annotated[str, typer.Option(help="Address to listen on (loopback).")] = "127.0.0.1",
        data_dir: Annotated[
            Path | None,
            typer.Option(
                "--data-dir",
                help="Keep the demo's database here (default: a temporary folder, removed "
                "at exit).",
            ),
        ] = None,
    ) -> None:
        """Try dingbridge on one machine: sign in "inside DingTalk" and in a PC browser."""
        import asyncio
        import contextlib
        import logging

        from dingbridge.demo import run_demo

        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_demo(port, host=host, data_dir=data_dir, echo=typer.echo))
        typer.echo("dingbridge demo stopped.")
