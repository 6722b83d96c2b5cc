"""``dingbridge sim``: serve the DingTalk simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def sim(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
    fixture: Annotated[
        Path | None,
        typer.Option(help="JSON or YAML fixture file (default: the built-in demo corp)."),
    ] = None,
    dump_fixture: Annotated[
        bool,
        typer.Option("--dump-fixture", help="Print the built-in default fixture as JSON and exit."),
    ] = False,
) -> None:
    """Run a local DingTalk simulator (钉钉模拟器): APIs, OAuth page, JSAPI, faults."""
    import json

    if dump_fixture:
        from dingbridge.sim.defaults import default_fixture

        typer.echo(json.dumps(default_fixture(), ensure_ascii=False, indent=2))
        return
    from dingbridge.sim import FixtureError, SimState
    from dingbridge.sim.app import serve
    from dingbridge.sim.fixtures import load_fixture_file

    try:
        state = (
            SimState.default()
            if fixture is None
            else SimState.from_fixture(load_fixture_file(fixture))
        )
    except (OSError, FixtureError) as exc:
        typer.echo(f"dingbridge sim: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"钉钉模拟器 dingbridge sim: http://{host}:{port}/  (控制台 /_sim/)")
    serve(state, host, port)
