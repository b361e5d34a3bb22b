"""Engines, sessions, SQLite pragmas, migrations and the schema-version check."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from diaryadmin.errors import ConfigError, DatabaseUnavailable

T = TypeVar("T")


def hide_password(url: str) -> str:
    """The URL for messages, with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparsable database URL>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # pysqlite defers BEGIN until the first write; an explicit BEGIN IMMEDIATE takes the write
    # lock at the start, so two writers queue on busy_timeout instead of failing half-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and real transactions."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"The database URL {url!r} is not a valid URL.") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            # Let SQLAlchemy, not pysqlite, manage transactions (see the SQLAlchemy docs,
            # "Serializable isolation / Savepoints / Transactional DDL").
            event.listen(
                engine,
                "connect",
                lambda dbapi_conn, _rec: setattr(dbapi_conn, "isolation_level", None),
            )
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(
            f"No driver for {parsed.drivername!r}. For PostgreSQL install the extra: "
            "pip install 'diaryadmin[postgres]' and use postgresql+psycopg://..."
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"The database driver is not installed ({exc.name}). For PostgreSQL: "
            "pip install 'diaryadmin[postgres]'."
        ) from None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("diaryadmin") / "migrations"))
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except OperationalError as exc:
        raise DatabaseUnavailable(
            f"Cannot open the database {hide_password(str(engine.url))}: {exc.orig}"
        ) from None


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Create or upgrade the schema; returns (revision before, revision after)."""
    from alembic import command

    before = current_revision(engine)
    if before is None:
        # Refuse to lay the schema over tables that some other program (or an old, unversioned
        # diaryadmin) left there: that would mix schemas silently.
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        if tables:
            raise DatabaseUnavailable(
                f"The database {hide_password(str(engine.url))} already holds tables "
                f"({', '.join(sorted(tables)[:5])}) but no diaryadmin schema version; "
                "use an empty database."
            )
    command.upgrade(alembic_config(engine), revision)
    return before, current_revision(engine)


def check_schema(engine: Engine) -> None:
    """Raise DatabaseUnavailable, with the fix, unless the schema is at the head revision."""
    current = current_revision(engine)
    head = head_revision(engine)
    where = hide_password(str(engine.url))
    if current is None:
        raise DatabaseUnavailable(
            f"The database {where} has no diaryadmin schema yet. Run 'diaryadmin db upgrade'."
        )
    if current != head:
        raise DatabaseUnavailable(
            f"The database {where} is at schema {current}, but this diaryadmin needs {head}. "
            "Back it up, then run 'diaryadmin db upgrade'."
        )


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for one command: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        yield session


def chunked(values: Iterable[T], size: int) -> Iterator[list[T]]:
    """`values` in lists of at most `size`: IN (...) lists stay under the drivers' limits."""
    items = values if isinstance(values, list) else list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def backend(session_or_engine) -> str:
    """'sqlite' or 'postgresql'."""
    bind = (
        session_or_engine.get_bind()
        if isinstance(session_or_engine, Session)
        else session_or_engine
    )
    return bind.dialect.name


def lock_school(session: Session, school_code: str) -> None:
    """Wait for, then hold until the transaction ends, the lock on one school's imports.

    PostgreSQL runs two imports of one school side by side, and both would create the same
    pupils, parents and classes: a transaction-scoped advisory lock keyed by the school's code
    makes the second wait for the first to commit, then see what it wrote. SQLite needs none:
    BEGIN IMMEDIATE already queues every writer.
    """
    if backend(session) != "postgresql":
        return
    # Only PostgreSQL needs these.
    import hashlib

    from sqlalchemy import func, select

    digest = hashlib.blake2b(f"diaryadmin.school:{school_code}".encode(), digest_size=8)
    key = int.from_bytes(digest.digest(), "big", signed=True)
    session.execute(select(func.pg_advisory_xact_lock(key)))
