"""The secret key's verifier: recorded at set-up, checked by every command, never the key."""

from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from conftest import SECRET
from diaryadmin import db
from diaryadmin.cli import cli
from diaryadmin.config import Settings
from diaryadmin.errors import ConfigError
from diaryadmin.models import Installation, Student
from helpers.roster import write_xlsx

OTHER_KEY = "another-office-key-fedcba9876543210"
MISMATCH = "this database was set up with another secret key; use the school's .env"


def roster_without_ids(path):
    """Pupils matched only by certificate fingerprint and name: a wrong key would duplicate them."""
    header = ["Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Свидетельство о рождении"]
    return write_xlsx(
        path,
        [
            header,
            ["Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А", "IV-МЮ 123456"],
            ["Петрова", "Анна", "Игоревна", date(2015, 7, 1), "5А", "II-ОВ 654321"],
        ],
    )


def forget_verifier(engine) -> None:
    """Make the test database look like one set up before verifiers existed."""
    with engine.begin() as conn:
        conn.execute(Installation.__table__.delete())


def stored_verifier(engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(select(Installation.secret_key_verifier))


def test_verifier_is_an_hmac_never_the_key():
    verifier = db.key_verifier(SECRET)
    assert len(verifier) == 64
    assert SECRET not in verifier
    assert verifier == db.key_verifier(SECRET)
    assert verifier != db.key_verifier(OTHER_KEY)


def test_reimport_with_another_key_is_refused_and_duplicates_nothing(
    run_cli, workdir, engine, db_snapshot
):
    path = roster_without_ids(workdir / "5А.xlsx")
    first = run_cli("--format", "json", "roster", "import", str(path))
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["created"] == 2
    assert stored_verifier(engine) == db.key_verifier(SECRET)
    before = db_snapshot()

    again = run_cli("roster", "import", str(path), env={"DIARYADMIN_SECRET_KEY": OTHER_KEY})
    assert again.exit_code == 4
    assert MISMATCH in again.output
    assert OTHER_KEY not in again.output and SECRET not in again.output
    assert db_snapshot() == before
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Student)) == 2

    same = run_cli("--format", "json", "roster", "import", str(path))
    assert same.exit_code == 0, same.output
    assert json.loads(same.stdout)["created"] == 0


def test_every_command_refuses_the_wrong_key(run_cli, engine):
    forget_verifier(engine)
    assert run_cli("audit", "list").exit_code == 0  # records the verifier of SECRET
    assert stored_verifier(engine) == db.key_verifier(SECRET)
    for args in (("audit", "list"), ("credentials", "status"), ("roster", "list")):
        result = run_cli(*args, env={"DIARYADMIN_SECRET_KEY": OTHER_KEY})
        assert result.exit_code == 4, (args, result.output)
        assert MISMATCH in result.output


def test_db_upgrade_records_the_key_in_use_on_an_existing_database(database_url, workdir, engine):
    forget_verifier(engine)
    runner = CliRunner()
    args = ["--database-url", database_url, "db", "upgrade"]
    result = runner.invoke(cli, args, env={"DIARYADMIN_SECRET_KEY": SECRET})
    assert result.exit_code == 0, result.output
    assert stored_verifier(engine) == db.key_verifier(SECRET)
    refused = runner.invoke(cli, args, env={"DIARYADMIN_SECRET_KEY": OTHER_KEY})
    assert refused.exit_code == 4
    assert MISMATCH in refused.output
    assert stored_verifier(engine) == db.key_verifier(SECRET)


def test_upgrade_from_the_first_schema_adds_the_verifier(empty_database_url):
    from alembic import command

    engine = db.make_engine(empty_database_url)
    try:
        command.upgrade(db.alembic_config(engine), "0001")
        assert db.current_revision(engine) == "0001"
        db.upgrade(engine, secret_key=SECRET)
        assert db.current_revision(engine) == db.head_revision(engine)
        assert stored_verifier(engine) == db.key_verifier(SECRET)
        with pytest.raises(ConfigError, match="another secret key"):
            db.upgrade(engine, secret_key=OTHER_KEY)
    finally:
        engine.dispose()


def test_no_key_or_a_short_key_checks_nothing(engine, database_url):
    forget_verifier(engine)
    db.check_schema(engine, Settings(database_url=database_url))
    db.check_schema(engine, Settings(database_url=database_url, secret_key="short"))
    assert stored_verifier(engine) is None
    db.check_schema(engine, Settings(database_url=database_url, secret_key=SECRET))
    assert stored_verifier(engine) == db.key_verifier(SECRET)
    with pytest.raises(ConfigError, match="another secret key"):
        db.check_schema(engine, Settings(database_url=database_url, secret_key=OTHER_KEY))
