"""Every help page reads like a well-liked click tool's: no value placeholder on switches, plain
argument names in the usage line; command groups are module-level Typer sub-apps."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer

from dingbridge.cli import app
from dingbridge.commands import admin, db, member, space
from tests.commands.conftest import Cli


def _paths(group: Any, prefix: list[str]) -> list[list[str]]:
    paths: list[list[str]] = []
    for name, command in sorted(group.commands.items()):
        paths.append([*prefix, name])
        if hasattr(command, "commands"):
            paths.extend(_paths(command, [*prefix, name]))
    return paths


PATHS = [[], *_paths(typer.main.get_command(app), [])]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "dingbridge")
def test_help_page(cli: Cli, path: list[str]) -> None:
    result = cli(*path, "--help", env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "<bool>" not in text  # a switch takes no value
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "[[" not in usage and not re.search(r"\{\w+\}", usage), usage


def test_usage_lines(cli: Cli) -> None:
    def usage(*path: str) -> str:
        text = cli(*path, "--help", env={"COLUMNS": "100"}).stdout
        return next(line for line in text.splitlines() if "Usage:" in line).strip()

    assert usage("doctor").endswith("doctor [OPTIONS] [SPACE]")
    assert usage("member", "import").endswith("member import [OPTIONS] SPACE FILE")
    assert usage("admin", "token", "revoke").endswith("revoke [OPTIONS] TOKEN_ID")


def test_groups_are_module_level_sub_apps() -> None:
    root = typer.main.get_command(app)
    for name, module in (("admin", admin), ("space", space), ("member", member), ("db", db)):
        assert isinstance(module.cli, typer.Typer)
        assert not hasattr(module, "register")
        declared = {c.name for c in module.cli.registered_commands}
        assert declared <= set(root.commands[name].commands), name  # type: ignore[attr-defined]
    assert "import-dingtalk" in root.commands["member"].commands  # type: ignore[attr-defined]
