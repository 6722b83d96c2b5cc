"""``dingbridge db backup``: a consistent SQLite copy taken while writes go on, which restores
into a working database; refusals that write nothing."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dingbridge.storage import migrate
from dingbridge.storage.backup import BackupError, backup_database


class Writer(threading.Thread):
    """Appends audit rows one transaction each, as a running server would, until stopped."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.committed = 0
        self.enough = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute("PRAGMA journal_mode=WAL")
        try:
            while not self.stop.is_set():
                with connection:
                    connection.execute(
                        "INSERT INTO audit_log (time, actor, action, target, details) "
                        "VALUES (CURRENT_TIMESTAMP, 'test', 'member.added', ?, '{}')",
                        (f"space:{self.committed}",),
                    )
                self.committed += 1
                if self.committed >= 200:
                    self.enough.set()
        finally:
            connection.close()


def _command(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DINGBRIDGE_")}
    return subprocess.run(
        [sys.executable, "-m", "dingbridge", "db", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _rows(path: Path) -> list[int]:
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM audit_log ORDER BY id")]
    finally:
        connection.close()


def test_a_backup_taken_while_writing_is_consistent_and_restores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    live = data / "dingbridge.db"
    revision = migrate.upgrade(f"sqlite:///{live.as_posix()}")
    writer = Writer(live)
    writer.start()
    try:
        assert writer.enough.wait(30)
        done = _command("backup", str(tmp_path / "copy.db"), data_dir=data)
        assert writer.is_alive()  # the writes went on during the backup
    finally:
        writer.stop.set()
        writer.join(30)
    assert done.returncode == 0, done.stderr
    assert "copy.db" in done.stdout and str(revision) in done.stdout
    copied = _rows(tmp_path / "copy.db")
    # one moment of the database: every row committed before it, none missing in between
    assert len(copied) >= 200
    assert copied == list(range(1, len(copied) + 1))
    assert len(copied) <= writer.committed
    assert not list(tmp_path.glob(".*partial"))

    # restore: the copy in place of dingbridge.db of a new data folder
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(tmp_path / "copy.db", restored / "dingbridge.db")
    assert _command("upgrade", data_dir=restored).returncode == 0
    assert _rows(restored / "dingbridge.db") == copied


def test_an_existing_file_is_not_overwritten(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    migrate.upgrade(f"sqlite:///{(data / 'dingbridge.db').as_posix()}")
    target = tmp_path / "keep.db"
    target.write_bytes(b"an older backup")
    done = _command("backup", str(target), data_dir=data)
    assert done.returncode == 1
    assert "already exists" in done.stderr
    assert target.read_bytes() == b"an older backup"


def test_postgresql_and_missing_databases_are_refused_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="pg_dump"):
        backup_database("postgresql://user@db.example/dingbridge", tmp_path / "x.db")
    with pytest.raises(BackupError, match="no database"):
        backup_database(f"sqlite:///{(tmp_path / 'none.db').as_posix()}", tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()
