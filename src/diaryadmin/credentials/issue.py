"""Parent credentials: issue, reset, expire, revoke and status.

One credential per guardianship (guardian × child, trusted persons included). The plain
temporary password exists only in memory (`IssuedCredential`), on its way to the slips file or an
e-mail; the database keeps the argon2id hash. Issuing is bound by the hash: passwords are drawn
first, hashed on all cores, then written in bulk.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from diaryadmin import audit, schools
from diaryadmin.config import Settings
from diaryadmin.credentials import logins, passwords
from diaryadmin.db import chunked
from diaryadmin.errors import InputError, NotFound, Problem, Refused
from diaryadmin.models import (
    Credential,
    Guardian,
    Guardianship,
    School,
    SchoolClass,
    Student,
    utcnow,
)
from diaryadmin.people.names import canonical_class, fold

log = logging.getLogger(__name__)

STATES = ("temporary", "active", "expired", "locked", "revoked", "linked")
WORKING_STATES = ("temporary", "active")
INSERT_BATCH = 500
_ID_CHUNK = 5_000
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


@dataclass
class IssueResult:
    issued: list[IssuedCredential]
    skipped: int
    emailed: int = 0
    failed: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The machine-readable outcome; never a password."""
        return {
            "issued": len(self.issued),
            "skipped": self.skipped,
            "emailed": self.emailed,
            "failed": list(self.failed),
        }


def full_name(surname: str, name: str, patronymic: str | None) -> str:
    return " ".join(p for p in (surname, name, patronymic) if p)


def id_chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    return chunked(values, _ID_CHUNK)


# --- scope ---------------------------------------------------------------------------------------


def school_id_of(session: Session, school: School | str | None) -> int | None:
    if school is None:
        return None
    if isinstance(school, School):
        return school.id
    found = session.scalar(select(School.id).where(School.code == school))
    if found is None:
        raise NotFound(f"There is no school with code {school!r}.")
    return found


def canonical_classes(classes: Iterable[str]) -> list[str]:
    """Class names as given by a user, made canonical; InputError naming every bad one."""
    result, problems = [], []
    for text in classes:
        try:
            result.append(canonical_class(text))
        except ValueError as exc:
            problems.append(Problem(str(exc), column="--class", value=text))
    if problems:
        raise InputError("Some class names are not valid.", problems)
    return result


def resolve_students(session: Session, student_ids: Iterable[int | str]) -> list[int]:
    """Database ids (or external ids) of students; NotFound naming the missing ones."""
    ids: list[int] = []
    missing = []
    for value in student_ids:
        text = str(value).strip()
        found = None
        if text.isdigit():
            found = session.get(Student, int(text))
            found = found.id if found else None
        if found is None:
            found = session.scalar(select(Student.id).where(Student.external_id == text).limit(2))
        if found is None:
            missing.append(text)
        else:
            ids.append(found)
    if missing:
        raise NotFound(f"No student with id {', '.join(missing)}.")
    return ids


def select_guardianships(
    session: Session,
    *,
    classes: Iterable[str] = (),
    student_ids: Iterable[int | str] = (),
    all_: bool = False,
    school: School | str | None = None,
) -> list[int]:
    """Ids of the active guardianships of active students in scope, in slip order
    (class, child, guardian). Raises Refused without a scope, NotFound for an unknown class
    or student, InputError for a malformed class name."""
    classes = canonical_classes(classes)
    student_ids = list(student_ids)
    if not (classes or student_ids or all_):
        raise Refused("Say whom to issue for: --class, --student or --all.")
    school_id = school_id_of(session, school)
    query = (
        select(Guardianship.id)
        .join(Student, Student.id == Guardianship.student_id)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .outerjoin(SchoolClass, SchoolClass.id == Student.class_id)
        .where(Guardianship.active.is_(True), Student.active.is_(True))
        .order_by(
            SchoolClass.grade, SchoolClass.name, Student.surname, Student.name, Student.id,
            Guardian.surname, Guardian.name, Guardianship.id,
        )
    )  # fmt: skip
    if school_id is not None:
        query = query.where(Student.school_id == school_id)
    if not all_:
        conditions = []
        if classes:
            known = set(
                session.scalars(select(SchoolClass.name).where(SchoolClass.name.in_(classes)))
            )
            unknown = [c for c in classes if c not in known]
            if unknown:
                raise NotFound(f"No class {', '.join(unknown)} on the roster.")
            conditions.append(SchoolClass.name.in_(classes))
        if student_ids:
            conditions.append(Student.id.in_(resolve_students(session, student_ids)))
        query = query.where(or_(*conditions))
    return list(session.scalars(query))


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
        raise NotFound(f"No guardianship with id {', '.join(map(str, missing[:10]))}.")
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
    inactive = _inactive(session, [t.guardianship_id for t in targets])
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
            )
        )
    result = IssueResult(issued=issued, skipped=skipped + raced)
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


def count_to_issue(
    session: Session, guardianship_ids: Iterable[int], *, reissue: bool = False
) -> tuple[int, int]:
    """(would be issued, would be skipped) for a dry run; no password is drawn."""
    targets = _load_targets(session, list(guardianship_ids))
    inactive = _inactive(session, [t.guardianship_id for t in targets])
    todo = sum(1 for t in targets if _wanted(t, inactive, reissue, revive=False))
    return todo, len(targets) - todo


def _wanted(target: _Target, inactive: set[int], reissue: bool, revive: bool) -> bool:
    """Whether a guardianship gets a password now: active, and without a credential (or
    `reissue`, which leaves a revoked login revoked unless `revive`)."""
    if target.guardianship_id in inactive:
        return False
    if target.credential_id is None:
        return True
    # A linked login is the parent's own account's now: only an explicit reset replaces it.
    return reissue and (revive or target.credential_state not in ("revoked", "linked"))


def _inactive(session: Session, ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in id_chunks(ids):
        found.update(
            session.scalars(
                select(Guardianship.id)
                .join(Student, Student.id == Guardianship.student_id)
                .where(
                    Guardianship.id.in_(chunk),
                    (Guardianship.active.is_(False)) | (Student.active.is_(False)),
                )
            )
        )
    return found


# --- reset and revoke ----------------------------------------------------------------------------


def find_guardianship(
    session: Session, student_id: int | str, guardian_name: str | None
) -> Guardianship:
    """The guardianship of a student whose guardian's name is `guardian_name` (full, or
    surname and name; `ё` = `е`, any case). Raises NotFound or Refused when ambiguous."""
    (sid,) = resolve_students(session, [student_id])
    wanted = fold(guardian_name or "")
    links = session.scalars(
        select(Guardianship)
        .join(Guardian, Guardian.id == Guardianship.guardian_id)
        .where(Guardianship.student_id == sid)
    ).all()
    if not wanted:
        if len(links) == 1:
            return links[0]
        names = ", ".join(g.guardian.full_name for g in links) or "none"
        raise Refused(f"Name the guardian with --guardian (student {student_id} has: {names}).")
    exact = [g for g in links if g.guardian.name_key == wanted]
    partial = [g for g in links if g.guardian.name_key.startswith(wanted + " ")]
    found = exact or partial
    if not found:
        names = ", ".join(g.guardian.full_name for g in links) or "none"
        raise NotFound(f"Student {student_id} has no guardian {guardian_name!r} (has: {names}).")
    if len(found) > 1:
        raise Refused(_ambiguous(student_id, guardian_name, found))
    return found[0]


def _ambiguous(student_id: int | str, guardian_name: str, found: list[Guardianship]) -> str:
    """Namesakes (even with the same full name) told apart by relation and login."""
    who = "; ".join(
        f"{g.guardian.full_name} ({g.relation}, "
        + (f"login {g.credential.login})" if g.credential else "no login yet)")
        for g in found
    )
    same = len({g.guardian.name_key for g in found}) == 1
    hint = "use the LOGIN instead" if same else "give the full name or use the LOGIN instead"
    return f"Several guardians of student {student_id} match {guardian_name!r} ({who}): {hint}."


def credential_by_login(session: Session, login: str) -> Credential:
    credential = session.scalar(
        select(Credential).where(Credential.login == logins.normalise_login(login))
    )
    if credential is None:
        raise NotFound(f"There is no login {login!r}; try 'diaryadmin credentials doctor {login}'.")
    return credential


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
                f"{link.guardian.full_name} has no login for this child yet: issue one with "
                f"'diaryadmin credentials issue --student {student_id} --out FILE'."
            )
        link_id = link.id
    else:
        raise Refused("Name the login, or the student and the guardian (--student, --guardian).")
    if _inactive(session, [link_id]):
        raise Refused("This access was withdrawn (or the student left); it cannot be reset.")
    if require_email:
        person = session.get(Guardianship, link_id).guardian
        if not person.email:
            raise Refused(
                f"{person.full_name} has no e-mail address, so reset with --out FILE instead."
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
    )


def revoke_credential(
    session: Session, login: str, *, operator: str, now: datetime | None = None
) -> Credential:
    """Withdraw a login at once (state `revoked`). Raises NotFound."""
    credential = credential_by_login(session, login)
    before = credential.state
    credential.state = "revoked"
    audit.record(
        session, operator, "credentials.revoke", credential.login, {"was": before}, now=now
    )
    session.flush()
    return credential
