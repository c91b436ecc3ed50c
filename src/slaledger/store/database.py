"""Connecting to SQLite or PostgreSQL by URL, and bringing the schema up to date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from slaledger.errors import DatabaseOpenError, Problem, UsageError

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_URL = "sqlite:///slaledger.db"


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL with one writer; no mmap (Debian 12's SQLite has the WAL-reset bug fixed in 3.51.3).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA mmap_size=0")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def connect(url: str) -> Engine:
    """An engine for ``url`` (``sqlite:///file.db`` or ``postgresql+psycopg://…``)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(
            Problem(
                f"expected a database URL like sqlite:///slaledger.db or "
                f"postgresql+psycopg://host/db, got {url!r}",
                field="--db",
            )
        ) from None
    backend = parsed.get_backend_name()
    if backend not in {"sqlite", "postgresql"}:
        raise UsageError(
            Problem(f"expected a sqlite or postgresql URL, got {backend!r}", field="--db")
        )
    try:
        if backend == "sqlite":
            engine = create_engine(parsed, poolclass=None)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except NoSuchModuleError as error:
        raise UsageError(Problem(f"unsupported database driver: {error}", field="--db")) from None
    return engine


def open_database(url: str) -> Engine:
    """The database at ``url``, its schema brought up to date: the one place slaledger opens
    a database. One that cannot be reached or opened is one line naming the URL (its
    password hidden), not a traceback."""
    engine = connect(url)
    try:
        migrate(engine)
    except DBAPIError as error:
        engine.dispose()
        if not _cannot_open(error):
            raise
        shown = make_url(url).render_as_string(hide_password=True)
        raise DatabaseOpenError(
            Problem(f"cannot open the database {shown}: {_reason(error)}", field="--db")
        ) from None
    return engine


def _cannot_open(error: DBAPIError) -> bool:
    """A refused or failed connection, a file that cannot be opened or is no database: not
    a bug in a migration (those keep their traceback)."""
    return error.connection_invalidated or type(error).__name__ in {
        "OperationalError",
        "InterfaceError",
        "DatabaseError",
    }


def _reason(error: DBAPIError) -> str:
    """The driver's first line, e.g. ``unable to open database file`` or ``connection
    failed: … Connection refused``."""
    lines = str(error.orig).strip().splitlines()
    return lines[0].strip() if lines else type(error.orig).__name__


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration not yet applied."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
