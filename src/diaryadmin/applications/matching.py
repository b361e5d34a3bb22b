"""Matching one application to a child of the roster, and the reasons for its decision.

Candidates are loaded per batch of applications with IN-queries on the indexed columns
(certificate fingerprint, name key, birth date), never by scanning all pairs. The certificate
decides which child is meant; names and dates are then compared with that child only, and
near misses (one letter, day and month swapped, patronymic left out) are looked for among the
children who share the certificate or the birth date.

Reason codes (stable; messages never reveal a stored value):

- `child_not_found` (rejected): no child with this name (or near miss) and birth date or certificate
- `child_inactive` (rejected): the child has left the school
- `birth_date_mismatch` (rejected): the birth date differs from the roster
- `date_swapped` (review): the birth date matches with day and month swapped
- `certificate_mismatch` (rejected): not the child's certificate (review if the school holds none)
- `certificate_malformed` (rejected): the certificate series/number is missing or not valid
- `name_near_miss` (review): one letter off in the surname, name or patronymic
- `patronymic_missing` (review): the certificate matches but the patronymic was left out
- `no_consent` (rejected): no consent to personal-data processing
- `passport_malformed` (rejected): the applicant's passport is missing or not 4 + 6 digits
- `snils_invalid` (rejected): the applicant's SNILS fails its check number
- `duplicate_application` (rejected): this applicant's application for this child is approved
- `contact_conflict` (review): the applicant is the child's guardian, with other contacts
- `reviewer` (either way): a reviewer's decision with `applications decide`
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, String, bindparam, select, text
from sqlalchemy.orm import Session

from diaryadmin.applications import reasons as texts
from diaryadmin.models import Application, Guardian, Student
from diaryadmin.people.names import fold, within_one_edit

IN_CHUNK = 900  # bound parameters per IN-query
PAIR_CHUNK = 400  # (name, birth date) pairs per query

REASON_CODES = (
    "child_not_found",
    "child_inactive",
    "birth_date_mismatch",
    "date_swapped",
    "certificate_mismatch",
    "certificate_malformed",
    "name_near_miss",
    "patronymic_missing",
    "no_consent",
    "passport_malformed",
    "snils_invalid",
    "duplicate_application",
    "contact_conflict",
)

_PART_NAMES = ("surname", "name", "patronymic")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A student as matching needs it (no ORM object, so 100,000 of them stay cheap)."""

    id: int
    school_id: int
    surname: str
    name: str
    patronymic: str | None
    name_key: str
    birth_date: date
    certificate_fp: str | None
    active: bool


_CANDIDATE_COLUMNS = (
    Student.id,
    Student.school_id,
    Student.surname,
    Student.name,
    Student.patronymic,
    Student.name_key,
    Student.birth_date,
    Student.certificate_fp,
    Student.active,
)


class Reasons:
    """Collects reasons; the worst one decides the status."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []
        self.reject = False
        self.review = False

    def add(self, code: str, message: str, review: bool = False, **extra: Any) -> None:
        """Add reason `code` with its English `message` (a catalogue msgid, translated when
        shown) and any `extra` the text is rebuilt from (`reasons.reason_text`)."""
        if any(item["code"] == code for item in self.items):
            return
        self.items.append({"code": code, "message": message, **extra})
        if review:
            self.review = True
        else:
            self.reject = True

    @property
    def status(self) -> str:
        if self.reject:
            return "rejected"
        return "review" if self.review else "approved"


def swapped(day: date | None) -> date | None:
    """The date with day and month exchanged, if that is a different real date."""
    if day is None or day.day == day.month or day.day > 12:
        return None
    return date(day.year, day.day, day.month)


@lru_cache(maxsize=65536)
def _parts(surname: str, name: str, patronymic: str | None) -> tuple[str, str, str]:
    return fold(surname), fold(name), fold(patronymic) if patronymic else ""


def compare_names(app: Any, student: Candidate) -> tuple[str, str | None]:
    """How the application's child name relates to the student's.

    Returns (kind, field): kind is `exact`, `patronymic_missing`, `near` (one letter off in
    `field`), `patronymic_missing_near` or `different`.
    """
    key = getattr(app, "child_name_key", None)
    if key and key == student.name_key:
        return "exact", None
    a = _parts(app.child_surname, app.child_name, app.child_patronymic)
    s = _parts(student.surname, student.name, student.patronymic)
    if a == s:
        return "exact", None
    if not s[2] and a[:2] == s[:2]:
        return "exact", None  # the school records no patronymic: nothing to compare it with
    if not a[2] and s[2]:
        if a[:2] == s[:2]:
            return "patronymic_missing", None
        if within_one_edit(" ".join(a[:2]), " ".join(s[:2])):
            return "patronymic_missing_near", _differing(a, s)
        return "different", None
    if within_one_edit(" ".join(a), " ".join(s)):
        return "near", _differing(a, s)
    return "different", None


def _differing(a: tuple[str, ...], s: tuple[str, ...]) -> str:
    for label, x, y in zip(_PART_NAMES, a, s, strict=True):
        if x != y and x and y:
            return label
    return "name"


# Column names from the model, so a renamed column cannot leave this clause behind.
_NAME_KEY = str(Student.__table__.c.name_key)
_BIRTH_DATE = str(Student.__table__.c.birth_date)


def _pairs(pairs: list[tuple[str, date]]) -> Any:
    """`(name_key = k AND birth_date = d) OR ...` as one text clause: building hundreds of
    expression objects would cost more than the query."""
    clauses, params = [], []
    for i, (key, day) in enumerate(pairs):
        clauses.append(f"({_NAME_KEY} = :k{i} AND {_BIRTH_DATE} = :d{i})")
        params.append(bindparam(f"k{i}", key, type_=String))
        params.append(bindparam(f"d{i}", day, type_=Date))
    return text(" OR ".join(clauses)).bindparams(*params)


class CandidateBatch:
    """Candidates for one batch of applications, loaded with a few IN-queries."""

    def __init__(self, session: Session, apps: list[Application]):
        self.session = session
        fps = {a.certificate_fp for a in apps if a.certificate_fp}
        self.by_certificate: dict[str, list[Candidate]] = defaultdict(list)
        self.by_key: dict[str, list[Candidate]] = defaultdict(list)
        self.by_date: dict[date, list[Candidate]] = defaultdict(list)
        for student in self._load(Student.certificate_fp, fps):
            self.by_certificate[student.certificate_fp].append(student)
        # Same name and birth date: lookups on the (name_key, birth_date) index. An OR of
        # pairs, because SQLite scans the table for a row-value IN but not for this.
        seen: set[int] = set()
        pairs = sorted({(a.child_name_key, a.child_birth_date) for a in apps})
        for start in range(0, len(pairs), PAIR_CHUNK):
            chunk = pairs[start : start + PAIR_CHUNK]
            for row in self.session.execute(select(*_CANDIDATE_COLUMNS).where(_pairs(chunk))):
                student = Candidate(*row)
                if student.id not in seen:
                    seen.add(student.id)
                    self.by_key[student.name_key].append(student)
        for students in self.by_key.values():
            students.sort(key=lambda s: s.id)
        # Only where neither found the child: the same name born on another day (a wrong
        # birth date), and the children born that day or on the swapped day (near misses).
        unresolved = [a for a in apps if not self._resolved(a)]
        keys = {a.child_name_key for a in unresolved}
        for student in self._load(Student.name_key, keys):
            if student.id not in seen:
                self.by_key[student.name_key].append(student)
        dates: set[date] = set()
        for a in unresolved:
            if a.child_birth_date is not None:
                dates.add(a.child_birth_date)
                if other := swapped(a.child_birth_date):
                    dates.add(other)
        for student in self._load(Student.birth_date, dates):
            self.by_date[student.birth_date].append(student)

    def _load(self, column: Any, values: Iterable[Any]) -> Iterable[Candidate]:
        values = sorted(values)
        for start in range(0, len(values), IN_CHUNK):
            chunk = values[start : start + IN_CHUNK]
            query = select(*_CANDIDATE_COLUMNS).where(column.in_(chunk)).order_by(Student.id)
            for row in self.session.execute(query):
                yield Candidate(*row)

    def _resolved(self, a: Application) -> bool:
        if a.certificate_fp and self.by_certificate.get(a.certificate_fp):
            return True
        same_name = self.by_key.get(a.child_name_key, ())
        return any(s.birth_date == a.child_birth_date for s in same_name)

    def in_school(self, a: Application, students: Iterable[Candidate]) -> list[Candidate]:
        return [s for s in students if a.school_id is None or s.school_id == a.school_id]


def decide(a: Application, batch: CandidateBatch) -> tuple[Reasons, Candidate | None]:
    """The reasons for one application, and the child it was matched to (if any)."""
    reasons = Reasons()
    flags = a.document_flags or {}
    if not a.consent:
        reasons.add("no_consent", texts.NO_CONSENT)
    if flags.get("certificate"):
        missing = flags["certificate"] == "missing"
        reasons.add(
            "certificate_malformed",
            texts.CERTIFICATE_MISSING if missing else texts.CERTIFICATE_MALFORMED,
        )
    if flags.get("passport"):
        missing = flags["passport"] == "missing"
        reasons.add(
            "passport_malformed", texts.PASSPORT_MISSING if missing else texts.PASSPORT_MALFORMED
        )
    if flags.get("snils"):
        reasons.add("snils_invalid", texts.SNILS_INVALID)

    student = _match(a, batch, reasons)
    if student is not None:
        _compare_date(a, student, reasons)
        if not student.active:
            reasons.add("child_inactive", texts.CHILD_INACTIVE)
    return reasons, student


def _match(a: Application, batch: CandidateBatch, reasons: Reasons) -> Candidate | None:
    exact = batch.in_school(a, batch.by_key.get(a.child_name_key, ()))
    exact.sort(key=lambda s: (s.birth_date != a.child_birth_date, not s.active, s.id))
    by_certificate = batch.in_school(a, batch.by_certificate.get(a.certificate_fp or "", ()))
    if by_certificate:
        # The certificate decides which child is meant (twins share a birth date, not this).
        student = by_certificate[0]
        kind, part = compare_names(a, student)
        if kind == "exact":
            return student
        # A child of exactly this name born that day (the twin the parent meant): only the
        # certificate is wrong. Same-day only, so the outcome never depends on the batch.
        same_day = [s for s in exact if s.birth_date == a.child_birth_date]
        if same_day:
            other = same_day[0]
            reasons.add("certificate_mismatch", texts.CERTIFICATE_MISMATCH)
            return other
        if kind != "different":
            _name_reasons(kind, part, reasons)
            return student
        reasons.add("child_not_found", texts.NOT_FOUND_BY_CERTIFICATE)
        return None
    if exact:
        student = exact[0]
        _certificate_differs(a, student, reasons)
        return student
    for day in (a.child_birth_date, swapped(a.child_birth_date)):
        if day is None:
            continue
        for student in batch.in_school(a, batch.by_date.get(day, ())):
            kind, part = compare_names(a, student)
            if kind != "different":
                _name_reasons(kind, part, reasons)
                _certificate_differs(a, student, reasons)
                return student
    reasons.add("child_not_found", texts.NOT_FOUND_BY_DATE)
    return None


def _certificate_differs(a: Application, student: Candidate, reasons: Reasons) -> None:
    if (a.document_flags or {}).get("certificate"):
        return  # already a reason: certificate_malformed
    if student.certificate_fp is None:
        reasons.add("certificate_mismatch", texts.CERTIFICATE_UNKNOWN, review=True)
        return
    reasons.add("certificate_mismatch", texts.CERTIFICATE_MISMATCH)


def _name_reasons(kind: str, part: str | None, reasons: Reasons) -> None:
    if kind.startswith("patronymic_missing"):
        reasons.add("patronymic_missing", texts.PATRONYMIC_MISSING, review=True)
    if kind.endswith("near"):
        message = texts.NEAR_MISS.get(part or "name", texts.NEAR_MISS["name"])
        reasons.add("name_near_miss", message, review=True)


def _compare_date(a: Application, student: Candidate, reasons: Reasons) -> None:
    if a.child_birth_date == student.birth_date:
        return
    if swapped(a.child_birth_date) == student.birth_date:
        reasons.add("date_swapped", texts.DATE_SWAPPED, review=True)
        return
    reasons.add("birth_date_mismatch", texts.BIRTH_DATE_MISMATCH)


def contact_conflicts(
    a: Application, guardians: list[tuple[Guardian, int]], student_id: int
) -> list[str]:
    """Which contacts differ from the child's guardian of the same name (if there is one)."""
    differing: list[str] = []
    for guardian, linked_student in guardians:
        if linked_student != student_id or guardian.name_key != a.applicant_name_key:
            continue
        pairs = (
            ("email", (guardian.email or "").casefold(), (a.email or "").casefold()),
            ("phone", guardian.phone or "", a.phone or ""),
            ("passport", guardian.passport_fp or "", a.passport_fp or ""),
        )
        for label, stored, given in pairs:
            if stored and given and stored != given and label not in differing:
                differing.append(label)
    return differing
