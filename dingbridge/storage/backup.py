"""``dingbridge db backup``: a consistent copy of the SQLite database while the server runs.

SQLite's online backup API (``sqlite3.Connection.backup``) copies the database in one step
inside one read transaction: in WAL mode (the server's journal) writers go on meanwhile and the
copy is the database as of one moment, with everything committed before it and nothing after.
The copy is written next to the target under a temporary name, checked (``PRAGMA
integrity_check``), then renamed into place, so an interrupted backup never leaves a
half-written file under the target's name. An existing target is never overwritten.

PostgreSQL is backed up with its own tools (``pg_dump``; docs/deploy.md).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from dingbridge.storage.db import is_sqlite


class BackupError(Exception):
    """The backup was not made; the message says why and what to do. Nothing was written."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    revision: str | None
    """The schema's migration revision (what ``dingbridge db upgrade`` prints)."""


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("the database URL names no SQLite file")
    return Path(database)


def backup_database(url: str, target: Path) -> BackupResult:
    """Copy the SQLite database of ``url`` to ``target`` (a new file)."""
    if not is_sqlite(url):
        raise BackupError(
            "dingbridge db backup copies SQLite databases; back PostgreSQL up with pg_dump "
            "(see docs/deploy.md)"
        )
    source = sqlite_path(url)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists: choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        _copy(source, partial)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupResult(target, target.stat().st_size, _revision(target))


def _copy(source: Path, partial: Path) -> None:
    reader = sqlite3.connect(source, timeout=30)
    try:
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)  # pages=-1: the whole database in one step, one snapshot
            problem = writer.execute("PRAGMA integrity_check").fetchone()[0]
            if problem != "ok":
                raise BackupError(f"the copy failed its integrity check: {problem}")
            writer.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            writer.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy the database: {exc}") from None
    finally:
        reader.close()


def _revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None
