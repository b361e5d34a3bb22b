"""Matching one chunk of an import's rows to the school's stored students, and the diff.

A row is the same student as a stored one by external id, else by birth-certificate
fingerprint, else by name key and birth date (unless the ID or certificate says it is another
child). The diff says, per stored student, whether it moved class, changed, or is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from sqlalchemy import ColumnElement, bindparam, select

from diaryadmin.errors import Problem, quoted
from diaryadmin.i18n import _
from diaryadmin.models import Student
from diaryadmin.roster.bulk import Bulk
from diaryadmin.roster.normalise import StudentRecord
from diaryadmin.roster.rows import RowIndex

STUDENTS = Student.__table__

MOVED, UPDATED, UNCHANGED = "moved", "updated", "unchanged"


class StoredStudent(NamedTuple):
    """What matching and the diff need of a stored student (names and SNILS as hashes)."""

    external_id: str | None
    certificate_fp: str | None
    key: str
    birth_date: date
    class_id: int | None
    active: bool
    names_hash: int
    snils_hash: int


class StudentUpdate(NamedTuple):
    """New values for a stored student, in the order `write_students` updates them."""

    external_id: str | None
    surname: str
    name: str
    patronymic: str | None
    key: str
    birth_date: date
    certificate_fp: str | None
    snils_fp: str | None  # None keeps the stored fingerprint
    class_name: str
    student_id: int


class Move(NamedTuple):
    student_id: int
    class_name: str


class Placed(NamedTuple):
    """A row of the chunk and the student it is: stored (`student_id`) or new (`new_index`,
    its position among the chunk's new students)."""

    record: StudentRecord
    student_id: int | None
    new_index: int


@dataclass(slots=True)
class ChunkPlan:
    """What a chunk's rows do to the stored students."""

    new_records: list[StudentRecord] = field(default_factory=list)
    updates: list[StudentUpdate] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    placed: list[Placed] = field(default_factory=list)
    status: dict[int, str] = field(default_factory=dict)  # stored student id -> MOVED, ...

    def touch(self, student_id: int) -> None:
        """Something else of the student changed (a guardian): unchanged becomes updated."""
        if self.status[student_id] == UNCHANGED:
            self.status[student_id] = UPDATED


def load_students(
    bulk: Bulk, school_id: int, chunk: list[StudentRecord]
) -> dict[int, StoredStudent]:
    """The school's students that the chunk's IDs, certificates or name keys point at."""
    found: dict[int, StoredStudent] = {}
    seen_ids: set[str] = set()
    seen_certificates: set[str] = set()
    to_date = bulk.to_date
    c = STUDENTS.c
    columns = (c.id, c.external_id, c.certificate_fp, c.name_key, c.birth_date, c.class_id,
               c.active, c.surname, c.name, c.patronymic, c.snils_fp)  # fmt: skip

    def load(name: str, column: ColumnElement, values, *only: ColumnElement) -> None:
        query = select(*columns).where(c.school_id == bindparam("school"), *only)
        for row in bulk.select_in(name, query, column, values, school=school_id):
            (student_id, external_id, certificate_fp, key, birth_date, class_id, active,
             surname, name_, patronymic, snils_fp) = row  # fmt: skip
            seen_ids.add(external_id)
            seen_certificates.add(certificate_fp)
            if student_id not in found:
                found[student_id] = StoredStudent(
                    external_id, certificate_fp, key, to_date(birth_date), class_id,
                    bool(active), hash((surname, name_, patronymic)), hash(snils_fp),
                )  # fmt: skip

    # The matching order, so each student is fetched about once: ID, certificate, name.
    load(
        "students by id", c.external_id, {r.external_id for r in chunk if r.external_id is not None}
    )
    rest = [r for r in chunk if r.external_id not in seen_ids]
    load(
        "students by certificate",
        c.certificate_fp,
        {r.certificate_fp for r in rest if r.certificate_fp},
    )
    # A name match only counts if the ID and certificate do not say it is another child;
    # asking only for such rows keeps namesakes (common in big schools) out of the fetch.
    by_kind: dict[tuple[bool, bool], set[str]] = {}
    for r in rest:
        if r.certificate_fp not in seen_certificates:
            kind = (r.external_id is not None, r.certificate_fp is not None)
            by_kind.setdefault(kind, set()).add(r.key)
    for (has_id, has_certificate), keys in by_kind.items():
        only = ([c.external_id.is_(None)] if has_id else []) + (
            [c.certificate_fp.is_(None)] if has_certificate else []
        )
        load(f"students by name {has_id} {has_certificate}", c.name_key, keys, *only)
    return found


def plan_chunk(
    chunk: list[StudentRecord],
    existing: dict[int, StoredStudent],
    *,
    classes: dict[int, tuple[int, str]],
    school_year: int,
    rows: RowIndex,
    errors: list[Problem],
) -> ChunkPlan:
    """Match each row of the chunk to a stored student or a new one, and diff the stored."""
    by_id: dict[str, int] = {}
    by_certificate: dict[str, int] = {}
    by_name: dict[tuple[str, date], int] = {}
    for student_id, stored in existing.items():
        if stored.external_id is not None:
            by_id[stored.external_id] = student_id
        if stored.certificate_fp is not None:
            by_certificate.setdefault(stored.certificate_fp, student_id)
        by_name.setdefault((stored.key, stored.birth_date), student_id)
    plan = ChunkPlan()
    new_ids_here: set[str] = set()
    for record in chunk:
        student_id = None
        if record.external_id is not None:
            student_id = by_id.get(record.external_id)
        if student_id is None and record.certificate_fp is not None:
            student_id = by_certificate.get(record.certificate_fp)
            if student_id is not None:
                other = existing[student_id].external_id
                if other is not None and record.external_id and other != record.external_id:
                    errors.append(
                        Problem(
                            _("this birth certificate belongs to the student with ID {id}").format(
                                id=quoted(other)
                            ),
                            record.file, record.sheet, record.row, "ID", record.external_id,
                        )
                    )  # fmt: skip
                    continue
        if student_id is None:
            student_id = by_name.get((record.key, record.birth_date))
            if student_id is not None and _another_child(existing[student_id], record):
                student_id = None  # same name and birthday, but another child
        if student_id is None:
            if record.external_id is not None:
                if record.external_id in new_ids_here:
                    continue  # the same new ID twice in this chunk: reported at the end
                new_ids_here.add(record.external_id)
            plan.placed.append(Placed(record, None, len(plan.new_records)))
            plan.new_records.append(record)
            continue
        rows.matched(student_id, record)
        if student_id in plan.status:
            continue  # twice in this chunk: reported at the end, not written twice
        plan.placed.append(Placed(record, student_id, -1))
        _diff(plan, student_id, existing[student_id], record, classes, school_year)
    return plan


def _another_child(stored: StoredStudent, record: StudentRecord) -> bool:
    return bool(
        (stored.external_id is not None and record.external_id
         and stored.external_id != record.external_id)
        or (stored.certificate_fp is not None and record.certificate_fp
            and stored.certificate_fp != record.certificate_fp)
    )  # fmt: skip


def _diff(
    plan: ChunkPlan,
    student_id: int,
    stored: StoredStudent,
    record: StudentRecord,
    classes: dict[int, tuple[int, str]],
    school_year: int,
) -> None:
    changed = (
        stored.key != record.key
        or stored.birth_date != record.birth_date
        or not stored.active
        or stored.names_hash != hash((record.surname, record.name, record.patronymic))
        or (record.external_id is not None and stored.external_id != record.external_id)
        or (record.certificate_fp is not None and stored.certificate_fp != record.certificate_fp)
        or (record.snils_fp is not None and stored.snils_hash != hash(record.snils_fp))
    )
    moved = classes.get(stored.class_id) != (school_year, record.class_name)
    if moved:
        plan.moves.append(Move(student_id, record.class_name))
        plan.status[student_id] = MOVED
    else:
        plan.status[student_id] = UPDATED if changed else UNCHANGED
    if changed or moved:
        plan.updates.append(
            StudentUpdate(
                record.external_id or stored.external_id, record.surname, record.name,
                record.patronymic, record.key, record.birth_date,
                record.certificate_fp or stored.certificate_fp, record.snils_fp,
                record.class_name, student_id,
            )
        )  # fmt: skip
