"""Apply the Alembic migrations packaged in ``dingbridge/storage/migrations``."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from dingbridge.storage.db import install_sqlite_pragmas, is_sqlite, sync_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = sync_url(url)
    return config


def _ensure_sqlite_folder(url: str) -> None:
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)


def upgrade(url: str, revision: str = "head") -> str | None:
    """Bring the database at ``url`` to ``revision``; return the revision it is at afterwards."""
    _ensure_sqlite_folder(url)
    config = alembic_config(url)
    command.upgrade(config, revision)
    return current_revision(url)


def current_revision(url: str) -> str | None:
    engine = create_engine(sync_url(url))
    if is_sqlite(url):
        install_sqlite_pragmas(engine)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return script.get_current_head()
