"""Run ``dingbridge`` commands in-process, as an admin would type them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

Cli = Callable[..., Result]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("space", "list", input="…")``: the command's exit code and output, run against a
    data folder of its own (``tmp_path / "data"``) with no other DINGBRIDGE_* variable set."""
    import os

    from dingbridge.cli import app

    for name in list(os.environ):
        if name.startswith("DINGBRIDGE_") and not name.startswith("DINGBRIDGE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DINGBRIDGE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    return run
