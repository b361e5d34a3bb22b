"""Authentication for the diary portal: `authenticate` and `change_password`.

The caller owns the transaction and must commit after a failed attempt too (the failed-attempt
counter and a lock are written to the session). Reasons are codes the portal maps to its own
words; show an attacker no more than "wrong login or password" for `unknown` and `wrong_password`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.credentials import passwords
from diaryadmin.credentials.logins import normalise_login
from diaryadmin.models import Credential, Guardianship, Student, utcnow

PORTAL = "portal"
MIN_PASSWORD_LENGTH = 8
REASONS = (
    "unknown",
    "wrong_password",
    "expired",
    "locked",
    "revoked",
    "too_short",
    "same_as_old",
    "same_as_login",
)


@dataclass(frozen=True)
class AuthResult:
    ok: bool
    reason: str | None = None  # one of REASONS when not ok
    login: str | None = None
    credential_id: int | None = None
    must_change: bool = False  # still on the temporary password


@lru_cache(maxsize=1)
def _env_settings() -> Settings:
    return Settings.from_env()


def _withdrawn(session: Session, credential: Credential) -> bool:
    row = session.execute(
        select(Guardianship.active, Student.active)
        .join(Student, Student.id == Guardianship.student_id)
        .where(Guardianship.id == credential.guardianship_id)
    ).one()
    return not (row[0] and row[1])


def _record_failure(session: Session, credential: Credential, settings: Settings, now) -> bool:
    """Count a failed attempt in one UPDATE (safe under concurrent attempts); True if it locked."""
    session.execute(
        update(Credential)
        .where(Credential.id == credential.id)
        .values(failed_attempts=Credential.failed_attempts + 1)
        .execution_options(synchronize_session=False)
    )
    locked = session.execute(
        update(Credential)
        .where(
            Credential.id == credential.id,
            Credential.failed_attempts >= settings.lockout_threshold,
            Credential.state.in_(("temporary", "active", "expired")),
        )
        .values(state="locked")
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(credential)
    if locked:
        audit.record(
            session,
            PORTAL,
            "credentials.lock",
            credential.login,
            {"failed_attempts": credential.failed_attempts},
            now=now,
        )
    return bool(locked)


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
    settings.lockout_threshold, locks), `locked`, `revoked`, `expired`. Every call costs one
    password hash, unknown logins included. On success the counter is reset, a deprecated or
    outdated hash is replaced, and `must_change` says the temporary password is still in use.
    """
    settings = settings or _env_settings()
    now = now or utcnow()
    name = normalise_login(login)
    credential = session.scalar(select(Credential).where(Credential.login == name))
    if credential is None:
        passwords.matches(password, passwords.dummy_hash(passwords.hash_params(settings)), settings)
        return AuthResult(False, "unknown")
    ok, new_hash = passwords.verify_password(password, credential.password_hash, settings)
    result = {"login": credential.login, "credential_id": credential.id}
    if credential.state == "locked":
        return AuthResult(False, "locked", **result)
    if credential.state == "revoked" or _withdrawn(session, credential):
        return AuthResult(False, "revoked", **result)
    if not ok:
        locked = _record_failure(session, credential, settings, now)
        return AuthResult(False, "locked" if locked else "wrong_password", **result)
    if credential.state == "expired" or (
        credential.state == "temporary"
        and credential.expires_at is not None
        and credential.expires_at <= now
    ):
        credential.state = "expired"
        session.flush()
        return AuthResult(False, "expired", **result)
    credential.failed_attempts = 0
    credential.last_login_at = now
    if new_hash:
        credential.password_hash = new_hash
    session.flush()
    return AuthResult(True, None, must_change=credential.state == "temporary", **result)


def password_problem(login: str, old: str, new: str) -> str | None:
    """Why `new` is not acceptable (`too_short`, `same_as_old`, `same_as_login`), or None."""
    if len(new) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if hmac.compare_digest(new.encode(), old.encode()):
        return "same_as_old"
    if hmac.compare_digest(new.strip().lower().encode(), normalise_login(login).encode()):
        return "same_as_login"
    return None


def change_password(
    session: Session,
    login: str,
    old: str,
    new: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> AuthResult:
    """Replace the password after checking the old one (which counts as a login attempt).

    The new password must differ from the old, have at least 8 characters and not be the
    login. A temporary credential becomes `active`, with no expiry.
    """
    settings = settings or _env_settings()
    now = now or utcnow()
    problem = password_problem(login, old, new)
    checked = authenticate(session, login, old, now, settings=settings)
    if not checked.ok:
        return checked
    if problem:
        return AuthResult(False, problem, checked.login, checked.credential_id, checked.must_change)
    credential = session.get(Credential, checked.credential_id)
    was = credential.state
    credential.password_hash = passwords.hash_password(new, settings)
    credential.state = "active"
    credential.expires_at = None
    credential.changed_at = now
    credential.failed_attempts = 0
    audit.record(
        session, PORTAL, "credentials.change_password", credential.login, {"was": was}, now=now
    )
    session.flush()
    return AuthResult(True, None, credential.login, credential.id, False)
