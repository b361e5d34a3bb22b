"""Each test gets its own database: a copy of a migrated SQLite file, or, when
DIARYADMIN_TEST_DATABASE_URL names a PostgreSQL server, a database made from a migrated template."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from diaryadmin import db, i18n
from diaryadmin.cli import cli
from diaryadmin.config import Settings
from diaryadmin.models import Base

# The tests read English messages unless a test asks for Russian (DIARYADMIN_LANG=ru).
os.environ["DIARYADMIN_LANG"] = "en"

TEST_URL = os.environ.get("DIARYADMIN_TEST_DATABASE_URL", "").strip()
SECRET = "test-secret-key-0123456789abcdef"


def _drop_database(admin, name: str) -> None:
    """Drop a test database; an autovacuum worker on it may need a moment to go away."""
    for attempt in range(5):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except DBAPIError:
            if attempt == 4:
                raise
            time.sleep(0.5 * (attempt + 1))


def _pg_admin_engine():
    url = make_url(TEST_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, isolation_level="AUTOCOMMIT"), url


@contextmanager
def _pg_database(prefix: str, template: str | None = None):
    """A new PostgreSQL database (optionally a copy of `template`), dropped afterwards;
    yields its URL."""
    admin, url = _pg_admin_engine()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin, name)
        admin.dispose()


@pytest.fixture(scope="session")
def _template(tmp_path_factory):
    """A migrated database to copy per test."""
    if TEST_URL:
        with _pg_database("diaryadmin_tpl") as url:
            engine = db.make_engine(url)
            db.upgrade(engine, secret_key=SECRET)
            engine.dispose()
            yield ("postgresql", make_url(url).database)
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = db.make_engine(f"sqlite:///{path}")
        db.upgrade(engine, secret_key=SECRET)
        engine.dispose()  # the last connection to close folds the WAL back into the file
        assert not path.with_name(path.name + "-wal").exists()
        yield ("sqlite", path)


@pytest.fixture
def database_url(_template, tmp_path):
    """A fresh, migrated database for this test."""
    kind, source = _template
    if kind == "postgresql":
        with _pg_database("diaryadmin_t", template=source) as url:
            yield url
    else:
        target = tmp_path / "test.sqlite3"
        shutil.copyfile(source, target)
        target.chmod(0o600)  # as db upgrade makes it: no "readable by others" warning
        yield f"sqlite:///{target}"


@pytest.fixture
def empty_database_url(tmp_path):
    """A database with no schema at all."""
    if TEST_URL:
        with _pg_database("diaryadmin_e") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET)


@pytest.fixture
def engine(database_url):
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return db.make_sessionmaker(engine)


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Run in an empty folder, so no developer's .env leaks into a test."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for key in list(os.environ):
        if key.startswith("DIARYADMIN_") and key != "DIARYADMIN_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    return folder


@pytest.fixture
def run_cli(database_url, workdir):
    """Invoke the CLI on this test's database: run_cli("roster", "list", input=...)."""

    def invoke(*args, input=None, env=None, database=None):
        runner = CliRunner()
        full_env = {"DIARYADMIN_SECRET_KEY": SECRET, **(env or {})}
        return runner.invoke(
            cli,
            ["--database-url", database or database_url, *args],
            input=input,
            env=full_env,
            catch_exceptions=False,
        )

    return invoke


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: compare before and after to prove nothing changed."""
    result = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            result[table.name] = sorted(tuple(map(repr, r)) for r in rows)
        assert "alembic_version" in inspect(conn).get_table_names()
    return result


@pytest.fixture
def db_snapshot(engine):
    return lambda: snapshot(engine)


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A test that ran a command in Russian leaves the process's language as it found it."""
    yield
    i18n.activate("en")


def pytest_collection_modifyitems(config, items):
    """The `slow` tests (longer randomised runs) run only when -m chooses what runs
    (`pytest -m slow`); the plain `pytest` of the README and .ci/run leaves them out."""
    if config.option.markexpr:
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
