"""`diaryadmin check` and `diaryadmin school set|show`: the readiness report, row by row."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner
from sqlalchemy import select

from diaryadmin import db, readiness
from diaryadmin.cli import cli
from diaryadmin.config import Settings
from diaryadmin.errors import Refused
from diaryadmin.models import AuditEvent, Installation, School
from diaryadmin.schools import placeholder_warnings, portal_url, school_name, set_school
from helpers.smtp import Mailbox, env_for, free_port, self_signed_cert, smtp_server

NAMES = ["config", "secret_key", "database", "schema", "smtp", "templates", "school", "permissions"]
REAL = {
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru",
    "DIARYADMIN_SCHOOL_NAME": "МБОУ СОШ № 7",
}


def check(run_cli, *args, env=None):
    result = run_cli("--format", "json", "check", *args, env=env)
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == NAMES
    return result, {r["name"]: r for r in rows}


def test_a_ready_installation(run_cli, database_url):
    result, rows = check(run_cli, env=REAL)
    assert result.exit_code == 0, result.output
    assert {n: r["status"] for n, r in rows.items()} == {
        "config": "ok",
        "secret_key": "ok",
        "database": "ok",
        "schema": "ok",
        "smtp": "skipped",
        "templates": "ok",
        "school": "ok",
        "permissions": rows["permissions"]["status"],  # a PostgreSQL database has no file
    }
    assert rows["database"]["message"].startswith(db.hide_password(database_url))
    head = db.head_revision(db.make_engine(database_url, create=False))
    assert rows["schema"]["message"] == f"at the newest revision ({head})"
    assert "Ready." in result.stderr


def test_database_password_is_hidden(workdir):
    url = "postgresql+psycopg://diary:secretpw@127.0.0.1:1/none"
    result = CliRunner().invoke(cli, ["--database-url", url, "--format", "json", "check"])
    assert result.exit_code == 4
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["database"]["status"] == "error"
    assert (
        "cannot open postgresql+psycopg://diary:***@127.0.0.1:1/none" in rows["database"]["message"]
    )
    assert rows["schema"]["status"] == "skipped"
    assert "secretpw" not in result.output


def test_nothing_set_up_yet_is_an_error_and_creates_nothing(workdir):
    result = CliRunner().invoke(cli, ["--format", "json", "check"])
    assert result.exit_code == 4
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["secret_key"]["status"] == "error"
    assert "DIARYADMIN_SECRET_KEY is not set" in rows["secret_key"]["message"]
    assert rows["database"]["status"] == "error"
    assert "does not exist" in rows["database"]["message"]
    assert rows["school"]["status"] == "warning"
    assert "Not ready: secret_key, database." in result.stderr
    assert list(workdir.iterdir()) == []


def test_another_key_is_an_error_and_check_records_nothing(run_cli, engine):
    result, rows = check(run_cli, env={"DIARYADMIN_SECRET_KEY": "another-key-0123456789abcdef"})
    assert result.exit_code == 4
    assert rows["secret_key"] == {
        "name": "secret_key",
        "status": "error",
        "message": db.KEY_MISMATCH,
    }
    with engine.begin() as conn:
        conn.execute(Installation.__table__.delete())
    result, rows = check(run_cli)
    assert rows["secret_key"]["status"] == "warning"
    assert "run 'diaryadmin db upgrade'" in rows["secret_key"]["message"]
    assert db.stored_key_verifier(engine) is None  # check is read-only


def test_schema_behind_says_what_to_run(run_cli, engine):
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0001'")
    result, rows = check(run_cli)
    assert result.exit_code == 4
    assert rows["schema"]["status"] == "error"
    assert "run 'diaryadmin db upgrade'" in rows["schema"]["message"]
    assert rows["school"]["status"] == "warning"  # from the settings, not the database


def test_unknown_setting_and_bad_templates(run_cli, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "slips.html.j2").write_text("{{ portal_url }} {{ no_such_variable }}")
    env = {"DIARYADMIN_TEMPLATES_DIR": str(folder), "DIARYADMIN_SMPT_HOST": "mail"}
    result, rows = check(run_cli, env=env)
    assert result.exit_code == 4
    assert rows["config"]["status"] == "warning"
    assert "DIARYADMIN_SMPT_HOST" in rows["config"]["message"]
    assert rows["templates"]["status"] == "error"
    assert rows["templates"]["message"].startswith("slips.html.j2: UndefinedError")
    (folder / "slips.html.j2").unlink()
    (folder / "slip.html.j2").write_text("misnamed")
    result, rows = check(run_cli, env=env)
    assert rows["templates"]["status"] == "warning"
    assert "never used (misnamed?): slip.html.j2" in rows["templates"]["message"]


@pytest.mark.skipif(bool(os.environ.get("DIARYADMIN_TEST_DATABASE_URL")), reason="SQLite files")
def test_permissions(run_cli, database_url, workdir):
    database = db.sqlite_file(database_url)
    (workdir / ".env").write_text("DIARYADMIN_LOCKOUT_THRESHOLD=10\n")
    (workdir / ".env").chmod(0o600)
    database.chmod(0o600)
    result, rows = check(run_cli, env=REAL)
    assert rows["permissions"]["status"] == "ok", rows["permissions"]
    assert str(workdir / ".env") in rows["permissions"]["message"]
    database.chmod(0o644)
    (workdir / ".env").chmod(0o640)
    result, rows = check(run_cli, env=REAL)
    assert result.exit_code == 0
    assert rows["permissions"]["status"] == "warning"
    message = rows["permissions"]["message"]
    assert str(database) in message and str(workdir / ".env") in message
    assert f"; run: chmod 600 {workdir / '.env'} {database}" in message


# --- smtp ----------------------------------------------------------------------------------------


def test_smtp_is_skipped_without_a_host_and_ok_with_a_server(run_cli):
    with smtp_server() as (box, overrides):
        result, rows = check(run_cli, env=env_for(overrides))
    assert rows["smtp"]["status"] == "ok", rows["smtp"]
    assert rows["smtp"]["message"] == f"127.0.0.1:{overrides['smtp_port']} (none): connected"
    assert box.messages == []  # nothing is sent


def test_smtp_nobody_listening(run_cli):
    env = env_for({"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"})
    result, rows = check(run_cli, env={**env, "DIARYADMIN_SMTP_TIMEOUT": "2"})
    assert result.exit_code == 4
    assert rows["smtp"]["status"] == "error"
    assert "ConnectionRefusedError" in rows["smtp"]["message"]


@contextmanager
def smtp_with_login(user: str, password: str):
    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(),
            auth_data.password.decode(),
        ) == (user, password)
        return AuthResult(success=ok, handled=False)

    port = free_port()
    controller = Controller(
        Mailbox(),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],  # smtplib then tries PLAIN alone
    )
    controller.start()
    try:
        yield {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none"}
    finally:
        controller.stop()


def test_smtp_login_works_or_is_refused(run_cli):
    with smtp_with_login("school", "mailpw") as overrides:
        good = env_for({**overrides, "smtp_user": "school", "smtp_password": "mailpw"})
        result, rows = check(run_cli, env=good)
        assert rows["smtp"]["status"] == "ok"
        assert rows["smtp"]["message"].endswith("connected, logged in as school")
        bad = env_for({**overrides, "smtp_user": "school", "smtp_password": "wrongpw"})
        result, rows = check(run_cli, env=bad)
    assert result.exit_code == 4
    assert rows["smtp"]["status"] == "error"
    assert "login as 'school' refused (535)" in rows["smtp"]["message"]
    assert "wrongpw" not in result.output


def test_smtp_login_on_a_server_without_auth(run_cli):
    with smtp_server() as (box, overrides):
        env = env_for({**overrides, "smtp_user": "school", "smtp_password": "x"})
        result, rows = check(run_cli, env=env)
    assert rows["smtp"]["status"] == "error"
    assert "AUTH extension not supported" in rows["smtp"]["message"]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_smtp_tls(run_cli, tmp_path, monkeypatch, security):
    cert = self_signed_cert(tmp_path)
    if cert is None:
        pytest.skip("no openssl tool to make a certificate")
    with smtp_server(security=security, cert=cert) as (box, overrides):
        result, rows = check(run_cli, env=env_for(overrides))
        assert rows["smtp"]["status"] == "error"  # the certificate is not trusted
        assert "TLS failed (CERTIFICATE_VERIFY_FAILED)" in rows["smtp"]["message"]
        monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
        result, rows = check(run_cli, env=env_for(overrides))
    assert rows["smtp"]["status"] == "ok", rows["smtp"]
    assert f"({security}): connected" in rows["smtp"]["message"]


# --- the school: name and portal address ---------------------------------------------------------


def test_school_set_then_check_and_show(run_cli, sessions):
    result, rows = check(run_cli)
    assert rows["school"]["status"] == "warning"
    assert "placeholder address https://diary.example.org" in rows["school"]["message"]
    assert "diaryadmin school set --portal-url" in rows["school"]["message"]
    done = run_cli(
        "school", "set", "--name", "МБОУ СОШ № 7", "--portal-url", "https://diary.school7.ru"
    )
    assert done.exit_code == 0, done.output
    assert "changed name, portal_url" in done.stderr
    result, rows = check(run_cli)
    assert rows["school"]["status"] == "ok"
    shown = json.loads(run_cli("--format", "json", "school", "show").stdout)
    assert shown == {
        "code": "school",
        "name": "МБОУ СОШ № 7",
        "portal_url": "https://diary.school7.ru",
        "portal_url_from": "school",
        "language": "ru",
    }
    with sessions() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "school.set"))
    assert event.details == {"name": "МБОУ СОШ № 7", "portal_url": "https://diary.school7.ru"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Nothing to set"),
        (("--portal-url", "diary.school7.ru"), "write the full address"),
        (("--portal-url", "https://diary.example.org"), "is a placeholder address"),
        (("--portal-url", "https://portal.example.com/login"), "is a placeholder address"),
        (("--portal-url", "https://diary.school7.ru\u202e"), "bidirectional override"),
        (("--name", "Школа"), "is the placeholder"),
        (("--name", "   "), "is the placeholder"),
        (("--name", "Школа\x07 № 7"), "control character"),
    ],
)
def test_school_set_refuses(run_cli, db_snapshot, args, message):
    before = db_snapshot()
    result = run_cli("school", "set", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert db_snapshot() == before


def test_portal_url_is_the_one_lookup(sessions, settings):
    real = settings.with_overrides(portal_url="https://diary.city.ru", school_name="Гимназия № 2")
    with sessions() as session, session.begin():
        assert portal_url(session, None, settings) == "https://diary.example.org"  # no school
        school = School(code="s7", name="Школа", portal_url="https://diary.example.org")
        session.add(school)
        session.flush()
        # a placeholder copied into the school does not hide the settings' real address
        assert portal_url(session, school, real) == "https://diary.city.ru"
        assert portal_url(session, None, real) == "https://diary.city.ru"  # the only school
        assert school_name(school, real) == "Гимназия № 2"
        assert len(placeholder_warnings(session, school, settings)) == 2
        assert placeholder_warnings(session, school, real) == []
        set_school(session, settings, operator="t", code="s7", portal="https://diary.s7.ru")
        assert portal_url(session, school, real) == "https://diary.s7.ru"
        warnings = placeholder_warnings(session, school, settings)
        assert warnings == [
            "slips and letters will name the school 'Школа', the placeholder: set it with "
            "'diaryadmin school set --school s7 --name \"МБОУ СОШ № 1\"'"
        ]
        with pytest.raises(Refused, match="placeholder"):
            set_school(session, settings, operator="t", name="Школа")


def test_check_core_without_the_cli(settings):
    checks = readiness.check_installation(
        settings.with_overrides(**{"portal_url": "https://x.ru", "school_name": "Лицей"}), env={}
    )
    assert [c.name for c in checks] == NAMES
    assert not readiness.has_errors(checks)
    assert readiness.has_errors(
        readiness.check_installation(Settings(database_url=settings.database_url), env={})
    )
