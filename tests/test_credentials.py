"""Parent credentials end to end: issue → slips → authenticate → change → status, reissue,
reset, revoke, trusted persons, concurrency of two operators, and no password anywhere."""

from __future__ import annotations

import csv
import json
import re
import stat
import threading
import time
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from diaryadmin import letters
from diaryadmin.credentials import auth, logins, passwords
from diaryadmin.credentials import issue as credentials
from diaryadmin.credentials import scope as credential_scope
from diaryadmin.errors import NotFound, Refused
from diaryadmin.models import AuditEvent, Credential, Guardian
from helpers import factories as f
from helpers.credentials import (
    FAST,
    FAST_ENV,
    NOW,
    PASSWORD_RE,
    issue,
    make_roster,
    read_slips,
)

# Cheap hashes for speed; test_hash_with_default_parameters keeps the real ones.


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**FAST, portal_url="https://diary.school7.example")


@pytest.fixture
def roster(sessions):
    with sessions.begin() as session:
        return make_roster(session)


# --- passwords and logins -------------------------------------------------------------------------


def test_temporary_passwords_are_readable_and_strong():
    drawn = passwords.new_passwords(2000)
    assert all(PASSWORD_RE.fullmatch(p) for p in drawn)
    assert not set("".join(drawn)) & set("0Oo1lIi")
    assert passwords.entropy_bits() >= 50
    assert len(set(drawn)) == len(drawn)
    # every allowed character is used: the draw is over the whole alphabet
    assert set("".join(drawn)) - {"-"} == set(passwords.ALPHABET)


def test_logins_follow_the_passport_transliteration():
    assert logins.login_stem("Юлия", "Щукина") == "iuliia.shchukina"
    assert logins.login_stem("Пётр", "Иванов", "Мария") == "petr.ivanov.mariia"
    assert logins.login_stem("Дарья", "Римская-Корсакова") == "daria.rimskaia-korsakova"
    # Latin look-alikes inside the Cyrillic name do not leak into the login
    assert logins.login_stem("Пётр", "Ивaнов") == "petr.ivanov"
    taken = {"petr.ivanov", "petr.ivanov2"}
    assert logins.allocate(["petr.ivanov", "petr.ivanov", "anna.ivanova"], taken) == [
        "petr.ivanov3",
        "petr.ivanov4",
        "anna.ivanova",
    ]


def test_hash_with_default_parameters_is_a_standard_argon2id_phc_string(settings):
    from argon2 import PasswordHasher

    assert (settings.argon2_memory_kib, settings.argon2_time_cost) == (19456, 2)
    password = passwords.new_password()
    value = passwords.hash_password(password, settings)
    assert value.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(value, password)
    assert passwords.matches(password, value, settings)
    assert not passwords.matches(password.upper(), value, settings)


def test_pool_hashes_in_order_and_reports_progress(fast):
    from argon2 import PasswordHasher

    plain = passwords.new_passwords(12)
    seen = []
    hashes = passwords.hash_many(plain, fast.with_overrides(hash_workers=2), seen.append)
    assert sum(seen) == 12
    for password, value in zip(plain, hashes, strict=True):
        assert value.startswith("$argon2id$v=19$m=64,t=1,p=1$")
        assert PasswordHasher().verify(value, password)


def test_hashing_runs_ahead_and_collects_each_hash_once_in_order(fast):
    from argon2 import PasswordHasher

    plain = passwords.new_passwords(40)
    seen = []
    hashing = passwords.start_hashing(plain, fast.with_overrides(hash_workers=2))
    hashing.poll(seen.append)  # whatever is done already, without waiting
    hashes = hashing.result(seen.append)
    assert sum(seen) == 40 and len(seen) > 1  # chunk by chunk
    for password, value in zip(plain, hashes, strict=True):
        assert PasswordHasher().verify(value, password)


def _dies_on_a_marked_chunk(params, chunk):
    import os

    if "die" in chunk:
        os._exit(1)
    return [passwords._context(params).hash(password) for password in chunk]


def test_a_dead_worker_leaves_the_rest_to_this_process(fast, monkeypatch):
    """A worker killed mid-batch (out of memory, SIGKILL) breaks the pool: the hashes done
    are kept and the rest are made here, in order."""
    passwords.shutdown_pool()  # a new pool, forked with the chunk that kills its worker
    monkeypatch.setattr(passwords, "_hash_chunk", _dies_on_a_marked_chunk)
    plain = [*passwords.new_passwords(20), "die", *passwords.new_passwords(19)]
    try:
        hashes = passwords.hash_many(plain, fast.with_overrides(hash_workers=2))
    finally:
        passwords.shutdown_pool()
    assert len(hashes) == 40
    assert all(passwords.matches(p, h, fast) for p, h in zip(plain, hashes, strict=True))


# --- issue end to end ----------------------------------------------------------------------------


def test_issue_slips_authenticate_change_status_end_to_end(
    run_cli, roster, sessions, fast, workdir
):
    result = run_cli("--format", "json", "credentials", "issue", "--class", "5 а",
                     "--out", "slips.html", env=FAST_ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"issued": 3, "skipped": 0, "emailed": 0, "failed": []}
    path = workdir / "slips.html"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    slips = read_slips(path)
    assert [s["login"] for s in slips] == ["petr.ivanov.sergei", "petr.ivanov.mariia",
                                          "iuliia.shchukina"]  # fmt: skip
    text = path.read_text(encoding="utf-8")
    for needle in ("МБОУ СОШ № 1", "класс 5А", "латинскими буквами", "Caps Lock",
                   "нет цифры 0 и буквы O", "https://diary.school7.example", "size: A4",
                   "dashed"):  # fmt: skip
        assert needle in text
    first = slips[1]
    assert first["student"] == "Иванов Пётр Сергеевич"
    assert first["guardian"] == "Иванова Мария Петровна (мать)"
    assert PASSWORD_RE.fullmatch(first["password"])
    expiry = datetime.now() + timedelta(days=30)
    assert first["expires"] in (f"{expiry:%d.%m.%Y}", f"{expiry - timedelta(days=1):%d.%m.%Y}")
    assert len({s["password"] for s in slips}) == 3

    with sessions.begin() as session:
        checked = auth.authenticate(session, first["login"], first["password"], settings=fast)
        assert checked.ok and checked.must_change
        changed = auth.change_password(
            session, first["login"], first["password"], "my own secret 42", settings=fast
        )
        assert changed.ok
    with sessions.begin() as session:
        assert auth.authenticate(session, first["login"], "my own secret 42", settings=fast).ok
        assert auth.authenticate(session, first["login"], first["password"], settings=fast).reason \
            == "wrong_password"  # fmt: skip

    status = run_cli("credentials", "status", "--format", "json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["classes"] == [
        {"class": "5А", "temporary": 2, "active": 1, "expired": 0, "locked": 0, "revoked": 0,
         "none": 0},
        {"class": "7Б", "temporary": 0, "active": 0, "expired": 0, "locked": 0, "revoked": 0,
         "none": 1},
    ]  # fmt: skip
    table = run_cli("credentials", "status")
    assert "Without working access (1):" in table.stdout
    assert "Иванова Анна Сергеевна" in table.stdout


def test_issue_mail_merge_csv_and_xlsx(run_cli, roster, workdir):
    result = run_cli("credentials", "issue", "--all", "--out", "merge.csv", env=FAST_ENV)
    assert result.exit_code == 0, result.output
    path = workdir / "merge.csv"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))
    assert rows[0] == list(letters.MAIL_MERGE_COLUMNS)
    assert [r[0] for r in rows[1:]] == [
        "petr.ivanov.sergei", "petr.ivanov.mariia", "iuliia.shchukina", "anna.ivanova",
    ]  # fmt: skip
    assert rows[2][2:6] == ["Иванов Пётр Сергеевич", "5А", "Иванова Мария Петровна", "мать"]
    assert rows[2][6] == "maria@example.org" and rows[3][6] == ""
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", rows[1][7])

    again = run_cli("credentials", "issue", "--all", "--reissue", "--out", "merge.xlsx",
                    env=FAST_ENV)  # fmt: skip
    assert again.exit_code == 0, again.output
    sheet = load_workbook(workdir / "merge.xlsx").active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == list(letters.MAIL_MERGE_COLUMNS)
    assert [v[0] for v in values[1:]] == [r[0] for r in rows[1:]]
    assert all(PASSWORD_RE.fullmatch(v[1]) for v in values[1:])
    assert {v[1] for v in values[1:]}.isdisjoint({r[1] for r in rows[1:]})
    assert stat.S_IMODE((workdir / "merge.xlsx").stat().st_mode) == 0o600


def test_out_file_is_never_overwritten_without_force(run_cli, roster, workdir, db_snapshot):
    (workdir / "slips.html").write_text("keep me")
    before = db_snapshot()
    result = run_cli("credentials", "issue", "--all", "--out", "slips.html", env=FAST_ENV)
    assert result.exit_code == 1
    assert "already exists; use --force" in result.stderr
    assert (workdir / "slips.html").read_text() == "keep me"
    assert db_snapshot() == before
    forced = run_cli("credentials", "issue", "--all", "--out", "slips.html", "--force",
                     env=FAST_ENV)  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert len(read_slips(workdir / "slips.html")) == 4
    assert stat.S_IMODE((workdir / "slips.html").stat().st_mode) == 0o600


def test_issue_refuses_bad_scope_and_destination(run_cli, roster, db_snapshot):
    before = db_snapshot()
    assert (
        "--class, --student or --all"
        in run_cli("credentials", "issue", "--out", "x.html", env=FAST_ENV).stderr
    )
    unknown = run_cli("credentials", "issue", "--class", "9Я", "--out", "x.html", env=FAST_ENV)
    assert unknown.exit_code == 1 and "No class 9Я" in unknown.stderr
    bad = run_cli("credentials", "issue", "--class", "5Q", "--out", "x.html", env=FAST_ENV)
    assert bad.exit_code == 1 and "not a Cyrillic letter" in bad.stderr
    suffix = run_cli("credentials", "issue", "--all", "--out", "x.pdf", env=FAST_ENV)
    assert suffix.exit_code == 1 and ".html, .csv or .xlsx" in suffix.stderr
    nowhere = run_cli("credentials", "issue", "--all", env=FAST_ENV)
    assert nowhere.exit_code == 2 and "--out FILE" in nowhere.output
    assert db_snapshot() == before


def test_dry_run_counts_and_writes_nothing(run_cli, roster, db_snapshot, workdir):
    before = db_snapshot()
    result = run_cli("--format", "json", "credentials", "issue", "--all", "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"would_issue": 4, "skipped": 0}
    assert db_snapshot() == before
    assert list(workdir.iterdir()) == []


def test_a_file_that_cannot_be_written_rolls_the_issue_back(
    run_cli, roster, db_snapshot, workdir, monkeypatch
):
    before = db_snapshot()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(letters, "slips_html", broken)
    with pytest.raises(OSError, match="No space"):
        run_cli("credentials", "issue", "--all", "--out", "slips.html", env=FAST_ENV)
    assert db_snapshot() == before
    assert list(workdir.iterdir()) == []


def test_a_failed_commit_deletes_the_file(run_cli, roster, db_snapshot, workdir):
    before = db_snapshot()

    def refuse_commit(session):
        raise RuntimeError("the database went away")

    event.listen(Session, "before_commit", refuse_commit)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            run_cli("credentials", "issue", "--all", "--out", "slips.html", env=FAST_ENV)
    finally:
        event.remove(Session, "before_commit", refuse_commit)
    assert not (workdir / "slips.html").exists()
    assert db_snapshot() == before


# --- reissue, reset, revoke -----------------------------------------------------------------------


def test_reissue_keeps_logins_and_kills_old_passwords(sessions, fast, roster):
    first = issue(sessions, fast, classes=["5А"])
    assert len(first.issued) == 3
    again = issue(sessions, fast, classes=["5А"])
    assert again.issued == [] and again.skipped == 3
    # a second guardian added later does not change the first login (logins are stable)
    with sessions.begin() as session:
        julia = session.get(f.Student, roster["julia"])
        f.guardian(session, julia, surname="Щукин", name="Андрей", email="a@example.org")
    redo = issue(sessions, fast, classes=["5А"], reissue=True, now=NOW + timedelta(days=3))
    assert len(redo.issued) == 4
    old = {c.login: c.password for c in first.issued}
    new = {c.login: c.password for c in redo.issued}
    assert set(old) < set(new)
    assert "iuliia.shchukina.andrei" in new and "iuliia.shchukina" in new
    with sessions.begin() as session:
        for login, password in old.items():
            assert auth.authenticate(session, login, password, settings=fast, now=NOW).reason \
                == "wrong_password"  # fmt: skip
            assert auth.authenticate(session, login, new[login], settings=fast, now=NOW).ok
        rows = session.scalars(select(Credential)).all()
        assert len(rows) == 4
        assert {r.expires_at for r in rows} == {NOW + timedelta(days=33)}


def test_reset_by_login_and_by_student_and_guardian(run_cli, sessions, fast, roster, workdir):
    issued = issue(sessions, fast, all_=True)
    mother = next(c for c in issued.issued if c.login == "petr.ivanov.mariia")
    with sessions.begin() as session:
        for _ in range(10):
            auth.authenticate(session, mother.login, "wrong-guess", settings=fast)
        assert session.scalar(select(Credential.state).where(Credential.login == mother.login)) \
            == "locked"  # fmt: skip
    result = run_cli("--format", "json", "credentials", "reset", "PETR.IVANOV.MARIIA",
                     "--out", "reset.html", env=FAST_ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["issued"] == 1
    (slip,) = read_slips(workdir / "reset.html")
    assert slip["login"] == mother.login and slip["password"] != mother.password
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == mother.login))
        assert (row.state, row.failed_attempts) == ("temporary", 0)
        assert auth.authenticate(session, mother.login, mother.password, settings=fast).reason \
            == "wrong_password"  # fmt: skip
        assert auth.authenticate(session, mother.login, slip["password"], settings=fast).ok

    by_name = run_cli("credentials", "reset", "--student", str(roster["petr"]),
                      "--guardian", "иванов сергей", "--out", "forgot.csv",
                      env=FAST_ENV)  # fmt: skip
    assert by_name.exit_code == 0, by_name.output
    assert "petr.ivanov.sergei;" in (workdir / "forgot.csv").read_text(encoding="utf-8-sig")

    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("credentials.reset") == 2
    missing = run_cli("credentials", "reset", "nobody.here", "--out", "r.html", env=FAST_ENV)
    assert missing.exit_code == 1 and "There is no login 'nobody.here'" in missing.stderr


def test_revoke_stops_the_login(run_cli, sessions, fast, roster):
    issued = issue(sessions, fast, student_ids=[roster["julia"]])
    (julia,) = issued.issued
    assert run_cli("credentials", "revoke", julia.login, input="n\n").exit_code == 1
    result = run_cli("credentials", "revoke", julia.login, "--yes")
    assert result.exit_code == 0, result.output
    with sessions.begin() as session:
        assert auth.authenticate(session, julia.login, julia.password, settings=fast).reason \
            == "revoked"  # fmt: skip
    status = json.loads(run_cli("credentials", "status", "--format", "json").stdout)
    assert status["classes"][0]["revoked"] == 1


def test_trusted_person_grant_and_revoke(run_cli, sessions, fast, roster, workdir):
    result = run_cli("guardians", "grant", "--student", str(roster["petr"]),
                     "--guardian", "Иванова Мария", "--person", "Петрова Галина Ивановна",
                     "--address", "galina@example.org", "--out", "grant.html",
                     env=FAST_ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    (slip,) = read_slips(workdir / "grant.html")
    assert slip["guardian"] == "Петрова Галина Ивановна (доверенное лицо)"
    assert slip["login"] == "petr.ivanov.galina"
    with sessions.begin() as session:
        assert auth.authenticate(session, slip["login"], slip["password"], settings=fast).ok
        person = session.scalar(select(Guardian).where(Guardian.email == "galina@example.org"))
        assert person.guardianships[0].trusted
    twice = run_cli("guardians", "grant", "--student", str(roster["petr"]),
                    "--guardian", "Иванова Мария", "--person", "Петрова Галина Ивановна",
                    "--address", "galina@example.org", "--out", "again.html",
                    env=FAST_ENV)  # fmt: skip
    assert twice.exit_code == 1 and "already has access" in twice.stderr
    revoked = run_cli("guardians", "revoke", "--student", str(roster["petr"]),
                      "--person", "Петрова Галина", "--yes")  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    with sessions.begin() as session:
        assert auth.authenticate(session, slip["login"], slip["password"], settings=fast).reason \
            == "revoked"  # fmt: skip
        events = session.scalars(select(AuditEvent.action)).all()
        assert "guardians.grant" in events and "guardians.revoke" in events


def test_inactive_students_and_withdrawn_access_are_not_issued(sessions, fast, roster):
    with sessions.begin() as session:
        ids = credential_scope.select_guardianships(session, all_=True)
        assert roster["julia_mother"] in ids and len(ids) == 4
    with pytest.raises(NotFound):
        issue(sessions, fast, student_ids=[99999])
    with pytest.raises(Refused):
        issue(sessions, fast)


# --- two operators at once ------------------------------------------------------------------------


def test_two_operators_issuing_the_same_logins_at_once_both_succeed(sessions, fast, caplog):
    """A holds its transaction open with `petr.ivanov` written; B allocates the same login
    meanwhile (SQLite: waits for the write lock; PostgreSQL: blocks on the unique index, gets
    an IntegrityError when A commits and retries under its SAVEPOINT)."""
    with sessions.begin() as session:
        one = f.student(session, class_name="5А")
        f.guardian(session, one)
        two = f.student(session, class_name="6А", birth_date=one.birth_date.replace(2014))
        f.guardian(session, two, surname="Петрова", name="Ирина", email="irina@example.org")
    results: dict[str, credentials.IssueResult] = {}
    errors: list[BaseException] = []

    def operator_b():
        try:
            results["b"] = issue(sessions, fast, classes=["6А"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    caplog.set_level("INFO", logger="diaryadmin.credentials.issue")
    session_a = sessions()
    session_a.begin()
    ids = credential_scope.select_guardianships(session_a, classes=["5А"])
    results["a"] = credentials.issue_credentials(session_a, fast, ids, operator="a", now=NOW)
    thread = threading.Thread(target=operator_b)
    thread.start()
    time.sleep(1.0)  # B is now waiting on A
    session_a.commit()
    session_a.close()
    thread.join(60)
    assert not errors, errors
    logins_issued = sorted(c.login for r in results.values() for c in r.issued)
    assert logins_issued == ["petr.ivanov", "petr.ivanov2"]
    if sessions.kw["bind"].dialect.name == "postgresql":
        assert "written by someone else meanwhile; retrying" in caplog.text
    with sessions() as session:
        assert sorted(session.scalars(select(Credential.login))) == logins_issued


def test_two_operators_issuing_the_same_class_at_once_issue_each_once(sessions, fast):
    with sessions.begin() as session:
        for n in range(6):
            child = f.student(session, surname="Соколов", name=f"Иван{'а' * n}")
            f.guardian(session, child, surname="Соколова", name="Ольга", email=f"o{n}@e.org")
    results, errors = [], []

    def operator():
        try:
            results.append(issue(sessions, fast, classes=["5А"]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(len(r.issued) for r in results) == [0, 6]
    assert sum(r.skipped for r in results) == 6
    with sessions() as session:
        assert len(session.scalars(select(Credential)).all()) == 6


# --- secrets stay secret --------------------------------------------------------------------------


def test_no_password_in_database_audit_or_logs(run_cli, sessions, fast, roster, workdir, caplog,
                                               db_snapshot):  # fmt: skip
    caplog.set_level("DEBUG")
    outputs = []
    result = run_cli("-v", "credentials", "issue", "--all", "--out", "slips.html", env=FAST_ENV)
    outputs.append(result.output)
    plain = [s["password"] for s in read_slips(workdir / "slips.html")]
    reset = run_cli("-v", "credentials", "reset", "petr.ivanov.mariia", "--out", "reset.csv",
                    env=FAST_ENV)  # fmt: skip
    outputs.append(reset.output)
    plain.append(
        (workdir / "reset.csv").read_text(encoding="utf-8-sig").splitlines()[1].split(";")[1]
    )
    doctor = run_cli("credentials", "doctor", "iuliia.shchukina", "--attempt",
                     input=plain[2] + "\n", env=FAST_ENV)  # fmt: skip
    assert "password_ok" in doctor.output
    outputs.append(doctor.output)
    with sessions.begin() as session:
        auth.change_password(session, "anna.ivanova", plain[3], "новый пароль 123", settings=fast)
    plain.append("новый пароль 123")
    dump = repr(db_snapshot())
    with sessions() as session:
        trail = repr(session.execute(select(AuditEvent.target, AuditEvent.details)).all())
        hashes = session.scalars(select(Credential.password_hash)).all()
    assert len(plain) == 6 and all(plain)
    for secret in plain:
        assert secret not in dump
        assert secret not in trail
        assert secret not in caplog.text
        assert all(secret not in text for text in outputs)
    for value in hashes:
        assert value.startswith("$argon2id$")
        assert all(value not in text for text in outputs)


def test_numbered_logins_continue_after_the_highest_one_taken(sessions):
    with sessions.begin() as session:
        child = f.student(session)
        taken = ["anna.ivanova", *(f"anna.ivanova{n}" for n in range(2, 52)), "petr.ivanov",
                 "petr.ivanov7", "petr.ivanov.mariia"]  # fmt: skip
        for n, login in enumerate(taken):
            link = f.guardian(session, child, name=f"Гость{n}", email=None)
            session.add(
                Credential(
                    guardianship_id=link.id,
                    login=login,
                    password_hash="x",
                    state="active",
                    issued_at=NOW,
                )  # fmt: skip
            )
        session.flush()
        found = logins.existing_logins(session, ["anna.ivanova", "petr.ivanov", "new.one"])
        assert found == set(taken) - {"petr.ivanov.mariia"}
        assert logins.allocate(["anna.ivanova", "petr.ivanov", "new.one"], found) == [
            "anna.ivanova52",
            "petr.ivanov8",
            "new.one",
        ]


def test_status_for_one_class_lists_who_has_no_working_access(run_cli, sessions, fast, roster):
    issue(sessions, fast, classes=["5А"])
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "petr.ivanov.sergei"))
        row.state = "locked"
    one = run_cli("--format", "json", "credentials", "status", "--class", "5a",
                  "--as-of", "10.09.2026")  # fmt: skip
    assert json.loads(one.stdout)["classes"] == [
        {"class": "5А", "temporary": 2, "active": 0, "expired": 0, "locked": 1, "revoked": 0,
         "none": 0},
    ]  # fmt: skip
    table = run_cli("credentials", "status", "--as-of", "10.09.2026")
    lines = table.stdout.splitlines()
    assert ["all", "2", "0", "0", "1", "0", "1"] in [line.split() for line in lines]
    assert "Without working access (2):" in table.stdout
    assert any("petr.ivanov.sergei" in line and "locked" in line for line in lines)


def test_issue_hashes_before_it_takes_the_write_lock(
    run_cli, roster, sessions, fast, workdir, database_url, monkeypatch
):
    """While the CPU hashes, the portal must still be able to write (a login, a lockout)."""
    from sqlalchemy import insert

    from diaryadmin import db

    real_start_hashing = passwords.start_hashing
    portal_writes = []

    def hash_while_the_portal_writes(plain, settings):
        other = db.make_engine(database_url)
        try:
            with other.connect() as conn:
                if conn.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA busy_timeout=200")
                    conn.commit()
                with conn.begin():
                    conn.execute(
                        insert(AuditEvent).values(
                            at=NOW, operator="portal", action="auth.login", details={}
                        )
                    )
            portal_writes.append(len(plain))
        finally:
            other.dispose()
        return real_start_hashing(plain, settings)

    monkeypatch.setattr(passwords, "start_hashing", hash_while_the_portal_writes)
    result = run_cli("credentials", "issue", "--class", "5А", "--out", "s.html", env=FAST_ENV)
    assert result.exit_code == 0, result.output
    assert portal_writes[0] == 3  # all three hashed ahead, while the portal wrote
    slips = read_slips(workdir / "s.html")
    with sessions.begin() as session:
        for slip in slips:
            assert auth.authenticate(session, slip["login"], slip["password"], settings=fast).ok


def test_password_supply_hands_out_prepared_pairs_first(fast):
    supply = passwords.PasswordSupply.prepare(2, fast)
    plain, hashes = supply.take(3, fast)
    assert len(plain) == len(hashes) == 3 and len(set(plain)) == 3
    assert all(passwords.verify_password(p, h, fast)[0] for p, h in zip(plain, hashes, strict=True))
    assert supply.take(1, fast)[0] != plain[:1]  # prepared pairs are handed out once


def test_issue_refuses_a_bad_destination_before_hashing(
    run_cli, roster, workdir, db_snapshot, monkeypatch
):
    def no_hashing(*args, **kwargs):
        raise AssertionError("hashed before the destination was checked")

    monkeypatch.setattr(passwords, "start_hashing", no_hashing)
    (workdir / "slips.html").write_text("keep me")
    before = db_snapshot()
    exists = run_cli("credentials", "issue", "--all", "--out", "slips.html", env=FAST_ENV)
    assert exists.exit_code == 1 and "already exists" in exists.stderr
    suffix = run_cli("credentials", "issue", "--all", "--out", "x.pdf", env=FAST_ENV)
    assert suffix.exit_code == 1 and ".html, .csv or .xlsx" in suffix.stderr
    no_smtp = run_cli("credentials", "issue", "--all", "--out", "x.html", "--email", env=FAST_ENV)
    assert no_smtp.exit_code == 4 and "E-mail is not configured" in no_smtp.stderr
    assert db_snapshot() == before
    assert sorted(p.name for p in workdir.iterdir()) == ["slips.html"]


def test_namesake_guardians_of_one_child_are_told_apart_by_login(run_cli, sessions, fast, roster):
    """Mother and a trusted grandmother with the very same full name: the full name cannot pick
    one, so the refusal must name their logins (and not ask for the full name again)."""
    with sessions.begin() as session:
        petr = session.get(credentials.Student, roster["petr"])
        f.guardian(session, petr, relation="trusted", email="granny@example.org")
    issue(sessions, fast, student_ids=[roster["petr"]])
    result = run_cli("credentials", "reset", "--student", str(roster["petr"]),
                     "--guardian", "Иванова Мария Петровна", "--out", "r.html",
                     env=FAST_ENV)  # fmt: skip
    assert result.exit_code == 1
    assert "give the full name" not in result.stderr
    assert "petr.ivanov.mariia" in result.stderr and "petr.ivanov.mariia2" in result.stderr
    assert "LOGIN" in result.stderr
    partial = run_cli("credentials", "reset", "--student", str(roster["petr"]),
                      "--guardian", "Иванова", "--out", "r.html", env=FAST_ENV)  # fmt: skip
    assert partial.exit_code == 1 and "petr.ivanov.mariia2" in partial.stderr


def test_revoke_twice_says_so_and_an_unknown_login_is_not_confirmed_first(
    run_cli, sessions, fast, roster
):
    (julia,) = issue(sessions, fast, student_ids=[roster["julia"]]).issued
    assert run_cli("credentials", "revoke", julia.login, "--yes").exit_code == 0
    again = run_cli("credentials", "revoke", julia.login, "--yes")
    assert again.exit_code == 0 and f"{julia.login} was already revoked" in again.stderr
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("credentials.revoke") == 1
    unknown = run_cli("credentials", "revoke", "nobody.here", input="y\n")
    assert unknown.exit_code == 1 and "There is no login 'nobody.here'" in unknown.stderr
    assert "Revoke nobody.here?" not in unknown.output


def test_a_class_reissue_does_not_bring_a_revoked_login_back(run_cli, sessions, fast, roster):
    """A login withdrawn with 'credentials revoke' stays withdrawn through a bulk --reissue
    (it used to become temporary again, with a new password on the slips); only an explicit
    reset of that login gives it back."""
    issue(sessions, fast, classes=["5А"])
    assert run_cli("credentials", "revoke", "iuliia.shchukina", "--yes").exit_code == 0
    dry = run_cli("--format", "json", "credentials", "issue", "--class", "5А", "--reissue",
                  "--dry-run")  # fmt: skip
    assert json.loads(dry.stdout) == {"would_issue": 2, "skipped": 1}
    redo = run_cli("--format", "json", "credentials", "issue", "--class", "5А", "--reissue",
                   "--out", "redo.csv", env=FAST_ENV)  # fmt: skip
    assert redo.exit_code == 0, redo.output
    assert (json.loads(redo.stdout)["issued"], json.loads(redo.stdout)["skipped"]) == (2, 1)
    with sessions() as session:
        state = session.scalar(
            select(Credential.state).where(Credential.login == "iuliia.shchukina")
        )
        assert state == "revoked"
    reset = run_cli("credentials", "reset", "iuliia.shchukina", "--out", "r.csv", env=FAST_ENV)
    assert reset.exit_code == 0, reset.output
    with sessions() as session:
        state = session.scalar(
            select(Credential.state).where(Credential.login == "iuliia.shchukina")
        )
        assert state == "temporary"


def test_reset_by_email_alone_refuses_a_guardian_without_an_address(
    run_cli, sessions, fast, roster, db_snapshot
):
    """The old password used to die and the new one go nowhere (exit 3)."""
    issue(sessions, fast, student_ids=[roster["julia"]])
    before = db_snapshot()
    env = {**FAST_ENV, "DIARYADMIN_SMTP_HOST": "127.0.0.1", "DIARYADMIN_SMTP_PORT": "9"}
    result = run_cli("credentials", "reset", "iuliia.shchukina", "--email", env=env)
    assert result.exit_code == 1
    assert "has no e-mail address" in result.stderr and "--out FILE" in result.stderr
    assert db_snapshot() == before


def test_letters_failing_without_out_file_say_what_to_do_in_one_sentence(
    run_cli, sessions, fast, roster
):
    env = {**FAST_ENV, "DIARYADMIN_SMTP_HOST": "127.0.0.1", "DIARYADMIN_SMTP_PORT": "9"}
    # Анна's mother has an address, so her letter really fails (the server is unreachable)
    result = run_cli("credentials", "issue", "--student", str(roster["anna"]), "--email",
                     env=env)  # fmt: skip
    assert result.exit_code == 3
    assert (
        "1 letter could not be sent; the credentials stay issued, so give that parent a "
        "new password with 'diaryadmin credentials reset LOGIN --out FILE'." in result.stderr
    )


def test_nothing_to_reissue_does_not_suggest_reissue(run_cli, sessions, fast, roster):
    issue(sessions, fast, student_ids=[roster["julia"]])
    assert run_cli("credentials", "revoke", "iuliia.shchukina", "--yes").exit_code == 0
    result = run_cli("credentials", "issue", "--student", str(roster["julia"]), "--reissue",
                     "--out", "x.csv", env=FAST_ENV)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "use --reissue" not in result.stderr
    assert "revoked" in result.stderr
