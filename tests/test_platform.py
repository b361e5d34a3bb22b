"""The core platform: schema, migrations, settings, CLI conventions, demo."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import click
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from dotenv import dotenv_values
from sqlalchemy import select

from diaryadmin import audit, db
from diaryadmin.cli import cli
from diaryadmin.config import Settings, resolve_sqlite_path
from diaryadmin.errors import ConfigError, DatabaseUnavailable
from diaryadmin.models import AuditEvent, Base, School


def all_commands(group: click.Group, ctx: click.Context, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, ctx, (*prefix, name))


COMMANDS = [path for path, _ in all_commands(cli, click.Context(cli))]


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_every_command_has_help_with_an_example(path, workdir):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = dict(all_commands(cli, click.Context(cli)))[path]
    assert command.help, f"{' '.join(path)} has no help"
    if not isinstance(command, click.Group):
        assert "Example" in result.output, f"{' '.join(path)} --help has no example"


def test_upgrade_from_empty_and_models_match_migrations(empty_database_url, workdir):
    runner = CliRunner()
    env = {"DIARYADMIN_SECRET_KEY": "x" * 32}
    result = runner.invoke(cli, ["--database-url", empty_database_url, "db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    engine = db.make_engine(empty_database_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []
        assert db.current_revision(engine) == db.head_revision(engine)
    finally:
        engine.dispose()
    again = runner.invoke(cli, ["--database-url", empty_database_url, "db", "upgrade"], env=env)
    assert again.exit_code == 0
    assert "already at schema" in again.output


def test_command_on_missing_schema_says_how_to_fix(empty_database_url, workdir):
    result = CliRunner().invoke(cli, ["--database-url", empty_database_url, "audit", "list"])
    assert result.exit_code == 4
    assert "has no diaryadmin schema yet. Run 'diaryadmin db upgrade'" in result.output


def test_schema_behind_is_reported(database_url):
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0000old'")
        with pytest.raises(DatabaseUnavailable, match="needs .* run 'diaryadmin db upgrade'"):
            db.check_schema(engine)
    finally:
        engine.dispose()


def test_upgrade_refuses_foreign_tables(empty_database_url):
    engine = db.make_engine(empty_database_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE students (id INTEGER PRIMARY KEY)")
        with pytest.raises(DatabaseUnavailable, match="no diaryadmin schema version"):
            db.upgrade(engine)
    finally:
        engine.dispose()


def test_unreachable_database_exit_4(workdir):
    result = CliRunner().invoke(
        cli,
        ["--database-url", "postgresql+psycopg://nobody:secretpw@127.0.0.1:1/none", "db", "status"],
    )
    assert result.exit_code == 4
    assert "Cannot open the database" in result.output
    assert "secretpw" not in result.output


def test_init_writes_private_env_and_refuses_to_overwrite(workdir):
    runner = CliRunner()
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    env_file = workdir / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert "DIARYADMIN_SECRET_KEY=" in env_file.read_text()
    first = env_file.read_text()
    again = runner.invoke(cli, ["init"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert env_file.read_text() == first


def test_env_file_relative_sqlite_resolves_against_its_folder(tmp_path, monkeypatch, workdir):
    office = tmp_path / "office"
    office.mkdir()
    (office / ".env").write_text(
        "DIARYADMIN_SECRET_KEY=abcdefabcdefabcdef\nDIARYADMIN_DATABASE_URL=sqlite:///school.db\n"
    )
    monkeypatch.chdir("/")
    runner = CliRunner()
    result = runner.invoke(cli, ["--env-file", str(office / ".env"), "db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (office / "school.db").exists()
    assert not Path("/school.db").exists()


def test_environment_wins_over_env_file(tmp_path, workdir, monkeypatch):
    (workdir / ".env").write_text("DIARYADMIN_TEMP_PASSWORD_DAYS=5\n")
    monkeypatch.setenv("DIARYADMIN_TEMP_PASSWORD_DAYS", "30")
    from diaryadmin.cli import load_env_file

    load_env_file(None)
    assert Settings.from_env().temp_password_days == 30


def test_settings_errors_are_clear():
    with pytest.raises(ConfigError, match="DIARYADMIN_SECRET_KEY is not set.*diaryadmin init"):
        Settings().require_secret_key()
    with pytest.raises(ConfigError, match="below the OWASP minimum"):
        Settings.from_env({"DIARYADMIN_ARGON2_MEMORY_KIB": "4096"})
    weak = {"DIARYADMIN_ARGON2_TIME_COST": "1", "DIARYADMIN_ALLOW_WEAK_HASHES": "1"}
    assert Settings.from_env(weak).argon2_time_cost == 1
    with pytest.raises(ConfigError, match="whole number"):
        Settings.from_env({"DIARYADMIN_LOCKOUT_THRESHOLD": "ten"})
    assert resolve_sqlite_path("sqlite:///a.db", Path("/srv")) == "sqlite:////srv/a.db"
    assert resolve_sqlite_path("sqlite:////abs.db", Path("/srv")) == "sqlite:////abs.db"


def test_bad_setting_gives_exit_4(workdir):
    result = CliRunner().invoke(cli, ["db", "status"], env={"DIARYADMIN_SMTP_SECURITY": "tls-ish"})
    assert result.exit_code == 4
    assert "SMTP_SECURITY" in result.output


def test_audit_list_formats_and_filters(run_cli, sessions):
    with sessions() as session, session.begin():
        session.add(School(code="s1", name="Школа"))
        audit.record(session, "anna", "roster.import", "5А.xlsx", {"created": 3})
        audit.record(session, "boris", "credentials.issue", "5А", {"issued": 2})
    result = run_cli("--format", "json", "audit", "list", "--action", "roster")
    assert result.exit_code == 0, result.output
    events = json.loads(result.output)
    assert [(e["operator"], e["action"], e["details"]) for e in events] == [
        ("anna", "roster.import", {"created": 3})
    ]
    result = run_cli("audit", "list", "--operator", "boris", "--format", "csv")
    lines = result.output.strip().splitlines()
    assert lines[0] == "id,at,operator,action,target,details"
    assert lines[1].split(",")[2:5] == ["boris", "credentials.issue", "5А"]


def test_audit_refuses_secrets(sessions):
    with sessions() as session, pytest.raises(ValueError, match="secrets"):
        audit.record(session, "x", "credentials.issue", details={"password": "k7mx-p4rt"})


def test_one_transaction_rolls_back_everything(sessions):
    with pytest.raises(RuntimeError), db.transaction(sessions) as session:
        session.add(School(code="rollback", name="x"))
        audit.record(session, "x", "test")
        session.flush()
        raise RuntimeError("boom")
    with sessions() as session:
        assert session.scalar(select(School).where(School.code == "rollback")) is None
        assert session.scalars(select(AuditEvent)).all() == []


def test_version_and_exit_code_epilog(workdir):
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "diaryadmin" in result.output
    result = CliRunner().invoke(cli, ["--help"])
    assert "Exit codes" in result.output
    result = CliRunner().invoke(cli, ["no-such-command"])
    assert result.exit_code == 2


def test_demo_refuses_non_empty_folder(tmp_path, workdir):
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["demo", "--output", str(folder)])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (folder / "keep.txt").read_text() == "mine"


@pytest.mark.skipif(bool(os.environ.get("DIARYADMIN_TEST_DATABASE_URL")), reason="SQLite demo")
def test_demo_runs_end_to_end(tmp_path, workdir):
    folder = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--output", str(folder)])
    assert result.exit_code == 0, result.output
    assert (folder / "diaryadmin.sqlite3").exists()
    assert stat.S_IMODE((folder / ".env").stat().st_mode) == 0o600
    engine = db.make_engine(f"sqlite:///{folder / 'diaryadmin.sqlite3'}")
    try:
        db.check_schema(engine)
        key = dotenv_values(folder / ".env")["DIARYADMIN_SECRET_KEY"]
        assert db.stored_key_verifier(engine) == db.key_verifier(key)
    finally:
        engine.dispose()
    assert stat.S_IMODE((folder / "diaryadmin.sqlite3").stat().st_mode) == 0o600


def test_long_problem_lists_are_cut_on_stderr_but_complete_with_verbose(capsys):
    from diaryadmin.cli import MAX_PROBLEMS_SHOWN, report_error
    from diaryadmin.context import AppContext
    from diaryadmin.errors import InputError, Problem

    problems = [Problem("bad date", file="r.csv", row=n, column="DOB") for n in range(2, 502)]
    error = InputError("r.csv: 500 problem(s) found; nothing was imported.", problems)
    report_error(error, AppContext(settings=Settings(), operator="t"))
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 + MAX_PROBLEMS_SHOWN + 1
    assert lines[-1].startswith(f"  ... and {500 - MAX_PROBLEMS_SHOWN} more problems")
    report_error(error, AppContext(settings=Settings(), operator="t", verbose=True))
    assert "r.csv, row 501, column 'DOB': bad date" in capsys.readouterr().err


def test_foreign_keys_are_enforced_and_sqlite_uses_wal(engine):
    from datetime import date

    from sqlalchemy.exc import IntegrityError

    from diaryadmin.models import Student

    sessions = db.make_sessionmaker(engine)
    with pytest.raises(IntegrityError), sessions() as session, session.begin():
        session.add(
            Student(school_id=999, surname="Нет", name="Школы", name_key="нет школы",
                    birth_date=date(2015, 1, 1))
        )  # fmt: skip
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


@pytest.mark.parametrize(
    "args",
    [("roster", "list"), ("audit", "list"), ("credentials", "status"), ("db", "status")],
    ids=" ".join,
)
def test_no_env_and_no_database_creates_no_file(args, workdir):
    result = CliRunner().invoke(cli, list(args), env={"DIARYADMIN_SECRET_KEY": "k" * 32})
    assert result.exit_code == 4, result.output
    assert f"The database file {workdir / 'diaryadmin.sqlite3'} does not exist" in result.output
    assert f"no .env found at {workdir / '.env'}" in result.output
    assert "--env-file" in result.output
    assert list(workdir.iterdir()) == []


def test_missing_database_named_by_env_file_is_not_created(tmp_path, workdir):
    office = tmp_path / "office"
    office.mkdir()
    (office / ".env").write_text("DIARYADMIN_DATABASE_URL=sqlite:///school.db\n")
    result = CliRunner().invoke(
        cli, ["audit", "list"], env={"DIARYADMIN_ENV_FILE": str(office / ".env")}
    )
    assert result.exit_code == 4
    assert f"settings read from {office / '.env'}" in result.output
    assert not (office / "school.db").exists()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(bool(os.environ.get("DIARYADMIN_TEST_DATABASE_URL")), reason="SQLite files")
def test_sqlite_database_and_its_wal_files_are_private(workdir):
    runner = CliRunner()
    env = {"DIARYADMIN_SECRET_KEY": "k" * 32}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    database = workdir / "diaryadmin.sqlite3"
    assert _mode(database) == 0o600
    engine = db.make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as conn:  # an open connection keeps the WAL and shared memory
            conn.exec_driver_sql("INSERT INTO schools (code, name) VALUES ('s', 'Школа')")
            for suffix in ("-wal", "-shm"):
                assert _mode(database.with_name(database.name + suffix)) == 0o600
    finally:
        engine.dispose()
    fresh = workdir / "library.sqlite3"
    engine = db.make_engine(f"sqlite:///{fresh}")  # the library's default creates, privately
    try:
        with engine.connect():
            pass
        assert _mode(fresh) == 0o600
    finally:
        engine.dispose()


@pytest.mark.skipif(bool(os.environ.get("DIARYADMIN_TEST_DATABASE_URL")), reason="SQLite files")
def test_database_readable_by_others_is_warned_about(workdir, caplog):
    env = {"DIARYADMIN_SECRET_KEY": "k" * 32}
    assert CliRunner().invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    database = workdir / "diaryadmin.sqlite3"
    database.chmod(0o644)
    with caplog.at_level("WARNING", logger="diaryadmin.db"):
        result = CliRunner().invoke(cli, ["audit", "list"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{database} is readable by other users" in caplog.text
    assert f"chmod 600 {database}" in caplog.text
    caplog.clear()
    database.chmod(0o600)
    with caplog.at_level("WARNING", logger="diaryadmin.db"):
        CliRunner().invoke(cli, ["audit", "list"], env=env)
    assert "readable by other users" not in caplog.text
