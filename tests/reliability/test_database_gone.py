"""The database going away in the middle of a command: PostgreSQL's connection terminated just
before COMMIT, or an SQLite file held locked by another writer past the busy timeout. Either
way: one sentence and exit 4, nothing half-written (the database as before, no file at --out),
and never SQL, parameters or personal data on stderr."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from diaryadmin.samples.roster import generate_school
from diaryadmin.samples.roster_files import write_roster_xlsx
from helpers import kill

LEAKS = ("SELECT", "INSERT", "UPDATE", "[parameters", "Traceback", "$argon2")


def _school(url: str, folder: Path) -> tuple[Path, list[str]]:
    """A school of 20 pupils with their parents; returns the roster file and the surnames."""
    school = generate_school(20, seed=23)
    path = kill.import_roster_file(url, write_roster_xlsx(folder / "roster.xlsx", school))
    surnames = sorted({student.surname for student in school})
    return path, surnames


def _assert_one_clean_sentence(stderr: str, words: str, personal: list[str]) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert words in lines[0], stderr
    for leak in (*LEAKS, *personal):
        assert leak not in stderr, (leak, stderr)


def test_postgresql_connection_lost_before_commit(database_url, tmp_path):
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL only: set DIARYADMIN_TEST_DATABASE_URL")
    _path, surnames = _school(database_url, tmp_path)
    before = kill.state(database_url)
    out = tmp_path / "slips.html"
    env = kill.cli_env(DIARYADMIN_TEST_PAUSE_AT="before-commit", DIARYADMIN_TEST_PAUSE_SECONDS="3")
    command = kill.cli(database_url, "credentials", "issue", "--all", "--out", str(out))
    process = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    first = process.stderr.readline()
    while first.startswith("warning: "):  # the placeholder school name, said before issuing
        first = process.stderr.readline()
    assert "paused at before-commit" in first
    name = make_url(database_url).database
    admin = create_engine(make_url(database_url).set(database="postgres"))
    try:
        with admin.connect() as conn:
            ended = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            ).scalar()
    finally:
        admin.dispose()
    assert ended >= 1
    stderr = process.stderr.read()
    assert process.wait(60) == 4, stderr
    _assert_one_clean_sentence(stderr, "the connection to the database was lost", surnames)
    assert not out.exists()
    assert kill.hidden(tmp_path) == []
    assert kill.state(database_url) == before


def test_sqlite_locked_by_another_writer_past_the_busy_timeout(database_url, tmp_path):
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite only")
    path, surnames = _school(database_url, tmp_path)
    before = kill.state(database_url)
    other = tmp_path / "5B.xlsx"
    write_roster_xlsx(other, generate_school(5, seed=29))
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program writing, and taking its time
    try:
        started = time.monotonic()
        done = subprocess.run(
            kill.cli(database_url, "roster", "import", str(other)),
            env=kill.cli_env(DIARYADMIN_SQLITE_BUSY_SECONDS="1"),
            cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 4, done.stderr
    _assert_one_clean_sentence(
        done.stderr, "another program held the database locked too long", surnames
    )
    assert waited >= 1
    assert kill.state(database_url) == before
    assert path.exists()
