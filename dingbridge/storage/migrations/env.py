"""Alembic environment: the URL comes from the caller (``dingbridge.storage.migrate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from dingbridge.storage.db import install_sqlite_pragmas, is_sqlite
from dingbridge.storage.models import Base

config = context.config
LOCK_KEY = 0x64696E67  # "ding"


def run() -> None:
    url: str | None = config.attributes.get("database_url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = create_engine(url)
    if is_sqlite(url):
        install_sqlite_pragmas(engine)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=is_sqlite(url),
                compare_type=True,
            )
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    # Instances starting together migrate one after the other.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY}
                    )
                context.run_migrations()
    finally:
        engine.dispose()


run()
