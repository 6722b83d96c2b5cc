"""Ordinary mistakes get one clear line and a non-zero exit, and nothing is written first."""

from __future__ import annotations

import importlib.util
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.commands.conftest import Cli
from tests.conftest import env_url


def _refused(cli: Cli, tmp_path: Path, *args: str, language: str = "zh_CN") -> str:
    """Run, expect exit 2 with one line on stderr and no traceback; return the line."""
    result = cli(*args, env={"DINGBRIDGE_LANGUAGE": language})
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and lines[0].startswith("dingbridge: ")
    assert not (tmp_path / "data").exists()  # no data folder, no secret key, no database
    return lines[0]


@pytest.mark.parametrize(
    ("url", "english", "chinese"),
    [
        ("not a url", "is not a URL", "不是网址"),
        ("sqlite://x.db", "sqlite:///x.db", "三个斜杠"),
        ("sqlite:///:memory:", "in-memory", "内存"),
        ("mysql://u@h/db", "sqlite:/// or postgresql://", "sqlite:/// 或 postgresql://"),
        ("postgresql://postgres@127.0.0.1:1/test", "refused", "拒绝"),
    ],
)
def test_database_url_mistakes(
    cli: Cli, tmp_path: Path, url: str, english: str, chinese: str
) -> None:
    line = _refused(cli, tmp_path, "db", "upgrade", "--database-url", url, language="en")
    assert english in line
    assert chinese in _refused(cli, tmp_path, "space", "list", "--database-url", url)


def test_postgresql_without_the_extra_names_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "psycopg" else real(name, *a)
    )
    line = _refused(cli, tmp_path, "db", "upgrade", "--database-url", "postgresql://h/db")
    assert "pip install 'dingbridge[postgres]'" in line


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_named(cli: Cli, tmp_path: Path) -> None:
    url = make_url(env_url("DINGBRIDGE_TEST_POSTGRES_URL")).set(database="no_such_db_here")
    line = _refused(cli, tmp_path, "db", "upgrade", "--database-url", url.render_as_string(False))
    assert "no_such_db_here" in line and "createdb" in line


def test_an_unwritable_database_path(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    url = f"sqlite:///{blocker}/sub/dingbridge.db"
    line = _refused(cli, tmp_path, "db", "upgrade", "--database-url", url, language="en")
    assert "not writable" in line and str(blocker) in line


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_serve_on_a_busy_port_writes_nothing(cli: Cli, tmp_path: Path, busy_port: int) -> None:
    line = _refused(cli, tmp_path, "serve", "--port", str(busy_port))
    assert f"127.0.0.1:{busy_port}" in line and "--port" in line
    line = _refused(cli, tmp_path, "serve", "--port", str(busy_port), language="en")
    assert "choose another --port" in line


def test_demo_on_a_busy_port_says_so(cli: Cli, tmp_path: Path, busy_port: int) -> None:
    line = _refused(cli, tmp_path, "demo", "--port", str(busy_port), language="en")
    assert f"127.0.0.1:{busy_port}" in line and "choose another --port" in line


def test_serve_with_an_unusable_database_releases_the_port(cli: Cli, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = int(probe.getsockname()[1])
    _refused(cli, tmp_path, "serve", "--port", str(free), "--database-url", "sqlite://x.db")
    with socket.socket() as again:
        again.bind(("127.0.0.1", free))  # the refused serve let the port go
