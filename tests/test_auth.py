"""The portal's authentication API: reasons, lockout, bcrypt upgrade, password changes."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from diaryadmin import db, i18n
from diaryadmin.credentials import auth, passwords, strength
from diaryadmin.models import AuditEvent
from helpers import credentials as tc
from helpers.credentials import assert_same_time, credential


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST, lockout_threshold=3)


@pytest.fixture
def issued(sessions, fast):
    with sessions.begin() as session:
        tc.make_roster(session)
    result = tc.issue(sessions, fast, classes=["5А"])
    return {c.login: c.password for c in result.issued}


def test_success_resets_the_counter_and_says_the_password_is_temporary(sessions, fast, issued):
    login, password = "iuliia.shchukina", issued["iuliia.shchukina"]
    with sessions.begin() as session:
        assert auth.authenticate(session, login, "nope", tc.NOW, settings=fast).reason == (
            "wrong_password"
        )
        assert credential(session, login).failed_attempts == 1
        result = auth.authenticate(session, f"  {login.upper()} ", password, tc.NOW, settings=fast)
        assert result == auth.AuthResult(True, None, login, result.credential_id, True)
        row = credential(session, login)
        assert (row.failed_attempts, row.last_login_at) == (0, tc.NOW)


def test_failed_attempts_lock_the_credential(sessions, fast, issued):
    login, password = "iuliia.shchukina", issued["iuliia.shchukina"]
    with sessions.begin() as session:
        reasons = [
            auth.authenticate(session, login, f"guess{n}", tc.NOW, settings=fast).reason
            for n in range(3)
        ]
        assert reasons == ["wrong_password", "wrong_password", "locked"]
        # once locked, even the right password is refused
        assert auth.authenticate(session, login, password, tc.NOW, settings=fast).reason == "locked"
        assert credential(session, login).state == "locked"
        assert (
            session.scalar(select(AuditEvent.target).where(AuditEvent.action == "credentials.lock"))
            == login
        )


def test_unknown_login_costs_a_hash_too(sessions, fast, issued, monkeypatch):
    calls = []
    real = passwords.matches
    monkeypatch.setattr(passwords, "matches", lambda *a: calls.append(1) or real(*a))
    with sessions.begin() as session:
        assert auth.authenticate(session, "no.such", "whatever", settings=fast).reason == "unknown"
    assert calls == [1]


def test_expired_and_revoked_fail_with_their_reason(sessions, fast, issued):
    login, password = "iuliia.shchukina", issued["iuliia.shchukina"]
    with sessions.begin() as session:
        later = tc.NOW + timedelta(days=31)
        assert auth.authenticate(session, login, password, later, settings=fast).reason == (
            "expired"
        )
        assert credential(session, login).state == "expired"
        credential(session, login).state = "revoked"
        assert auth.authenticate(session, login, password, settings=fast).reason == "revoked"


def test_bcrypt_hash_is_accepted_once_and_upgraded_to_argon2id(sessions, fast, issued):
    bcrypt = pytest.importorskip("bcrypt")
    login = "iuliia.shchukina"
    old = bcrypt.hashpw(b"legacy password", bcrypt.gensalt(4)).decode()
    with sessions.begin() as session:
        row = credential(session, login)
        row.password_hash, row.state, row.expires_at = old, "active", None
    with sessions.begin() as session:
        assert auth.authenticate(session, login, "legacy password", settings=fast).ok
        assert credential(session, login).password_hash.startswith("$argon2id$v=19$m=64,t=1")
    with sessions.begin() as session:
        assert auth.authenticate(session, login, "legacy password", settings=fast).ok
        assert not auth.authenticate(session, login, "Legacy password", settings=fast).ok


def test_weaker_argon2_parameters_are_rehashed_with_the_configured_ones(sessions, fast, issued):
    login, password = "iuliia.shchukina", issued["iuliia.shchukina"]
    stronger = fast.with_overrides(argon2_memory_kib=128, argon2_time_cost=2)
    with sessions.begin() as session:
        assert auth.authenticate(session, login, password, tc.NOW, settings=stronger).ok
        assert credential(session, login).password_hash.startswith("$argon2id$v=19$m=128,t=2")


def test_change_password_rules_and_effect(sessions, fast, issued):
    login, password = "petr.ivanov.mariia", issued["petr.ivanov.mariia"]
    with sessions.begin() as session:
        change = auth.change_password
        assert (
            change(session, login, password, "short", tc.NOW, settings=fast).reason == "too_short"
        )
        assert (
            change(session, login, password, password, tc.NOW, settings=fast).reason
            == "same_as_old"
        )
        assert change(session, login, password, login.upper(), tc.NOW, settings=fast).reason == (
            "same_as_login"
        )
        assert change(
            session, login, "wrong-old", "long enough 1", tc.NOW, settings=fast
        ).reason == ("wrong_password")
        assert credential(session, login).state == "temporary"
        done = change(session, login, password, "long enough 1", tc.NOW, settings=fast)
        assert done.ok and not done.must_change
        row = credential(session, login)
        assert (row.state, row.expires_at, row.changed_at) == ("active", None, tc.NOW)
    with sessions.begin() as session:
        later = tc.NOW + timedelta(days=365)
        result = auth.authenticate(session, login, "long enough 1", later, settings=fast)
        assert result.ok and not result.must_change
        assert not auth.authenticate(session, login, password, later, settings=fast).ok


def test_a_malformed_stored_hash_never_matches(sessions, fast, issued):
    login = "iuliia.shchukina"
    with sessions.begin() as session:
        credential(session, login).password_hash = "not-a-hash"
    with sessions.begin() as session:
        result = auth.authenticate(session, login, issued[login], tc.NOW, settings=fast)
        assert result.reason == "wrong_password"


def test_a_password_change_is_audited_at_the_given_moment(sessions, fast, issued):
    login = "iuliia.shchukina"
    with sessions.begin() as session:
        assert auth.change_password(
            session, login, issued[login], "long enough 1", tc.NOW, settings=fast
        ).ok
    with sessions() as session:
        event = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "credentials.change_password")
        )
        assert (event.target, event.at) == (login, tc.NOW)


@pytest.mark.parametrize(
    ("new", "kind"),
    [
        ("Petr.Ivanov.Mariia!", "personal"),  # the login
        ("ivanova14032015", "personal"),  # a name and the child's birth date
        ("pyotrivanov", "personal"),  # the name as Wikipedia spells it
        ("qwertyuiop[]", "keyboard"),
        ("password123", "common"),
        ("aaaaaaaaaaaa", "repeat"),
    ],
)
def test_weak_own_passwords_are_refused_with_a_hint(sessions, fast, issued, new, kind):
    login, password = "petr.ivanov.mariia", issued["petr.ivanov.mariia"]
    with sessions.begin() as session:
        result = auth.change_password(session, login, password, new, tc.NOW, settings=fast)
        assert (result.ok, result.reason) == (False, "too_weak")
        with i18n.using("ru"):
            assert result.hint == i18n.gettext(strength.HINTS[kind]) != strength.HINTS[kind]
        english = auth.change_password(
            session, login, password, new, tc.NOW, settings=fast, language="en"
        )
        assert english.hint == strength.HINTS[kind]
        assert credential(session, login).state == "temporary"


def test_the_strength_threshold_is_a_setting(sessions, fast, issued):
    login, password = "petr.ivanov.mariia", issued["petr.ivanov.mariia"]
    with sessions.begin() as session:
        lenient = fast.with_overrides(password_min_score=0)
        assert auth.change_password(session, login, password, "password123", tc.NOW,
                                    settings=lenient).ok  # fmt: skip


# --- concurrency and timing (issue 11) ---------------------------------------------------------

BURST = 20
ROUNDS = 5
SLOW_ROUNDS = 20 * ROUNDS  # the longer run behind the `slow` marker (pytest -m slow)


@pytest.fixture
def burst_engine(database_url):
    """An engine with a connection for every thread of a burst (each its own session)."""
    engine = db.make_engine(database_url, pool_size=BURST + 2, max_overflow=0)
    yield engine
    engine.dispose()


def burst(sessions, login: str, attempts: list[str], settings) -> list[auth.AuthResult]:
    """Every attempt at once, each on its own thread and session, committed as the portal does."""
    barrier = threading.Barrier(len(attempts))
    results: list = [None] * len(attempts)

    def attempt(n: int) -> None:
        barrier.wait()
        with sessions.begin() as session:
            results[n] = auth.authenticate(session, login, attempts[n], tc.NOW, settings=settings)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(r is not None for r in results)
    return results


@pytest.mark.parametrize("rounds", [ROUNDS, pytest.param(SLOW_ROUNDS, marks=pytest.mark.slow)])
def test_a_concurrent_burst_is_checked_one_by_one_and_nothing_after_the_lock(
    burst_engine, settings, monkeypatch, rounds
):
    # A hash slow enough (a few ms) that unserialised checks would overlap.
    slow = settings.with_overrides(argon2_time_cost=1, argon2_memory_kib=4096, lockout_threshold=10)
    sessions = db.make_sessionmaker(burst_engine)
    with sessions.begin() as session:
        tc.make_roster(session)
    issued = {c.login: c.password for c in tc.issue(sessions, slow, classes=["5А"]).issued}
    login, right = "iuliia.shchukina", issued["iuliia.shchukina"]
    evaluated: list[bool] = []  # in the order the real hash was checked: right password?
    guard = threading.Lock()
    real = passwords.verify_password

    def counting(password, stored, settings_):
        outcome = real(password, stored, settings_)
        with guard:
            evaluated.append(password == right)
        return outcome

    monkeypatch.setattr(passwords, "verify_password", counting)
    rng = random.Random(11)
    for round_ in range(rounds):
        with sessions.begin() as session:
            row = credential(session, login)
            row.state, row.failed_attempts, row.expires_at = "temporary", 0, None
        evaluated.clear()
        right_at = rng.randrange(BURST)
        attempts = [right if n == right_at else f"guess-{round_}-{n}" for n in range(BURST)]
        results = burst(sessions, login, attempts, slow)
        # Replay the checks in the order they happened: never more than the threshold of wrong
        # ones in a row, and none at all once that locked the credential.
        failures, locked = 0, False
        for was_right in evaluated:
            assert not locked, f"round {round_}: a password was checked after the lock"
            failures = 0 if was_right else failures + 1
            locked = failures >= slow.lockout_threshold
        with sessions() as session:
            assert (credential(session, login).state == "locked") == locked
        accepted = results[right_at]
        assert accepted.ok == (True in evaluated)
        if not accepted.ok:
            assert accepted.reason == "locked"
        assert sum(r.ok for r in results) == (1 if accepted.ok else 0)


def test_unknown_and_known_logins_take_the_same_time_to_refuse(sessions, fast):
    """The hash costs the same by construction: an unknown login checks a dummy hash made with
    the same parameters (asserted here from the PHC strings). Cheap hashes then leave what used
    to differ: the database work and the commit the portal does after each attempt (a known
    login's counter write took 12 ms more at commit on PostgreSQL). Medians over many
    interleaved samples, with a generous bound."""
    with sessions.begin() as session:
        tc.make_roster(session)
    tc.issue(sessions, fast, classes=["5А"])
    many = fast.with_overrides(lockout_threshold=100_000)
    with sessions() as session:
        stored = credential(session, "iuliia.shchukina").password_hash
    dummy = passwords.dummy_hash(passwords.hash_params(many))
    assert dummy.split("$")[1:4] == stored.split("$")[1:4]  # argon2id, v=19, m=…,t=…,p=…

    def refuse(login: str) -> float:
        start = time.perf_counter()
        with sessions.begin() as session:
            result = auth.authenticate(session, login, "not-the-password", settings=many)
        assert not result.ok
        return time.perf_counter() - start

    # Without the change the gap was +2.5 ms on 1.2 ms (SQLite) and +13 ms on 5 ms (PostgreSQL).
    assert_same_time(lambda: refuse("iuliia.shchukina"), lambda: refuse("no.such.login"), 80, 0.75)
