"""Authentication for the diary portal: `authenticate` and `change_password`.

The caller owns the transaction and must commit after a failed attempt too (the failed-attempt
counter and a lock are written to the session). Reasons are codes the portal maps to its own
words; show an attacker no more than "wrong login or password" for `unknown` and `wrong_password`.

Attempts on one login are serialised: the credential's row is locked (`SELECT ... FOR UPDATE` on
PostgreSQL; SQLite's `BEGIN IMMEDIATE` already serialises writers) before its hash is checked,
so a burst of guesses is evaluated one after another, no more than the lockout threshold of them
before the lock, and none after it. Every refusal costs one hash of the configured parameters
(a dummy one when the real hash is not checked), so an unknown login takes as long as a wrong
password.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_, case, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.credentials import passwords, strength
from diaryadmin.credentials.logins import normalise_login
from diaryadmin.db import backend
from diaryadmin.models import Credential, Guardianship, Student, utcnow

PORTAL = "portal"
MIN_PASSWORD_LENGTH = 8
REASONS = (
    "unknown",
    "wrong_password",
    "expired",
    "locked",
    "revoked",
    "linked",
    "too_short",
    "same_as_old",
    "same_as_login",
    "too_weak",
    "identity_taken",
    "other_identity",
    "invalid_identity",
    "invalid_code",
)
LOCKABLE_STATES = ("temporary", "active", "expired")


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    reason: str | None = None  # one of REASONS when not ok
    login: str | None = None
    credential_id: int | None = None
    must_change: bool = False  # still on the temporary password
    # Which child the login opens, and whose login it is (both follow from credential_id).
    student_id: int | None = field(default=None, compare=False)
    guardian_id: int | None = field(default=None, compare=False)
    hint: str | None = field(default=None, compare=False)  # with too_weak: what to change


@lru_cache(maxsize=1)
def _env_settings() -> Settings:
    return Settings.from_env()


def settings_or_env(settings: Settings | None) -> Settings:
    return settings or _env_settings()


@dataclass
class Claimed:
    """A credential row locked for the rest of the transaction, with who and what it opens."""

    credential: Credential
    granted: bool  # the guardianship and the student are both active
    student_id: int
    guardian_id: int

    def result(self, ok: bool, reason: str | None = None, **extra) -> AuthResult:
        return AuthResult(
            ok,
            reason,
            self.credential.login,
            self.credential.id,
            student_id=self.student_id,
            guardian_id=self.guardian_id,
            **extra,
        )


def claim_credential(session: Session, login: str) -> Claimed | None:
    """The credential of `login`, row-locked until the transaction ends, or None."""
    row = session.execute(
        select(
            Credential, Guardianship.active, Student.active, Student.id, Guardianship.guardian_id
        )
        .join(Guardianship, Guardianship.id == Credential.guardianship_id)
        .join(Student, Student.id == Guardianship.student_id)
        .where(Credential.login == normalise_login(login))
        .with_for_update(of=Credential)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if row is None:
        return None
    credential, link_active, student_active, student_id, guardian_id = row
    return Claimed(credential, bool(link_active and student_active), student_id, guardian_id)


def commit_without_waiting(session: Session, wait: bool = False) -> None:
    """On PostgreSQL, let this transaction's commit return before its WAL reaches the disk
    (`wait=True` restores the default).

    A known login's attempt writes (the row lock, the counter) and an unknown one does not:
    the flush to disk at its commit took 12 ms here, enough to tell which logins exist. Without
    the wait the two commits cost the same. What a crash could lose is a failed-attempt count
    or a last-login time; a new password or a link asks to wait again (`wait=True`). SQLite in
    WAL mode with synchronous=NORMAL does not flush at commit anyway.
    """
    if backend(session) == "postgresql":
        session.execute(text(f"SET LOCAL synchronous_commit = {'on' if wait else 'off'}"))


def spend_dummy_hash(password: str, settings: Settings) -> None:
    """Check `password` against a hash of nothing, at the cost of a real check."""
    passwords.matches(password, passwords.dummy_hash(passwords.hash_params(settings)), settings)


def refusal(claimed: Claimed) -> str | None:
    """Why this credential cannot sign in whatever the password (`locked`, `revoked`, `linked`)."""
    state = claimed.credential.state
    if state == "locked":
        return "locked"
    if state == "revoked" or not claimed.granted:
        return "revoked"
    if state == "linked":
        return "linked"
    return None


def _count_failure(session: Session, login: str, threshold: int) -> tuple[str, int] | None:
    """Count a failed attempt on `login` in one UPDATE, locking at `threshold`; the new
    (state, failed_attempts), or None when there is no such login.

    An unknown login runs the very same statement (matching nothing), so both refusals cost the
    same round trips; the caller holds the row lock already."""
    count = Credential.failed_attempts + 1
    lock = and_(count >= threshold, Credential.state.in_(LOCKABLE_STATES))
    row = session.execute(
        update(Credential)
        .where(Credential.login == normalise_login(login))
        .values(failed_attempts=count, state=case((lock, "locked"), else_=Credential.state))
        .returning(Credential.state, Credential.failed_attempts)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def authenticate(
    session: Session,
    login: str,
    password: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> AuthResult:
    """Check a login and password.

    Fails with a reason: `unknown`, `wrong_password` (counted; the Nth in a row, N =
    settings.lockout_threshold, locks), `locked`, `revoked`, `linked` (the parent signs in with
    their own account now), `expired`. Every call costs one password hash, unknown logins
    included. On success the counter is reset, a deprecated or outdated hash is replaced, and
    `must_change` says the temporary password is still in use.
    """
    settings = settings_or_env(settings)
    now = now or utcnow()
    commit_without_waiting(session)
    claimed = claim_credential(session, login)
    if claimed is None:
        spend_dummy_hash(password, settings)
        _count_failure(session, login, settings.lockout_threshold)
        return AuthResult(False, "unknown")
    refused = refusal(claimed)
    if refused:
        spend_dummy_hash(password, settings)
        return claimed.result(False, refused)
    credential = claimed.credential
    ok, new_hash = passwords.verify_password(password, credential.password_hash, settings)
    if not ok:
        was = credential.state
        state, failed = _count_failure(session, login, settings.lockout_threshold)
        set_committed_value(credential, "state", state)
        set_committed_value(credential, "failed_attempts", failed)
        if state == "locked" and was != "locked":
            audit.record(
                session, PORTAL, "credentials.lock", credential.login,
                {"failed_attempts": failed}, now=now,
            )  # fmt: skip
            session.flush()
            return claimed.result(False, "locked")
        return claimed.result(False, "wrong_password")
    if credential.state == "expired" or (
        credential.state == "temporary"
        and credential.expires_at is not None
        and credential.expires_at <= now
    ):
        credential.state = "expired"
        session.flush()
        return claimed.result(False, "expired")
    credential.failed_attempts = 0
    credential.last_login_at = now
    if new_hash:
        credential.password_hash = new_hash
    session.flush()
    return claimed.result(True, must_change=credential.state == "temporary")


def password_problem(login: str, old: str, new: str) -> str | None:
    """Why `new` is not acceptable (`too_short`, `same_as_old`, `same_as_login`), or None.

    The strength check (`too_weak`) needs the names on file; see `new_password_problem`."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if hmac.compare_digest(new.encode(), old.encode()):
        return "same_as_old"
    if hmac.compare_digest(new.strip().lower().encode(), normalise_login(login).encode()):
        return "same_as_login"
    return None


def new_password_problem(
    session: Session,
    claimed: Claimed,
    old: str | None,
    new: str,
    settings: Settings,
    language: str = "ru",
) -> tuple[str, str | None] | None:
    """(reason, hint) why `new` cannot replace the password of `claimed`, or None.

    `old` is the password being replaced when the parent typed it; without it (recovery) the
    stored hash is asked whether `new` is the same."""
    login = claimed.credential.login
    problem = password_problem(login, old if old is not None else "", new)
    if (
        problem is None
        and old is None
        and passwords.matches(new, claimed.credential.password_hash, settings)
    ):
        problem = "same_as_old"
    if problem:
        return problem, None
    inputs = strength.personal_inputs(session, login, claimed.student_id, claimed.guardian_id)
    hint = strength.weakness(new, inputs, settings.password_min_score, language)
    return ("too_weak", hint) if hint else None


def set_own_password(
    session: Session, claimed: Claimed, new: str, settings: Settings, now: datetime, action: str
) -> AuthResult:
    """Store the parent's own password: the credential becomes `active`, with no expiry, no
    failed attempts and no automatic lock. Audited as `action`."""
    credential = claimed.credential
    was = credential.state
    credential.password_hash = passwords.hash_password(new, settings)
    credential.state = "active"
    credential.expires_at = None
    credential.changed_at = now
    credential.failed_attempts = 0
    audit.record(session, PORTAL, action, credential.login, {"was": was}, now=now)
    commit_without_waiting(session, wait=True)
    session.flush()
    return claimed.result(True)


def change_password(
    session: Session,
    login: str,
    old: str,
    new: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
    language: str = "ru",
) -> AuthResult:
    """Replace the password after checking the old one (which counts as a login attempt).

    The new password must differ from the old, have at least 8 characters, not be the login,
    and be strong enough (zxcvbn score at least settings.password_min_score, with the login,
    the child's and guardian's names and the child's birth date as things an attacker knows):
    else `too_weak` with a `hint` in `language` (ru, en). A temporary credential becomes
    `active`, with no expiry.
    """
    settings = settings_or_env(settings)
    now = now or utcnow()
    checked = authenticate(session, login, old, now, settings=settings)
    if not checked.ok:
        return checked
    claimed = claim_credential(session, login)
    problem = new_password_problem(session, claimed, old, new, settings, language)
    if problem:
        reason, hint = problem
        return claimed.result(False, reason, must_change=checked.must_change, hint=hint)
    return set_own_password(session, claimed, new, settings, now, "credentials.change_password")
