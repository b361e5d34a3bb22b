"""`credentials expire` for cron: --as-of, idempotence, batches, two runs at once, reminders."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from diaryadmin import auth
from diaryadmin.credentials import lifecycle
from diaryadmin.models import AuditEvent, Credential, Guardianship
from helpers import credentials as tc
from helpers import factories as f
from helpers.credentials import issue

ISSUED = datetime(2026, 9, 1, 9, 0)


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST)


@pytest.fixture
def roster(sessions):
    with sessions.begin() as session:
        return tc.make_roster(session)


def test_expire_as_of_29_and_31_days_later(run_cli, sessions, fast, roster):
    issue(sessions, fast, all_=True, now=ISSUED)
    day29 = (ISSUED + timedelta(days=29)).strftime("%d.%m.%Y")
    day31 = (ISSUED + timedelta(days=31)).strftime("%Y-%m-%d")
    early = run_cli("--format", "json", "credentials", "expire", "--as-of", day29)
    assert early.exit_code == 0, early.output
    assert json.loads(early.stdout) == {"expired": 0, "reminded": 0}
    dry = run_cli("--format", "json", "credentials", "expire", "--as-of", day31, "--dry-run")
    assert json.loads(dry.stdout) == {"expired": 4, "reminded": 0}
    assert "it would make 4 changes" in dry.stderr and "expire login anna.ivanova" in dry.stderr
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Credential.state == "expired")) == 0
    late = run_cli("--format", "json", "credentials", "expire", "--as-of", day31)
    assert json.loads(late.stdout) == {"expired": 4, "reminded": 0}
    again = run_cli("--format", "json", "credentials", "expire", "--as-of", day31)
    assert json.loads(again.stdout) == {"expired": 0, "reminded": 0}
    quiet = run_cli("-q", "credentials", "expire", "--as-of", day31)
    assert quiet.exit_code == 0 and quiet.output == ""
    table = run_cli("credentials", "expire", "--as-of", day31)
    assert "expired" in table.stdout and "0" in table.stdout
    with sessions() as session:
        states = session.scalars(select(Credential.state)).all()
        assert states == ["expired"] * 4
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "credentials.expire")
        ).all()
        assert [e.details["expired"] for e in events] == [4]  # a run with nothing to do is quiet


def test_an_expired_password_no_longer_logs_in_and_status_counts_it(
    run_cli, sessions, fast, roster
):
    result = issue(sessions, fast, classes=["5А"], now=ISSUED)
    login, password = result.issued[0].login, result.issued[0].password
    with sessions.begin() as session:
        late = ISSUED + timedelta(days=30, seconds=1)
        assert auth.authenticate(session, login, password, late, settings=fast).reason == "expired"
    status = run_cli("--format", "json", "credentials", "status", "--as-of", "15.09.2026")
    counts = json.loads(status.stdout)["classes"][0]
    assert (counts["temporary"], counts["expired"]) == (2, 1)  # the failed login marked it
    status = run_cli("--format", "json", "credentials", "status", "--as-of", "01.10.2026")
    counts = json.loads(status.stdout)["classes"][0]
    assert (counts["temporary"], counts["expired"]) == (0, 3)


def test_changed_passwords_never_expire(sessions, fast, roster):
    result = issue(sessions, fast, classes=["5А"], now=ISSUED)
    first = result.issued[0]
    with sessions.begin() as session:
        assert auth.change_password(
            session, first.login, first.password, "a-new-password", ISSUED, settings=fast
        ).ok
    with sessions.begin() as session:
        count = lifecycle.expire_credentials(
            session, as_of=ISSUED + timedelta(days=400), operator="cron"
        )
        assert count == 2
        assert session.scalar(select(Credential.state).where(Credential.login == first.login)) == (
            "active"
        )


def _bulk_credentials(sessions, count: int, due: int) -> None:
    """Rows inserted directly with a dummy hash (no hashing one by one)."""
    with sessions.begin() as session:
        child = f.student(session)
        people = [f.guardian(session, child, name=f"Мария{n}", email=None) for n in range(count)]
        session.execute(
            insert(Credential),
            [
                {
                    "guardianship_id": link.id,
                    "login": f"bulk{n}",
                    "password_hash": "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$ZHVtbXk",
                    "state": "temporary",
                    "issued_at": ISSUED,
                    "expires_at": ISSUED + timedelta(days=10 if n < due else 60),
                    "failed_attempts": 0,
                }
                for n, link in enumerate(people)
            ],
        )


def test_expire_in_batches(sessions):
    _bulk_credentials(sessions, 25, due=17)
    with sessions.begin() as session:
        count = lifecycle.expire_credentials(
            session, as_of=ISSUED + timedelta(days=20), operator="cron", batch_size=4
        )
    assert count == 17
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Credential.state == "expired")) == 17


def test_two_expire_runs_at_once_count_each_row_once(sessions):
    _bulk_credentials(sessions, 60, due=45)
    counts, errors = [], []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait(10)
            with sessions.begin() as session:
                counts.append(
                    lifecycle.expire_credentials(
                        session, as_of=ISSUED + timedelta(days=20), operator="cron", batch_size=7
                    )
                )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sum(counts) == 45
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Credential.state == "expired")) == 45


def test_expire_skips_revoked_guardianships_untouched(sessions, fast, roster):
    issue(sessions, fast, all_=True, now=ISSUED)
    with sessions.begin() as session:
        link = session.get(Guardianship, roster["julia_mother"])
        lifecycle.revoke_credential(session, link.credential.login, operator="t")
        count = lifecycle.expire_credentials(
            session, as_of=datetime.combine(date(2026, 12, 1), datetime.min.time()), operator="t"
        )
        assert count == 3
        assert link.credential.state == "revoked"
