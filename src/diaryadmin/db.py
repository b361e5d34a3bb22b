"""Engines, sessions, SQLite pragmas, migrations and the schema-version check."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from diaryadmin.config import env_file_hint
from diaryadmin.errors import ConfigError, DatabaseUnavailable, database_failure
from diaryadmin.i18n import N_, _
from diaryadmin.models import Installation, utcnow

if TYPE_CHECKING:
    from diaryadmin.config import Settings

log = logging.getLogger(__name__)

# Personal data lives in the database file and its WAL and journal files: owner only.
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
KEY_MISMATCH = N_("this database was set up with another secret key; use the school's .env")
_VERIFIER_LABEL = b"diaryadmin secret key verifier v1"

T = TypeVar("T")


def hide_password(url: str) -> str:
    """The URL for messages, with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return _("<unparsable database URL>")


def _busy_milliseconds() -> int:
    """How long an SQLite command waits for another writer: $DIARYADMIN_SQLITE_BUSY_SECONDS
    (default 30); after that it stops with "another program held the database locked"."""
    try:
        seconds = float(os.environ.get("DIARYADMIN_SQLITE_BUSY_SECONDS", "30"))
    except ValueError:
        seconds = 30.0
    return max(0, int(seconds * 1000))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_busy_milliseconds()}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn) -> None:
    # pysqlite defers BEGIN until the first write; an explicit BEGIN IMMEDIATE takes the write
    # lock at the start, so two writers queue on busy_timeout instead of failing half-way.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_file(engine_or_url: Engine | str) -> Path | None:
    """The database file of an SQLite engine or URL; None for other databases and `:memory:`."""
    url = make_url(engine_or_url) if isinstance(engine_or_url, str) else engine_or_url.url
    if url.get_backend_name() != "sqlite" or url.query.get("uri"):
        return None
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def readable_by_others(path: Path) -> bool:
    """True when `path` exists and its group or other users may read or write it."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def create_sqlite_file(path: Path) -> bool:
    """Create an empty database file readable by its owner only; False if it existed.

    SQLite creates the `-wal`, `-shm` and `-journal` files with the database file's mode,
    so they are private too.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    except FileNotFoundError:
        raise DatabaseUnavailable(
            _("Cannot create the database {path}: the folder {folder!r} does not exist.").format(
                path=path, folder=str(path.parent)
            )
        ) from None
    os.close(fd)
    return True


def _missing_database(path: Path) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        _(
            "The database file {path} does not exist: it has no diaryadmin schema yet. "
            "Run 'diaryadmin db upgrade' to create it there, or point to the school's settings "
            "with --env-file PATH ({env_file})."
        ).format(path=path, env_file=env_file_hint())
    )


def _guard_sqlite_file(engine: Engine, path: Path, create: bool) -> None:
    """Before each connection: never let SQLite make an empty file as a side effect, make
    a new file private, and warn (once) when an existing one is readable by others."""
    warned = False

    def before_connect(_dialect, _record, _cargs, _cparams) -> None:
        nonlocal warned
        if not path.exists():
            if not create:
                raise _missing_database(path)
            create_sqlite_file(path)
        if not warned:
            warned = True
            for name in (path, *(path.with_name(path.name + s) for s in SQLITE_COMPANIONS)):
                if readable_by_others(name):
                    log.warning(
                        _(
                            "{path} is readable by other users of this computer; it holds "
                            "personal data: chmod 600 {path}"
                        ).format(path=name)
                    )

    event.listen(engine, "do_connect", before_connect)


def make_engine(url: str, create: bool = True, **kwargs) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and real transactions.

    A new SQLite file is created with mode 0600. With `create=False` a missing SQLite file is
    not created: connecting raises DatabaseUnavailable saying which `.env` was looked for
    (only `db upgrade`, `init` and `demo` make databases; see `upgrade`).
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            _("The database URL {url!r} is not a valid URL.").format(url=url)
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, **kwargs)
            path = sqlite_file(engine)
            if path is not None:
                _guard_sqlite_file(engine, path, create)
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
            _(
                "No driver for {driver!r}. For PostgreSQL install the extra: "
                "pip install 'diaryadmin[postgres]' and use postgresql+psycopg://..."
            ).format(driver=parsed.drivername)
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            _(
                "The database driver is not installed ({module}). For PostgreSQL: "
                "pip install 'diaryadmin[postgres]'."
            ).format(module=exc.name)
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
        if "locked" in str(exc.orig).lower():  # another writer past the busy timeout
            raise database_failure(exc) from None
        raise DatabaseUnavailable(
            _("Cannot open the database {database}: {reason}").format(
                database=hide_password(str(engine.url)), reason=exc.orig
            )
        ) from None


def upgrade(
    engine: Engine, revision: str = "head", secret_key: str | None = None
) -> tuple[str | None, str | None]:
    """Create or upgrade the schema; returns (revision before, revision after).

    Creates a missing SQLite file (mode 0600) even on an engine made with `create=False`.
    With `secret_key`, records its verifier when the database has none yet, and raises
    ConfigError when the database was set up with another key.
    """
    from alembic import command

    path = sqlite_file(engine)
    if path is not None:
        create_sqlite_file(path)
    before = current_revision(engine)
    if before is None:
        # Refuse to lay the schema over tables that some other program (or an old, unversioned
        # diaryadmin) left there: that would mix schemas silently.
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        if tables:
            raise DatabaseUnavailable(
                _(
                    "The database {database} already holds tables ({tables}) but no diaryadmin "
                    "schema version; use an empty database."
                ).format(
                    database=hide_password(str(engine.url)), tables=", ".join(sorted(tables)[:5])
                )
            )
    elif secret_key:
        _verify_key(engine, secret_key, pin=False)  # before changing anything
    command.upgrade(alembic_config(engine), revision)
    if secret_key:
        _verify_key(engine, secret_key, pin=True)
    return before, current_revision(engine)


def check_schema(engine: Engine, settings: Settings | None = None) -> None:
    """Raise DatabaseUnavailable, with the fix, unless the schema is at the head revision.

    With `settings`, the secret key is checked as well (see `check_secret_key`).
    """
    current = current_revision(engine)
    head = head_revision(engine)
    where = hide_password(str(engine.url))
    if current is None:
        raise DatabaseUnavailable(
            _(
                "The database {database} has no diaryadmin schema yet. Run 'diaryadmin db upgrade'."
            ).format(database=where)
        )
    if current != head:
        raise DatabaseUnavailable(
            _(
                "The database {database} is at schema {current}, but this diaryadmin needs "
                "{head}. Back it up, then run 'diaryadmin db upgrade'."
            ).format(database=where, current=current, head=head)
        )
    if settings is not None:
        check_secret_key(engine, settings)


def key_verifier(secret_key: str) -> str:
    """An HMAC of a fixed label under the key: tells keys apart, reveals nothing of the key."""
    return hmac.new(secret_key.encode("utf-8"), _VERIFIER_LABEL, hashlib.sha256).hexdigest()


def stored_key_verifier(engine: Engine) -> str | None:
    """The verifier recorded when the database was set up, or None (none yet, or no table)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(Installation.__tablename__):
            return None
        return conn.scalar(select(Installation.secret_key_verifier).where(Installation.id == 1))


def _verify_key(engine: Engine, secret_key: str, pin: bool) -> None:
    expected = key_verifier(secret_key)
    stored = stored_key_verifier(engine)
    if stored is None and pin:
        try:
            with engine.begin() as conn:
                conn.execute(
                    Installation.__table__.insert().values(
                        id=1, secret_key_verifier=expected, created_at=utcnow()
                    )
                )
            return
        except IntegrityError:  # another process recorded one at the same moment
            stored = stored_key_verifier(engine)
    if stored is not None and not hmac.compare_digest(stored, expected):
        raise ConfigError(
            _("{problem} ({env_file}).").format(problem=_(KEY_MISMATCH), env_file=env_file_hint())
        )


def check_secret_key(engine: Engine, settings: Settings) -> None:
    """Refuse a secret key that is not the one this database was set up with.

    Without a key, or with one too short to use, nothing is checked (the commands that
    fingerprint refuse those themselves). A database set up before verifiers existed, or
    without a key, records the verifier of the first valid key it meets.
    Raises ConfigError (exit 4) on a mismatch.
    """
    try:
        settings.require_secret_key()
    except ConfigError:
        return
    _verify_key(engine, settings.secret_key or "", pin=True)


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
