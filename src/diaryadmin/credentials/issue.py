"""Issuing parent credentials: a login and a temporary password for each guardianship in scope.

One credential per guardianship (guardian × child, trusted persons included). The plain
temporary password exists only in memory (`IssuedCredential`), on its way to the slips file or an
e-mail; the database keeps the argon2id hash. Issuing is bound by the hash: passwords are drawn
first, hashed on all cores, then written in bulk. Whom a command means is `credentials.scope`;
reset, revoke and expiry are `credentials.lifecycle`; the slips file and e-mail around an issue
are `credentials.delivery`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from diaryadmin import audit, schools
from diaryadmin.config import Settings
from diaryadmin.credentials import logins, passwords
from diaryadmin.credentials.scope import id_chunks, relation_label, withdrawn
from diaryadmin.errors import NotFound
from diaryadmin.i18n import _
from diaryadmin.models import (
    Credential,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Student,
    utcnow,
)
from diaryadmin.people.names import full_name
from diaryadmin.plan import Plan

__all__ = [
    "STATES",
    "IssueResult",
    "IssuedCredential",
    "count_to_issue",
    "issue_credentials",
    "plan_issue",
]

log = logging.getLogger(__name__)

STATES = ("temporary", "active", "expired", "locked", "revoked", "linked")
WORKING_STATES = ("temporary", "active")
INSERT_BATCH = 500
_RETRIES = 8


@dataclass
class IssuedCredential:
    """One issued login with its plain temporary password; lives only in memory."""

    login: str
    password: str = field(repr=False)
    student: str
    class_name: str | None
    guardian: str
    relation: str
    email: str | None
    expires_at: datetime
    guardianship_id: int
    school: str
    portal_url: str | None = None  # where this school's parents sign in (schools.portal_url)
    language: str | None = None  # of the school's documents (schools.document_language)


@dataclass
class IssueResult:
    issued: list[IssuedCredential]
    skipped: int
    emailed: int = 0
    failed: list[dict] = field(default_factory=list)
    no_email: list[dict] = field(default_factory=list)  # letters skipped: no e-mail address
    plan: Plan = field(default_factory=Plan)

    def to_dict(self) -> dict:
        """The machine-readable outcome; never a password."""
        data = {
            "issued": len(self.issued),
            "skipped": self.skipped,
            "emailed": self.emailed,
            "failed": list(self.failed),
        }
        if self.no_email:
            data["no_email"] = list(self.no_email)
        return data


# --- issue ---------------------------------------------------------------------------------------


@dataclass
class _Target:
    guardianship_id: int
    relation: str
    student_id: int
    student: str
    child_name: str
    child_surname: str
    class_name: str | None
    school: str
    guardian: str
    guardian_name: str
    email: str | None
    credential_id: int | None
    login: str | None
    credential_state: str | None
    school_row: School | None = None


def _load_targets(session: Session, ids: Sequence[int]) -> list[_Target]:
    targets: dict[int, _Target] = {}
    for chunk in id_chunks(ids):
        query = (
            select(
                Guardianship,
                Student,
                Guardian,
                SchoolClass.name,
                School.name,
                Credential,
                School,
            )
            .join(Student, Student.id == Guardianship.student_id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
            .join(School, School.id == Student.school_id)
            .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
            .outerjoin(Credential, Credential.guardianship_id == Guardianship.id)
            .where(Guardianship.id.in_(chunk))
        )
        for link, child, person, class_name, school_name, credential, school in session.execute(
            query
        ):
            targets[link.id] = _Target(
                guardianship_id=link.id,
                relation=link.relation,
                student_id=child.id,
                student=full_name(child.surname, child.name, child.patronymic),
                child_name=child.name,
                child_surname=child.surname,
                class_name=class_name,
                school=school_name,
                guardian=person.full_name,
                guardian_name=person.name,
                email=person.email,
                credential_id=credential.id if credential else None,
                login=credential.login if credential else None,
                credential_state=credential.state if credential else None,
                school_row=school,
            )
    missing = [i for i in ids if i not in targets]
    if missing:
        raise NotFound(
            _("No guardianship with id {ids}.").format(ids=", ".join(map(str, missing[:10])))
        )
    return [targets[i] for i in dict.fromkeys(ids)]


def _guardian_counts(session: Session, student_ids: Iterable[int]) -> Counter[int]:
    counts: Counter[int] = Counter()
    for chunk in id_chunks(sorted(set(student_ids))):
        rows = session.execute(
            select(Guardianship.student_id, func.count())
            .where(Guardianship.student_id.in_(chunk), Guardianship.active.is_(True))
            .group_by(Guardianship.student_id)
        )
        counts.update({student_id: count for student_id, count in rows})
    return counts


def _insert_new(
    session: Session, rows: list[dict[str, Any]], stems: list[str]
) -> tuple[list[dict[str, Any]], int]:
    """Insert credentials with fresh logins, batch by batch under a SAVEPOINT.

    Another operator may insert the same login (or the same guardianship) at the same time;
    the unique constraints catch it, and the batch is retried with the logins and credentials
    committed meanwhile. Returns the rows written (with their logins) and how many were
    skipped because someone else issued them first.
    """
    written: list[dict[str, Any]] = []
    skipped = 0
    for start in range(0, len(rows), INSERT_BATCH):
        batch = rows[start : start + INSERT_BATCH]
        batch_stems = stems[start : start + INSERT_BATCH]
        for attempt in range(_RETRIES):
            taken = logins.existing_logins(session, batch_stems)
            for row, login in zip(batch, logins.allocate(batch_stems, taken), strict=True):
                row["login"] = login
            try:
                with session.begin_nested():
                    session.execute(insert(Credential), batch)
                break
            except IntegrityError:
                if attempt == _RETRIES - 1:
                    raise
                log.info("a login or credential was written by someone else meanwhile; retrying")
                ids = [r["guardianship_id"] for r in batch]
                issued = set(
                    session.scalars(
                        select(Credential.guardianship_id).where(
                            Credential.guardianship_id.in_(ids)
                        )
                    )
                )
                if issued:
                    keep = [i for i, r in enumerate(batch) if r["guardianship_id"] not in issued]
                    skipped += len(batch) - len(keep)
                    batch = [batch[i] for i in keep]
                    batch_stems = [batch_stems[i] for i in keep]
                    if not batch:
                        break
        written.extend(batch)
    return written, skipped


def issue_credentials(
    session: Session,
    settings: Settings,
    guardianship_ids: Iterable[int],
    *,
    reissue: bool = False,
    operator: str,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
    action: str | None = None,
    supply: passwords.PasswordSupply | None = None,
    revive: bool = False,
) -> IssueResult:
    """Issue a credential with a fresh temporary password for each guardianship.

    A guardianship that already has one is skipped, or with `reissue` gets a new temporary
    password on the same row (the login stays); a revoked login is skipped then too, unless
    `revive` (an explicit reset or grant of that one login). Inactive guardianships and
    students are skipped. `progress(n)` is called as hashes complete. `supply` holds
    passwords hashed before the transaction (see passwords.PasswordSupply). Writes one audit
    event. The caller owns the transaction; nothing is committed here.
    """
    now = now or utcnow()
    targets = _load_targets(session, list(guardianship_ids))
    inactive = withdrawn(session, [t.guardianship_id for t in targets])
    chosen = [t for t in targets if _wanted(t, inactive, reissue, revive)]
    skipped = len(targets) - len(chosen)
    plain, hashes = (supply or passwords.PasswordSupply()).take(len(chosen), settings, progress)
    expires_at = now + timedelta(days=settings.temp_password_days)

    fresh_rows, fresh_stems, fresh_targets = [], [], {}
    replaced = []
    counts = _guardian_counts(session, [t.student_id for t in chosen if t.credential_id is None])
    for target, password_hash in zip(chosen, hashes, strict=True):
        state = {
            "password_hash": password_hash,
            "state": "temporary",
            "issued_at": now,
            "expires_at": expires_at,
            "changed_at": None,
            "failed_attempts": 0,
            "reminded_at": None,
            "linked_at": None,
        }
        if target.credential_id is not None:
            replaced.append({"id": target.credential_id, **state})
        else:
            guardian_part = target.guardian_name if counts[target.student_id] > 1 else None
            fresh_stems.append(
                logins.login_stem(target.child_name, target.child_surname, guardian_part)
            )
            fresh_rows.append({"guardianship_id": target.guardianship_id, **state})
            fresh_targets[target.guardianship_id] = target
    if replaced:
        session.execute(update(Credential), replaced)
    written, raced = _insert_new(session, fresh_rows, fresh_stems)
    new_logins = {row["guardianship_id"]: row["login"] for row in written}

    existing = {t.guardianship_id for t in chosen if t.credential_id is not None}
    issued = []
    for target, password in zip(chosen, plain, strict=True):
        login = target.login or new_logins.get(target.guardianship_id)
        if login is None:  # another operator issued it meanwhile
            continue
        issued.append(
            IssuedCredential(
                login=login,
                password=password,
                student=target.student,
                class_name=target.class_name,
                guardian=target.guardian,
                relation=target.relation,
                email=target.email,
                expires_at=expires_at,
                guardianship_id=target.guardianship_id,
                school=target.school,
                portal_url=schools.portal_url(session, target.school_row, settings),
                language=schools.document_language(target.school_row),
            )
        )
    result = IssueResult(issued=issued, skipped=skipped + raced)
    again = "reset" if action == "credentials.reset" else "reissue"
    for credential in issued:
        verb = again if credential.guardianship_id in existing else "issue"
        result.plan.add(verb, "login", credential.login, _whose(credential))
    audit.record(
        session,
        operator,
        action or ("credentials.reissue" if reissue else "credentials.issue"),
        target=f"{len(issued)} credential(s)",
        details={
            "issued": len(issued),
            "new": len(written),
            "reissued": len(replaced),
            "skipped": result.skipped,
            "logins": [c.login for c in issued],
            "expires_at": expires_at.isoformat(),
        },
        now=now,
    )
    session.flush()
    return result


def _whose(c: IssuedCredential | _Target) -> str:
    text = (
        _("{guardian} ({relation}) for {student}, {class_name}")
        if c.class_name
        else _("{guardian} ({relation}) for {student}")
    )
    return text.format(
        guardian=c.guardian,
        relation=relation_label(c.relation),
        student=c.student,
        class_name=c.class_name,
    )


def count_to_issue(
    session: Session, guardianship_ids: Iterable[int], *, reissue: bool = False
) -> tuple[int, int]:
    """(would be issued, would be skipped) for a dry run; no password is drawn."""
    plan, skipped = plan_issue(session, guardianship_ids, reissue=reissue)
    return len(plan), skipped


def plan_issue(
    session: Session, guardianship_ids: Iterable[int], *, reissue: bool = False
) -> tuple[Plan, int]:
    """Who would get a password, by name, and how many would be skipped; no password is
    drawn or hashed (a dry run of `issue_credentials`)."""
    targets = _load_targets(session, list(guardianship_ids))
    inactive = withdrawn(session, [t.guardianship_id for t in targets])
    plan = Plan()
    for target in targets:
        if _wanted(target, inactive, reissue, revive=False):
            if target.login:
                plan.add("reissue", "login", target.login, _whose(target))
            else:
                plan.add("issue", "login", "(new)", _whose(target))
    return plan, len(targets) - len(plan)


def _wanted(target: _Target, inactive: set[int], reissue: bool, revive: bool) -> bool:
    """Whether a guardianship gets a password now: active, and without a credential (or
    `reissue`, which leaves a revoked login revoked unless `revive`)."""
    if target.guardianship_id in inactive:
        return False
    if target.credential_id is None:
        return True
    # A linked login is the parent's own account's now: only an explicit reset replaces it.
    return reissue and (revive or target.credential_state not in ("revoked", "linked"))
