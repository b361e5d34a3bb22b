"""A credential's life after it is issued: reset (a new temporary password), revoke, expire.

Each function works inside the caller's transaction, records its audit event there, and adds
what it changes, by login, to `plan` when one is given (the dry-run mechanism, see `plan`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import Settings
from diaryadmin.credentials import logins
from diaryadmin.credentials.issue import IssueResult, issue_credentials
from diaryadmin.credentials.passwords import PasswordSupply
from diaryadmin.credentials.scope import find_guardianship, withdrawn
from diaryadmin.credentials.status import state_words
from diaryadmin.errors import NotFound, Refused
from diaryadmin.i18n import _
from diaryadmin.models import Credential, Guardianship, utcnow
from diaryadmin.plan import Plan

EXPIRE_BATCH = 50_000


def credential_by_login(session: Session, login: str) -> Credential:
    """The credential with this login (any case, spaces trimmed). Raises NotFound."""
    credential = session.scalar(
        select(Credential).where(Credential.login == logins.normalise_login(login))
    )
    if credential is None:
        raise NotFound(
            _("There is no login {login}; try 'diaryadmin credentials doctor {typed}'.").format(
                login=repr(login), typed=login
            )
        )
    return credential


# --- reset ---------------------------------------------------------------------------------------


def reset_credential(
    session: Session,
    settings: Settings,
    *,
    login: str | None = None,
    student_id: int | str | None = None,
    guardian_name: str | None = None,
    operator: str,
    now: datetime | None = None,
    require_email: bool = False,
    supply: PasswordSupply | None = None,
) -> IssueResult:
    """A new temporary password for one credential; the old one stops working at once, the
    failed-attempt counter and any lock are cleared. Find it by login, or by student and
    guardian name. Raises NotFound (no such login, or nothing issued yet) or Refused (also
    when `require_email` and the guardian has no e-mail address: the password would go
    nowhere)."""
    if login:
        link_id = credential_by_login(session, login).guardianship_id
    elif student_id is not None and guardian_name:
        link = find_guardianship(session, student_id, guardian_name)
        if link.credential is None:
            raise NotFound(
                _(
                    "{guardian} has no login for this child yet: issue one with "
                    "'diaryadmin credentials issue --student {student} --out FILE'."
                ).format(guardian=link.guardian.full_name, student=student_id)
            )
        link_id = link.id
    else:
        raise Refused(_("Name the login, or the student and the guardian (--student, --guardian)."))
    if withdrawn(session, [link_id]):
        raise Refused(_("This access was withdrawn (or the student left); it cannot be reset."))
    if require_email:
        person = session.get(Guardianship, link_id).guardian
        if not person.email:
            raise Refused(
                _("{guardian} has no e-mail address, so reset with --out FILE instead.").format(
                    guardian=person.full_name
                )
            )
    return issue_credentials(
        session,
        settings,
        [link_id],
        reissue=True,
        operator=operator,
        now=now,
        action="credentials.reset",
        revive=True,
        supply=supply,
    )


def revoke_credential(
    session: Session,
    login: str,
    *,
    operator: str,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> Credential:
    """Withdraw a login at once (state `revoked`). Raises NotFound."""
    credential = credential_by_login(session, login)
    before = credential.state
    credential.state = "revoked"
    if plan is not None and before != "revoked":
        was = state_words().get(before, before)
        plan.add("revoke", "login", credential.login, _("was {state}").format(state=was))
    audit.record(
        session, operator, "credentials.revoke", credential.login, {"was": before}, now=now
    )
    session.flush()
    return credential


# --- expiry --------------------------------------------------------------------------------------


def _due(as_of: datetime):
    return and_(
        Credential.state == "temporary",
        Credential.expires_at.is_not(None),
        Credential.expires_at <= as_of,
    )


def expire_credentials(
    session: Session,
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    operator: str,
    batch_size: int = EXPIRE_BATCH,
    plan: Plan | None = None,
) -> int:
    """Mark temporary passwords past their expiry `expired`, one UPDATE per batch.

    Idempotent, and safe to run twice at once: the state is re-checked by each UPDATE, so a
    row expired by the other run is neither touched nor counted again. Returns the count.
    With `plan`, the logins due are listed in it first. `dry_run` only counts (kept for the
    portal; commands roll their transaction back instead).
    """
    as_of = as_of or utcnow()
    if plan is not None:
        for login in session.scalars(
            select(Credential.login).where(_due(as_of)).order_by(Credential.login)
        ):
            plan.add("expire", "login", login)
    if dry_run:
        return session.scalar(select(func.count()).select_from(Credential).where(_due(as_of)))
    total = 0
    while True:
        ids = select(Credential.id).where(_due(as_of)).limit(batch_size).scalar_subquery()
        statement = (
            update(Credential)
            .where(Credential.id.in_(ids), _due(as_of))
            .values(state="expired")
            .execution_options(synchronize_session=False)
        )
        count = session.execute(statement).rowcount
        total += count
        if count < batch_size:
            break
    if total:
        audit.record(
            session,
            operator,
            "credentials.expire",
            f"{total} credential(s)",
            {"expired": total, "as_of": as_of.isoformat()},
        )
    return total
