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

from diaryadmin import audit, letters, schools
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
    "draw_qr_codes",
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
    # The slip's login link with its QR code, drawn while the passwords hashed
    # (issue_credentials' `qr_codes`); None: the slip draws it.
    qr_link: letters.QrLink | None = field(default=None, repr=False, compare=False)


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
    qr_codes: dict[str, str] | None = None,
) -> IssueResult:
    """Issue a credential with a fresh temporary password for each guardianship.

    A guardianship that already has one is skipped, or with `reissue` gets a new temporary
    password on the same row (the login stays); a revoked login is skipped then too, unless
    `revive` (an explicit reset or grant of that one login). Inactive guardianships and
    students are skipped. `progress(n)` is called as hashes complete. `supply` holds
    passwords hashed before the transaction (see passwords.PasswordSupply). With `qr_codes`
    (login link → SVG, for a slips file), the slips' QR codes missing from it are drawn into it
    while the passwords hash, and each issued credential carries its own. Writes one audit
    event. The caller owns the transaction; nothing is committed here.
    """
    now = now or utcnow()
    chosen, skipped = _choose(session, guardianship_ids, reissue, revive)
    supply = supply or passwords.PasswordSupply()
    supply.top_up(len(chosen), settings)  # hashing on the pool from here on
    try:
        stems = _fresh_stems(session, chosen)
        portals = [schools.portal_url(session, t.school_row, settings) for t in chosen]
        if qr_codes is not None:
            # This process's share of the work, done while the pool hashes.
            links = _expected_links(session, chosen, stems, portals)
            letters.draw_qr_codes(links, qr_codes, between=lambda: supply.poll(progress))
        plain, hashes = supply.take(len(chosen), settings, progress)
    except BaseException:
        supply.cancel()
        raise
    expires_at = now + timedelta(days=settings.temp_password_days)

    fresh_rows, fresh_stems = [], []
    replaced = []
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
            fresh_stems.append(stems[target.guardianship_id])
            fresh_rows.append({"guardianship_id": target.guardianship_id, **state})
    if replaced:
        session.execute(update(Credential), replaced)
    written, raced = _insert_new(session, fresh_rows, fresh_stems)
    new_logins = {row["guardianship_id"]: row["login"] for row in written}

    existing = {t.guardianship_id for t in chosen if t.credential_id is not None}
    issued = []
    for target, password, portal in zip(chosen, plain, portals, strict=True):
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
                portal_url=portal,
                qr_link=_drawn(qr_codes, letters.login_link(portal, login)),
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


def _drawn(qr_codes: dict[str, str] | None, url: str) -> letters.QrLink | None:
    svg = qr_codes.get(url) if qr_codes else None
    return letters.QrLink(url, svg) if svg else None


def _choose(
    session: Session, guardianship_ids: Iterable[int], reissue: bool, revive: bool
) -> tuple[list[_Target], int]:
    """(the targets that get a password now, how many are skipped)."""
    targets = _load_targets(session, list(guardianship_ids))
    inactive = withdrawn(session, [t.guardianship_id for t in targets])
    chosen = [t for t in targets if _wanted(t, inactive, reissue, revive)]
    return chosen, len(targets) - len(chosen)


def _fresh_stems(session: Session, chosen: Sequence[_Target]) -> dict[int, str]:
    """The login stem of each target without a credential, by guardianship id: the guardian's
    name joins the child's when the child has more than one guardian."""
    fresh = [t for t in chosen if t.credential_id is None]
    counts = _guardian_counts(session, [t.student_id for t in fresh])
    return {
        t.guardianship_id: logins.login_stem(
            t.child_name, t.child_surname, t.guardian_name if counts[t.student_id] > 1 else None
        )
        for t in fresh
    }


def _expected_links(
    session: Session, chosen: Sequence[_Target], stems: dict[int, str], portals: Sequence[str]
) -> list[str]:
    """The slips' login links of `chosen`, with the logins the inserts will hand out unless
    another operator takes one first (a slip then draws its code itself)."""
    new = iter(logins.allocate(stems.values(), logins.existing_logins(session, stems.values())))
    expected = {gid: next(new) for gid in stems}
    return [
        letters.login_link(portal, t.login or expected[t.guardianship_id])
        for t, portal in zip(chosen, portals, strict=True)
    ]


def draw_qr_codes(
    session: Session,
    settings: Settings,
    guardianship_ids: Iterable[int],
    qr_codes: dict[str, str],
    *,
    reissue: bool = False,
    between: Callable[[], object] | None = None,
) -> None:
    """Draw into `qr_codes` (login link → SVG) the slips' QR codes that issuing
    `guardianship_ids` now would print, ahead of the issue (while its passwords hash);
    `between()` is called after each code. Reads only; pass `qr_codes` on to
    `issue_credentials`."""
    chosen, _skipped = _choose(session, guardianship_ids, reissue, revive=False)
    portals = [schools.portal_url(session, t.school_row, settings) for t in chosen]
    links = _expected_links(session, chosen, _fresh_stems(session, chosen), portals)
    letters.draw_qr_codes(links, qr_codes, between)


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
    chosen, skipped = _choose(session, guardianship_ids, reissue, revive=False)
    plan = Plan()
    for target in chosen:
        if target.login:
            plan.add("reissue", "login", target.login, _whose(target))
        else:
            plan.add("issue", "login", "(new)", _whose(target))
    return plan, skipped


def _wanted(target: _Target, inactive: set[int], reissue: bool, revive: bool) -> bool:
    """Whether a guardianship gets a password now: active, and without a credential (or
    `reissue`, which leaves a revoked login revoked unless `revive`)."""
    if target.guardianship_id in inactive:
        return False
    if target.credential_id is None:
        return True
    # A linked login is the parent's own account's now: only an explicit reset replaces it.
    return reissue and (revive or target.credential_state not in ("revoked", "linked"))
