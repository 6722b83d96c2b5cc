"""``dingbridge doctor`` is read-only: it names the database it looked at and never makes one."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands.conftest import Cli


def test_doctor_without_a_database_creates_none(cli: Cli, tmp_path: Path) -> None:
    result = cli("doctor", "10001")
    assert result.exit_code == 2
    assert (
        str(tmp_path / "data" / "dingbridge.db") in result.stderr and "--data-dir" in result.stderr
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "data").exists()  # no database, no secret.key


def test_doctor_names_the_database_it_read(cli: Cli, tmp_path: Path) -> None:
    assert cli("space", "create", "--name", "销售部").exit_code == 0
    database = f"sqlite:///{(tmp_path / 'data' / 'dingbridge.db').as_posix()}"
    zh = cli("doctor")
    assert zh.exit_code == 0, zh.output
    assert zh.stdout.splitlines()[0] == f"数据库：{database}"
    en = cli("doctor", "--lang", "en")
    assert en.stdout.splitlines()[0] == f"Database: {database}"
    assert json.loads(cli("doctor", "--json").stdout)["database"] == database
    assert not (tmp_path / "data" / "secret.key").exists()  # read-only: no key made either


def test_read_only_commands_create_no_database(cli: Cli, tmp_path: Path) -> None:
    for args in (["space", "list"], ["space", "show", "10001"], ["admin", "token", "list"]):
        result = cli(*args)
        assert result.exit_code == 2 and "dingbridge.db" in result.stderr, args
    assert not (tmp_path / "data").exists()
