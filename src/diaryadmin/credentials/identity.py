"""The parent's own account (State Services, `esia`): logins entered once, then remembered.

The school's login and password are entered once into the parent's account, which calls
`link_identity`; from then on the parent signs in there and the portal asks
`authenticate_identity` which children they may see. The identity is the guardian's
(`Guardian.external_identity`, `provider:subject`, unique): one parent, three children, three
logins, one identity. A linked credential is in state `linked`: its school password is spent and
the temporary password's expiry no longer applies. Staff undo a link with `unlink_credential`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.credentials.auth import (
    PORTAL,
    AuthResult,
    authenticate,
    claim_credential,
    commit_without_waiting,
)
from diaryadmin.credentials.logins import normalise_login
from diaryadmin.errors import Refused
from diaryadmin.i18n import _
from diaryadmin.models import Credential, Guardian, Guardianship, Student, utcnow

PROVIDER_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
SUBJECT_MAX = 200
# Never a valid PHC string, so a linked login's school password matches nothing.
SPENT_HASH = "!spent-by-link"


@dataclass(frozen=True)
class IdentityResult:
    ok: bool
    reason: str | None = None  # unknown | revoked | invalid_identity when not ok
    students: tuple[int, ...] = ()  # the children this identity may see now
    guardian_id: int | None = None


def identity_key(provider: str, subject: str) -> str | None:
    """`provider:subject` as stored, or None when either is not a plausible identifier."""
    provider = (provider or "").strip().lower()
    subject = (subject or "").strip()
    if not PROVIDER_RE.match(provider) or not subject or len(subject) > SUBJECT_MAX:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in subject):
        return None
    return f"{provider}:{subject}"


def link_identity(
    session: Session,
    login: str,
    password: str,
    provider: str,
    subject: str,
    now: datetime | None = None,
    *,
    settings: Settings | None = None,
) -> AuthResult:
    """Bind the credential of `login` to the parent's own account `provider`/`subject`.

    The login and password are checked as by `authenticate` (a temporary password is fine, an
    expired one is not; failures count toward the lockout). Refused with `identity_taken` when
    the identity belongs to another guardian, `other_identity` when this guardian is bound to a
    different one, `invalid_identity` for an empty or malformed provider or subject. Afterwards
    the school password no longer authenticates. Audited; the caller commits.
    """
    now = now or utcnow()
    key = identity_key(provider, subject)
    if key is None:
        return AuthResult(False, "invalid_identity")
    checked = authenticate(session, login, password, now, settings=settings)
    if not checked.ok:
        return checked
    claimed = claim_credential(session, login)
    guardian = session.get(Guardian, claimed.guardian_id, with_for_update=True)
    if guardian.external_identity not in (None, key):
        return claimed.result(False, "other_identity")
    owner = session.scalar(select(Guardian.id).where(Guardian.external_identity == key))
    if owner is not None and owner != guardian.id:
        return claimed.result(False, "identity_taken")
    credential = claimed.credential
    was = credential.state
    try:
        with session.begin_nested():
            guardian.external_identity = key
            credential.state = "linked"
            credential.linked_at = now
            credential.expires_at = None
            credential.password_hash = SPENT_HASH
            credential.failed_attempts = 0
            session.flush()
    except IntegrityError:
        # Another guardian took the identity between our check and our write.
        return claimed.result(False, "identity_taken")
    commit_without_waiting(session, wait=True)
    audit.record(
        session,
        PORTAL,
        "credentials.link",
        credential.login,
        {"provider": key.partition(":")[0], "was": was},
        now=now,
    )
    session.flush()
    return claimed.result(True)


def authenticate_identity(
    session: Session, provider: str, subject: str, now: datetime | None = None
) -> IdentityResult:
    """The children the parent signed in as `provider`/`subject` may see now.

    Only linked credentials count, and not when revoked, the access was withdrawn or the
    student is inactive. Fails with `unknown` (never linked), `revoked` (nothing visible any
    more) or `invalid_identity`. Records the sign-in on the credentials it opens.
    """
    now = now or utcnow()
    key = identity_key(provider, subject)
    if key is None:
        return IdentityResult(False, "invalid_identity")
    guardian_id = session.scalar(select(Guardian.id).where(Guardian.external_identity == key))
    if guardian_id is None:
        return IdentityResult(False, "unknown")
    rows = session.execute(
        select(Credential.id, Guardianship.student_id)
        .join(Guardianship, Guardianship.id == Credential.guardianship_id)
        .join(Student, Student.id == Guardianship.student_id)
        .where(
            Guardianship.guardian_id == guardian_id,
            Credential.state == "linked",
            Guardianship.active.is_(True),
            Student.active.is_(True),
        )
        .order_by(Guardianship.student_id)
    ).all()
    if not rows:
        return IdentityResult(False, "revoked", (), guardian_id)
    session.execute(
        update(Credential)
        .where(Credential.id.in_([r[0] for r in rows]))
        .values(last_login_at=now)
        .execution_options(synchronize_session=False)
    )
    students = tuple(dict.fromkeys(r[1] for r in rows))
    return IdentityResult(True, None, students, guardian_id)


def linked_provider(credential: Credential) -> str | None:
    """The provider (`esia`) a linked credential's guardian signs in with, or None."""
    if credential.state != "linked":
        return None
    identity = credential.guardianship.guardian.external_identity
    return identity.partition(":")[0] if identity else None


def linked_login(
    session: Session,
    *,
    login: str | None = None,
    student_id: int | str | None = None,
    guardian_name: str | None = None,
) -> str | None:
    """The login named (or the student's guardian's) when it is linked; None otherwise, also
    when nothing matches (the caller's own lookup reports that)."""
    from diaryadmin.credentials.scope import find_guardianship
    from diaryadmin.errors import DiaryAdminError

    try:
        if login:
            credential = session.scalar(
                select(Credential).where(Credential.login == normalise_login(login))
            )
        elif student_id is not None and guardian_name:
            credential = find_guardianship(session, student_id, guardian_name).credential
        else:
            return None
    except DiaryAdminError:
        return None
    return credential.login if credential is not None and credential.state == "linked" else None


def unlink_credential(
    session: Session,
    login: str,
    *,
    operator: str,
    now: datetime | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Undo a link: the login needs a new password again (state `expired` until a reset or a
    recovery), and the identity is released when none of the guardian's logins stays linked.

    Raises NotFound for an unknown login and Refused when it is not linked. Audited.
    """
    from diaryadmin.credentials.lifecycle import credential_by_login

    credential = credential_by_login(session, login)
    if credential.state != "linked":
        raise Refused(
            _("{login} is not linked to a parent's own account.").format(login=credential.login)
        )
    guardian = credential.guardianship.guardian
    provider = linked_provider(credential)
    others = session.scalar(
        select(func.count())
        .select_from(Credential)
        .join(Guardianship, Guardianship.id == Credential.guardianship_id)
        .where(
            Guardianship.guardian_id == guardian.id,
            Credential.state == "linked",
            Credential.id != credential.id,
        )
    )
    outcome = {
        "login": credential.login,
        "guardian": guardian.full_name,
        "provider": provider,
        "identity_released": not others,
    }
    if dry_run:
        return outcome
    credential.state = "expired"
    credential.linked_at = None
    if not others:
        guardian.external_identity = None
    audit.record(
        session,
        operator,
        "credentials.unlink",
        credential.login,
        {"provider": provider, "identity_released": not others},
        now=now,
    )
    session.flush()
    return outcome
