"""The commands the docs tell people to type exist, with the options they are given: each
``dingbridge …`` line of a shell block, checked against docs/cli.md (itself generated from the
CLI and tested against it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"simulator.md": "## Running `serve` against the simulator by hand"}


def _cli_reference() -> dict[str, str]:
    """docs/cli.md by command: ``"space dingtalk"`` → that command's help text."""
    parts = re.split(
        r"^## `dingbridge ?([^`]*)`$", (ROOT / "docs" / "cli.md").read_text(), flags=re.M
    )
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _commands(text: str) -> list[str]:
    """Every ``dingbridge …`` command line of the shell blocks, continuations joined."""
    lines: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0]
            if "dingbridge " in line:
                lines.append("dingbridge " + line.split("dingbridge ", 1)[1].strip())
    return lines


@pytest.mark.parametrize(("doc", "heading"), SECTIONS.items())
def test_documented_commands_and_options_exist(doc: str, heading: str) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    assert heading in text
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    reference = _cli_reference()
    commands = _commands(section)
    assert len(commands) >= 5
    for command in commands:
        words = command.split()[1:]
        path = " ".join(w for w in words[:2] if not w.startswith("-") and w in _names(reference))
        name = max((key for key in reference if path.startswith(key)), key=len)
        assert name, command
        for option in re.findall(r"(?<!\S)(--[a-z][a-z-]*)", command):
            assert option in reference[name], f"{command}: {option} is no option of {name}"


def _names(reference: dict[str, str]) -> set[str]:
    return {word for key in reference for word in key.split()}
