"""Is this database URL usable? Checked before a command writes anything.

:func:`url_problem` looks at the URL alone (the driver installed, the shape of a SQLite path);
:func:`check_database` also tries it: the SQLite folder writable, or PostgreSQL answering with
the database there. Each problem is a :class:`DatabaseProblem` whose ``template`` is an English
message catalog id with ``%(name)s`` fields, so the caller shows it in the user's language. The
password of a URL is never shown.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


def N_(message: str) -> str:
    """Mark a message for the catalogs (translated where it is shown)."""
    return message


class DatabaseProblem(Exception):
    """A database that cannot be used; ``template % params`` says why and what to do."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params)


def shown_url(url: str) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def url_problem(url: str) -> DatabaseProblem | None:
    """What is wrong with the URL itself, without connecting; ``None`` when nothing is."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return DatabaseProblem(
            N_(
                "The database URL %(url)r is not a URL: use sqlite:///path/to.db or "
                "postgresql://user@host/dbname."
            ),
            url=url,
        )
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_url_problem(parsed)
    if backend in ("postgresql", "postgres"):
        if importlib.util.find_spec("psycopg") is None:
            return DatabaseProblem(
                N_(
                    "PostgreSQL needs the postgres extra, which is not installed: "
                    "pip install 'dingbridge[postgres]'."
                )
            )
        if not parsed.database:
            return DatabaseProblem(
                N_("The PostgreSQL URL %(url)s names no database: add /dbname at its end."),
                url=shown_url(url),
            )
        return None
    return DatabaseProblem(
        N_("The database URL must start with sqlite:/// or postgresql:// (got %(scheme)s://)."),
        scheme=backend,
    )


def _sqlite_url_problem(parsed: URL) -> DatabaseProblem | None:
    if parsed.host:
        return DatabaseProblem(
            N_(
                "sqlite://%(host)s has two slashes, so %(host)s is read as a host name: a file "
                "takes three, sqlite:///%(host)s (four for an absolute path, "
                "sqlite:////var/lib/dingbridge.db)."
            ),
            host=parsed.host + (f"/{parsed.database}" if parsed.database else ""),
        )
    if (
        not parsed.database
        or parsed.database == ":memory:"
        or parsed.database.startswith("file::memory:")
    ):
        return DatabaseProblem(
            N_(
                "An in-memory SQLite database keeps nothing: every connection starts empty and "
                "all is lost at exit. Give a file, e.g. sqlite:///data/dingbridge.db."
            )
        )
    return None


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; ``None`` for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def check_database(url: str, *, create: bool = True) -> None:
    """Raise :class:`DatabaseProblem` unless the database at ``url`` can be used.

    ``create=False`` (read-only commands) also refuses a SQLite file that does not exist yet,
    instead of letting the command create an empty one. Nothing is written either way.
    """
    problem = url_problem(url)
    if problem is not None:
        raise problem
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_file(path, create=create)
    else:
        _check_postgres(url)


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    if path.is_dir():
        raise DatabaseProblem(
            N_("The database path %(path)s is a folder: name a file in it."), path=str(path)
        )
    if path.exists():
        if not os.access(path, os.R_OK | os.W_OK):
            raise DatabaseProblem(
                N_("Cannot write the database file %(path)s: permission denied."), path=str(path)
            )
        return
    if not create:
        raise DatabaseProblem(
            N_(
                "There is no database at %(path)s. Give the server's data folder "
                "(--data-dir) or its --database-url."
            ),
            path=str(path.absolute()),
        )
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise DatabaseProblem(
            N_("Cannot create the database file %(path)s: %(folder)s is not writable."),
            path=str(path.absolute()),
            folder=str(folder),
        )


def _check_postgres(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(conninfo, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        text = str(exc)
        if "does not exist" in text and f'database "{parsed.database}"' in text:
            raise DatabaseProblem(
                N_(
                    "PostgreSQL at %(where)s has no database %(name)s: create it "
                    "(createdb %(name)s) or correct the URL."
                ),
                where=where,
                name=parsed.database,
            ) from None
        if "Connection refused" in text:
            raise DatabaseProblem(
                N_(
                    "PostgreSQL at %(where)s refused the connection: is it running and "
                    "listening on that address and port?"
                ),
                where=where,
            ) from None
        reason = text.strip().splitlines()[-1].split("failed:")[-1].strip()
        raise DatabaseProblem(
            N_("Cannot connect to PostgreSQL at %(where)s: %(reason)s"),
            where=where,
            reason=reason,
        ) from None
