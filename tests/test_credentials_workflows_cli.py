"""The workflows behind the commands: dry runs that name what would change, e-mail skipped vs
failed, the cron run without SMTP, status in every format, and errors turned into messages."""

from __future__ import annotations

import errno
import json

import pytest
from sqlalchemy import select

from diaryadmin import cli as cli_module
from diaryadmin.credentials import issue as issuing
from diaryadmin.credentials import scope as credential_scope
from diaryadmin.models import AcademicPeriod, Credential
from helpers import factories as f

FAST_ENV = {
    "DIARYADMIN_ARGON2_TIME_COST": "1",
    "DIARYADMIN_ARGON2_MEMORY_KIB": "64",
    "DIARYADMIN_ALLOW_WEAK_HASHES": "1",
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.example",
}


@pytest.fixture
def fast(settings):
    return settings.with_overrides(argon2_time_cost=1, argon2_memory_kib=64, argon2_parallelism=1)


@pytest.fixture
def family(sessions):
    """Пётр with a mother (e-mail) and Юлия with a mother without one, both in 5А."""
    with sessions.begin() as session:
        petr = f.student(session)
        f.guardian(session, petr)
        julia = f.student(session, surname="Щукина", name="Юлия", patronymic="Андреевна")
        f.guardian(session, julia, surname="Щукина", name="Ольга", email=None, phone=None)
        return {"petr": petr.id, "julia": julia.id}


def _issue_all(run_cli):
    result = run_cli("credentials", "issue", "--all", "--out", "slips.csv", env=FAST_ENV)
    assert result.exit_code == 0, result.output


def test_issue_dry_run_names_who_would_get_a_login(run_cli, family, db_snapshot):
    before = db_snapshot()
    result = run_cli("credentials", "issue", "--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "issue login (new) (Иванова Мария Петровна (mother) for Иванов Пётр" in result.stderr
    assert "Щукина Ольга" in result.stderr
    assert db_snapshot() == before


def test_reset_and_revoke_dry_runs_name_the_login_and_change_nothing(
    run_cli, family, db_snapshot, workdir
):
    _issue_all(run_cli)
    before = db_snapshot()
    reset = run_cli("credentials", "reset", "iuliia.shchukina", "--dry-run", env=FAST_ENV)
    assert reset.exit_code == 0, reset.output
    assert "reset login iuliia.shchukina (Щукина Ольга" in reset.stderr
    revoke = run_cli("credentials", "revoke", "iuliia.shchukina", "--dry-run")
    assert revoke.exit_code == 0, revoke.output
    assert "revoke login iuliia.shchukina (was temporary)" in revoke.stderr
    assert "Revoked" not in revoke.stderr
    assert db_snapshot() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["slips.csv"]


def test_guardians_dry_runs_name_the_person_and_change_nothing(run_cli, family, db_snapshot):
    before = db_snapshot()
    grant = run_cli("guardians", "grant", "--student", str(family["petr"]),
                    "--guardian", "Иванова Мария", "--person", "Петрова Галина Ивановна",
                    "--dry-run", env=FAST_ENV)  # fmt: skip
    assert grant.exit_code == 0, grant.output
    assert "create trusted person Петрова Галина Ивановна" in grant.stderr
    assert "issue login" in grant.stderr
    revoke = run_cli("guardians", "revoke", "--student", str(family["petr"]),
                     "--person", "Иванова Мария", "--dry-run")  # fmt: skip
    assert revoke.exit_code == 0, revoke.output
    assert "withdraw access Иванова Мария Петровна (mother of Иванов Пётр)" in revoke.stderr
    assert db_snapshot() == before


def test_periods_add_dry_run(run_cli, family, sessions):
    result = run_cli("periods", "add", "Q1", "01.09.2026", "27.10.2026", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "add period Q1 (01.09.2026 – 27.10.2026, 2026/27)" in result.stderr
    with sessions() as session:
        assert session.scalars(select(AcademicPeriod)).all() == []


def test_email_alone_skips_a_guardian_without_an_address_and_exits_0(
    run_cli, family, sessions, monkeypatch
):
    from diaryadmin import mail

    monkeypatch.setattr(mail, "send_credential_letters", lambda issued, _s: (len(issued), []))
    env = {**FAST_ENV, "DIARYADMIN_SMTP_HOST": "127.0.0.1"}
    result = run_cli("--format", "json", "credentials", "issue", "--all", "--email", env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["issued"], report["emailed"], report["failed"]) == (1, 1, [])
    assert report["no_email"][0]["reason"] == "skipped: no e-mail address, not issued"
    assert "Щукина Ольга" in report["no_email"][0]["guardian"]
    with sessions() as session:  # no password that exists nowhere
        assert session.scalars(select(Credential.login)).all() == ["petr.ivanov"]


def test_expire_with_reminders_but_no_smtp_expires_and_reports_them(
    run_cli, family, sessions, fast
):
    from datetime import datetime, timedelta

    with sessions.begin() as session:
        ids = credential_scope.select_guardianships(session, all_=True)
        issuing.issue_credentials(
            session, fast, ids, operator="t", now=datetime.now() - timedelta(days=27)
        )
        session.scalar(
            select(Credential).where(Credential.login == "iuliia.shchukina")
        ).expires_at = datetime.now() - timedelta(days=1)
    result = run_cli("-q", "--format", "json", "credentials", "expire", "--remind", "5")
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    assert report["expired"] == 1
    assert [(r["login"], r["error"][:24]) for r in report["failed"]] == [
        ("petr.ivanov", "e-mail is not configured")
    ]
    assert "1 reminder could not be sent; the expiry is done" in result.stderr
    with sessions() as session:
        state = session.scalar(
            select(Credential.state).where(Credential.login == "iuliia.shchukina")
        )
        reminded = session.scalar(
            select(Credential.reminded_at).where(Credential.login == "petr.ivanov")
        )
    assert state == "expired" and reminded is None  # tried again once e-mail works


def test_status_json_and_csv_carry_totals_and_who_lacks_access(run_cli, family):
    data = json.loads(run_cli("--format", "json", "credentials", "status").stdout)
    assert data["total"] == {"class": "all", "temporary": 0, "active": 0, "expired": 0,
                             "locked": 0, "revoked": 0, "none": 2}  # fmt: skip
    assert sorted(m["guardian"] for m in data["without_access"]) == [
        "Иванова Мария Петровна",
        "Щукина Ольга Петровна",
    ]
    text = run_cli("--format", "csv", "credentials", "status").stdout
    counts, people = text.split("\n\n")
    assert counts.splitlines()[-1] == "all,0,0,0,0,0,2"
    assert people.splitlines()[0] == "student_id,class,student,guardian,relation,login,state"
    assert len(people.splitlines()) == 3


@pytest.fixture
def main_of(database_url, workdir, monkeypatch, capsys):
    """Run the real program (diaryadmin.cli.main): its exit code and stderr."""
    monkeypatch.setenv("DIARYADMIN_SECRET_KEY", "test-secret-key-0123456789abcdef")

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            cli_module.main(["--database-url", database_url, *args])
        return exit_info.value.code, capsys.readouterr().err

    return run


def test_an_unexpected_exception_is_an_internal_error_with_a_hint(main_of, family, monkeypatch):
    from diaryadmin.credentials import status

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(status, "credential_status", broken)
    code, err = main_of("credentials", "status")
    assert code == 5
    assert "Internal error (ZeroDivisionError)" in err and "-v" in err
    assert "Traceback" not in err and "configuration" not in err
    code, err = main_of("-v", "credentials", "status")
    assert code == 5 and "Traceback" in err


def test_a_database_error_is_one_sentence_without_sql_or_values(main_of, family, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from diaryadmin.credentials import status

    def lost(*args, **kwargs):
        raise OperationalError(
            "SELECT * FROM guardians WHERE surname = %(s)s",
            {"s": "Секретова"},
            Exception("server closed the connection: Секретова"),
        )

    monkeypatch.setattr(status, "credential_status", lost)
    code, err = main_of("credentials", "status")
    assert code == 4
    assert err.count("\n") == 1 and "connection to the database was lost" in err
    assert "Секретова" not in err and "SELECT" not in err
    code, err = main_of("-v", "credentials", "status")
    assert code == 4 and "statement: SELECT * FROM guardians" in err
    assert "Секретова" not in err


def test_a_full_disk_has_its_own_message_and_exit_code(main_of, family, monkeypatch):
    from diaryadmin import letters

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "slips.html")

    monkeypatch.setattr(letters, "slips_html", full)
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    code, err = main_of("credentials", "issue", "--all", "--out", "slips.html")
    assert code == 6 and "The disk is full writing slips.html" in err


def test_ctrl_c_says_nothing_changed_and_exits_130(run_cli, family, monkeypatch, db_snapshot):
    from diaryadmin.credentials import passwords

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(passwords, "start_hashing", interrupted)
    before = db_snapshot()
    result = run_cli("credentials", "issue", "--all", "--out", "s.html", env=FAST_ENV)
    assert result.exit_code == 130
    assert "interrupted, nothing changed" in result.stderr and "Traceback" not in result.stderr
    assert db_snapshot() == before


def test_the_next_run_removes_half_written_and_uncommitted_leftovers(run_cli, family, workdir):
    half = workdir / "..slips.csv.0123456789abcdef.pending.csv.k2j4.tmp"
    old_tmp = workdir / ".slips.csv.x7y8.tmp"
    uncommitted = workdir / ".slips.csv.fedcba9876543210.pending.csv"
    keep = workdir / "slips.csv.notes"
    for path in (half, old_tmp, uncommitted, keep):
        path.write_text("login;password\n")
    result = run_cli("credentials", "issue", "--all", "--out", "slips.csv", env=FAST_ENV)
    assert result.exit_code == 0, result.output
    assert result.stderr.count("half-written file left by an interrupted run") == 2
    assert "left by an interrupted run that committed nothing" in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["slips.csv", "slips.csv.notes"]


def test_cron_and_the_portal_call_the_same_workflows_without_the_cli(
    sessions, fast, family, tmp_path
):
    from diaryadmin.credentials.delivery import Delivery, Scope, issue_for_scope
    from diaryadmin.credentials.reminders import expire_and_remind

    said = []
    out = tmp_path / "slips.csv"
    result, plan = issue_for_scope(
        sessions, fast, Scope(all_=True), Delivery(out=out), operator="portal", say=said.append
    )
    assert [c.action for c in plan.changes] == ["issue", "issue"]
    assert len(result.issued) == 2 and out.exists()
    assert said == [f"Wrote 2 passwords to {out} (mode 0600)."]
    dry = expire_and_remind(sessions, fast, operator="cron", dry_run=True)
    assert (dry.expired, len(dry.plan)) == (0, 0)
