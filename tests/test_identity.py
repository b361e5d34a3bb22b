"""The parent's own account (State Services): link, sign in as the identity, unlink; staff
commands around it. Runs on SQLite and, with DIARYADMIN_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from diaryadmin import auth
from diaryadmin.credentials import identity, lifecycle, passwords
from diaryadmin.errors import Refused
from diaryadmin.models import AuditEvent, Guardian
from helpers import credentials as tc
from helpers.credentials import credential, issue_all

MOTHER = "esia", "1000123456"


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST, lockout_threshold=3)


@pytest.fixture
def issued(sessions, fast):
    return issue_all(sessions, fast)


def link(sessions, fast, login, password, who=MOTHER, now=tc.NOW):
    with sessions.begin() as session:
        return auth.link_identity(session, login, password, *who, now, settings=fast)


def test_the_portal_path_issue_link_two_children_see_both_revoke_one(sessions, fast, issued):
    ids = issued["ids"]
    first = link(sessions, fast, "petr.ivanov.mariia", issued["petr.ivanov.mariia"])
    assert first.ok and (first.student_id, first.login) == (ids["petr"], "petr.ivanov.mariia")
    second = link(sessions, fast, "anna.ivanova", issued["anna.ivanova"])
    assert second.ok and second.student_id == ids["anna"]
    assert first.guardian_id == second.guardian_id
    with sessions.begin() as session:
        seen = auth.authenticate_identity(session, *MOTHER, tc.NOW)
        assert seen == auth.IdentityResult(
            True, None, tuple(sorted((ids["petr"], ids["anna"]))), first.guardian_id
        )
        # the school password is spent: it no longer authenticates
        spent = auth.authenticate(
            session, "anna.ivanova", issued["anna.ivanova"], tc.NOW, settings=fast
        )
        assert spent.reason == "linked"
    with sessions.begin() as session:
        lifecycle.revoke_credential(session, "anna.ivanova", operator="test")
    with sessions.begin() as session:
        assert auth.authenticate_identity(session, *MOTHER).students == (ids["petr"],)
        # the temporary password's expiry no longer applies to the link
        later = tc.NOW + timedelta(days=400)
        assert auth.authenticate_identity(session, *MOTHER, later).students == (ids["petr"],)
        assert credential(session, "petr.ivanov.mariia").last_login_at == later
    with sessions() as session:
        actions = session.scalars(
            select(AuditEvent.target).where(AuditEvent.action == "credentials.link")
        ).all()
        assert sorted(actions) == ["anna.ivanova", "petr.ivanov.mariia"]


def test_authenticate_result_says_which_child_and_guardian(sessions, fast, issued):
    with sessions.begin() as session:
        result = auth.authenticate(
            session, "petr.ivanov.sergei", issued["petr.ivanov.sergei"], tc.NOW, settings=fast
        )
        assert result.ok and result.student_id == issued["ids"]["petr"]
        person = session.get(Guardian, result.guardian_id)
        assert (person.name, person.surname) == ("Сергей", "Иванов")


def test_an_identity_of_another_guardian_is_taken(sessions, fast, issued):
    assert link(sessions, fast, "petr.ivanov.mariia", issued["petr.ivanov.mariia"]).ok
    taken = link(sessions, fast, "petr.ivanov.sergei", issued["petr.ivanov.sergei"])
    assert taken.reason == "identity_taken" and not taken.ok
    other = link(sessions, fast, "anna.ivanova", issued["anna.ivanova"], who=("esia", "999"))
    assert other.reason == "other_identity"
    with sessions() as session:
        # the refused links changed nothing: the father's password still works
        assert credential(session, "petr.ivanov.sergei").state == "temporary"
        assert credential(session, "anna.ivanova").state == "temporary"


def test_two_guardians_linking_one_identity_at_once_one_wins(sessions, fast, issued):
    logins = ["petr.ivanov.mariia", "petr.ivanov.sergei"]
    for round_ in range(5):
        who = ("esia", f"race-{round_}")
        barrier = threading.Barrier(len(logins))
        results: list = [None] * len(logins)

        def attempt(n: int, who=who, barrier=barrier, results=results) -> None:
            barrier.wait()
            results[n] = link(sessions, fast, logins[n], issued[logins[n]], who=who)

        threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(logins))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(r.reason or "ok" for r in results) == ["identity_taken", "ok"]
        winner = next(r for r in results if r.ok)
        with sessions.begin() as session:
            assert auth.authenticate_identity(session, *who).guardian_id == winner.guardian_id
            identity.unlink_credential(session, winner.login, operator="t")
            row = credential(session, winner.login)
            row.state, row.password_hash = (
                "active",
                passwords.hash_password(issued[winner.login], fast),
            )


def test_link_checks_the_password_expiry_and_counts_failures(sessions, fast, issued):
    login = "iuliia.shchukina"
    wrong = link(sessions, fast, login, "wrong-one")
    assert wrong.reason == "wrong_password"
    with sessions() as session:
        assert credential(session, login).failed_attempts == 1
    late = link(sessions, fast, login, issued[login], now=tc.NOW + timedelta(days=31))
    assert late.reason == "expired"
    assert link(sessions, fast, login, issued[login], who=("", "1")).reason == "invalid_identity"
    assert link(sessions, fast, login, issued[login], who=("esia", " ")).reason == (
        "invalid_identity"
    )


def test_identity_results_for_unknown_and_withdrawn(sessions, fast, issued):
    with sessions.begin() as session:
        assert auth.authenticate_identity(session, "esia", "nobody").reason == "unknown"
        assert auth.authenticate_identity(session, "es ia", "x").reason == "invalid_identity"
    assert link(sessions, fast, "iuliia.shchukina", issued["iuliia.shchukina"]).ok
    with sessions.begin() as session:
        credential(session, "iuliia.shchukina").guardianship.student.active = False
    with sessions.begin() as session:
        gone = auth.authenticate_identity(session, *MOTHER)
        assert (gone.ok, gone.reason, gone.students) == (False, "revoked", ())


def test_unlink_releases_the_identity_and_needs_a_new_password(sessions, fast, issued):
    assert link(sessions, fast, "petr.ivanov.mariia", issued["petr.ivanov.mariia"]).ok
    assert link(sessions, fast, "anna.ivanova", issued["anna.ivanova"]).ok
    with sessions.begin() as session:
        dry = identity.unlink_credential(session, "anna.ivanova", operator="t", dry_run=True)
        assert dry["identity_released"] is False
        assert credential(session, "anna.ivanova").state == "linked"
        identity.unlink_credential(session, "anna.ivanova", operator="t")
        assert credential(session, "anna.ivanova").state == "expired"
        assert auth.authenticate_identity(session, *MOTHER).students == (issued["ids"]["petr"],)
        last = identity.unlink_credential(session, "petr.ivanov.mariia", operator="t")
        assert last["identity_released"] is True
        assert auth.authenticate_identity(session, *MOTHER).reason == "unknown"
        with pytest.raises(Refused, match="not linked"):
            identity.unlink_credential(session, "anna.ivanova", operator="t")
    # released: the father may now link the same identity
    assert link(sessions, fast, "petr.ivanov.sergei", issued["petr.ivanov.sergei"]).ok


def test_bulk_reissue_leaves_linked_logins_alone(sessions, fast, issued):
    assert link(sessions, fast, "anna.ivanova", issued["anna.ivanova"]).ok
    again = tc.issue(sessions, fast, reissue=True, all_=True)
    assert "anna.ivanova" not in {c.login for c in again.issued}
    with sessions() as session:
        assert credential(session, "anna.ivanova").state == "linked"


# --- staff commands --------------------------------------------------------------------------


@pytest.fixture
def linked(sessions, fast, issued):
    assert link(sessions, fast, "anna.ivanova", issued["anna.ivanova"]).ok
    return issued


def test_status_counts_linked_and_doctor_says_state_services(run_cli, linked):
    status = run_cli("--format", "json", "credentials", "status", "--class", "7Б")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["classes"][0]["linked"] == 1
    doctor = run_cli("credentials", "doctor", "anna.ivanova")
    assert doctor.exit_code == 0, doctor.output
    assert "the parent signs in through State Services" in doctor.stdout


def test_unlink_command_confirms_dry_runs_and_audits(run_cli, sessions, linked, db_snapshot):
    before = db_snapshot()
    dry = run_cli("credentials", "unlink", "anna.ivanova", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Would unlink anna.ivanova" in dry.stderr
    refused = run_cli("credentials", "unlink", "anna.ivanova", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    assert db_snapshot() == before
    done = run_cli("credentials", "unlink", "anna.ivanova", input="y\n")
    assert done.exit_code == 0, done.output
    assert "Unlinked anna.ivanova" in done.stderr
    with sessions() as session:
        assert credential(session, "anna.ivanova").state == "expired"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "credentials.unlink"))
        assert (event.target, event.details["provider"]) == ("anna.ivanova", "esia")
    again = run_cli("credentials", "unlink", "anna.ivanova", "--yes")
    assert again.exit_code == 1 and "is not linked" in again.stderr


def test_reset_of_a_linked_login_asks_first_then_unlinks(run_cli, sessions, fast, linked, workdir):
    env = tc.FAST_ENV
    no = run_cli("credentials", "reset", "anna.ivanova", "--out", "r.html", input="n\n", env=env)
    assert no.exit_code == 1 and "signs in through State Services" in no.output
    assert not (workdir / "r.html").exists()
    yes = run_cli("credentials", "reset", "anna.ivanova", "--out", "r.html", "--yes", env=env)
    assert yes.exit_code == 0, yes.output
    with sessions() as session:
        row = credential(session, "anna.ivanova")
        assert (row.state, row.linked_at) == ("temporary", None)
        unlinked = select(AuditEvent.target).where(AuditEvent.action == "credentials.unlink")
        assert session.scalar(unlinked) == "anna.ivanova"
    password = tc.read_slips(workdir / "r.html")[0]["password"]
    with sessions.begin() as session:
        assert auth.authenticate(session, "anna.ivanova", password, settings=fast).ok


def test_a_dry_run_reset_of_a_linked_login_asks_nothing_and_changes_nothing(
    run_cli, linked, db_snapshot
):
    before = db_snapshot()
    result = run_cli("credentials", "reset", "anna.ivanova", "--dry-run", input="")
    assert result.exit_code == 0, result.output
    assert "Continue" not in result.output
    assert db_snapshot() == before
