"""Planning and writing a roster import: streamed in chunks, set-based, idempotent.

Records arrive one by one from the reader and are handled in chunks: each chunk loads the
school's students, guardians and guardianships it points at (a few IN queries), matches and
diffs them (`roster.match`, `roster.guardians`), and writes the difference with executemany
statements or PostgreSQL's COPY (`roster.bulk`). Nothing is written when nothing differs. All
or nothing: after the first error nothing more is written, and the caller rolls back.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from diaryadmin.db import chunked
from diaryadmin.errors import ImportOutcome, Problem, Refused, quoted
from diaryadmin.i18n import _
from diaryadmin.models import Enrolment, School, SchoolClass, Student
from diaryadmin.people.names import full_name
from diaryadmin.roster.bulk import Bulk, allocate_ids
from diaryadmin.roster.guardians import GuardianEntity, Guardians, SeenGuardians
from diaryadmin.roster.guardianships import (
    GuardianPlan,
    NewLink,
    load_guardians,
    load_links,
    write_guardians,
)
from diaryadmin.roster.match import UNCHANGED, ChunkPlan, load_students, plan_chunk
from diaryadmin.roster.normalise import GuardianRecord, StudentRecord
from diaryadmin.roster.rows import RowIndex
from diaryadmin.schools import get_or_create_class

CHUNK_RECORDS = 2000  # student rows planned and written together
IN_CHUNK = 500  # ids per IN (...) list of the few ORM-built statements

STUDENTS = Student.__table__
ENROLMENTS = Enrolment.__table__


@dataclass
class ImportReport(ImportOutcome):
    """What an import did (or, with dry_run, would do). Counts are disjoint per student:
    created, moved (class changed, maybe more), updated (other changes), unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    deactivated: int = 0
    guardians_created: int = 0
    to_deactivate: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Problem] | None = None  # a partial import's (--rejects) refused rows
    rejects_file: str | None = None  # where they were written (None on a dry run)

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable shape of `roster import --format json`."""
        data = {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "deactivated": self.deactivated,
            **self.problems_dict(),
        }
        if self.rejected is not None:  # a partial import: how many rows went where
            data.update(rejected=len(self.rejected), rejects_file=self.rejects_file)
            data["rejected_rows"] = [p.to_dict() for p in self.rejected]
        return data

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.moved or self.deactivated)


class RosterWriter:
    """Plans and writes streamed student records chunk by chunk, in the caller's transaction.

    What is kept across chunks is compact: the rows seen (`RowIndex`: to find duplicates and
    which stored students the files named), the guardians already described and the students
    counted unchanged. Each chunk loads only its own students, guardians and guardianships.
    Once any error is known (the reader's or ours) nothing more is written and the caller
    must roll back; a dry run never writes.
    """

    def __init__(
        self,
        session: Session,
        school: School | None,
        *,
        school_year: int,
        now: datetime,
        errors: list[Problem],
        warnings: list[Problem],
        dry_run: bool = False,
        chunk_size: int | None = None,
        tick: Callable[[int], None] | None = None,
    ) -> None:
        self.session = session
        self.school = school
        self.school_id = school.id if school is not None else None
        self.school_year = school_year
        self.now = now
        self.errors = errors
        self.report = ImportReport(warnings=warnings, errors=errors, dry_run=dry_run)
        self.dry_run = dry_run
        self.chunk_size = chunk_size or CHUNK_RECORDS
        self.tick = tick or (lambda _n: None)
        self.pending: list[StudentRecord] = []
        self.covered_classes: set[str] = set()  # the classes the files name: a sync's scope
        self.rows = RowIndex()
        self._unchanged = array("q")  # stored students counted unchanged
        self.guardians_seen = SeenGuardians()
        self.classes: dict[int, tuple[int, str]] = {}
        self.year_classes: dict[str, int] = {}
        self._class_cache: dict = {}
        if self.school_id is not None:
            for class_id, year, name in session.execute(
                select(SchoolClass.id, SchoolClass.school_year, SchoolClass.name).where(
                    SchoolClass.school_id == self.school_id
                )
            ):
                self.classes[class_id] = (year, name)
                if year == school_year:
                    self.year_classes[name] = class_id
        self.bulk = Bulk(session)
        self.stamp = self.bulk.moment(now)
        self.today = self.bulk.day(now.date())

    @property
    def writing(self) -> bool:
        return not self.dry_run and not self.errors and self.school is not None

    # -- records in
    def add(self, record: StudentRecord) -> None:
        """Take one parsed student. Duplicates are looked for at the end, in compact arrays:
        any duplicate is an error, and the caller rolls back whatever was written."""
        self.rows.add(record)
        self.pending.append(record)
        self.covered_classes.add(record.class_name)
        if len(self.pending) >= self.chunk_size:
            self.flush()

    def has_id(self, external_id: str) -> bool:
        """Whether a student row of the files had this ID."""
        return self.rows.has_id(external_id)

    # -- one chunk: match, diff, write
    def flush(self) -> None:
        """Plan (and unless refused or dry, write) the pending records."""
        chunk, self.pending = self.pending, []
        if not chunk:
            return
        self.tick(len(chunk))
        stored = load_students(self.bulk, self.school_id, chunk) if self.school_id else {}
        plan = plan_chunk(
            chunk,
            stored,
            classes=self.classes,
            school_year=self.school_year,
            rows=self.rows,
            errors=self.errors,
        )
        guardians = self._plan_guardians(plan)
        self._count(plan)
        if self.writing:
            new_ids = self._write_students(plan)
            self.report.guardians_created += write_guardians(
                self.session, self.bulk, guardians, new_ids, self.stamp
            )
            self.bulk.refresh_statistics()
        self._remember(guardians.registry)

    def _plan_guardians(self, plan: ChunkPlan) -> GuardianPlan:
        """Each row's guardians: who they are, and the links and relations to write."""
        result = GuardianPlan(
            self._load_guardians([g for p in plan.placed for g in p.record.guardians])
        )
        stored = load_links(self.bulk, plan.status)
        for record, student_id, new_index in plan.placed:
            seen: list[GuardianEntity] = []  # one guardian twice on a row (g1 and mother)
            for g in record.guardians:
                entity = result.registry.resolve(g, self.report.warnings)
                if entity in seen:
                    continue
                seen.append(entity)
                if student_id is None:
                    result.links.append(NewLink(entity, None, new_index, g.relation))
                    continue
                if entity.dirty:
                    plan.touch(student_id)
                if result.link(entity, student_id, g.relation, stored):
                    plan.touch(student_id)
        return result

    def _count(self, plan: ChunkPlan) -> None:
        report = self.report
        report.created += len(plan.new_records)
        for student_id, state in plan.status.items():
            if state == UNCHANGED:
                report.unchanged += 1
                self._unchanged.append(student_id)
            elif state == "moved":
                report.moved += 1
            else:
                report.updated += 1

    def _write_students(self, plan: ChunkPlan) -> list[int]:
        """Insert the new students, update the changed, move the moved; the new ids."""
        bulk, stamp, today, day = self.bulk, self.stamp, self.today, self.bulk.day
        new_ids: list[int] = []
        if plan.new_records:
            new_ids = allocate_ids(self.session, STUDENTS, len(plan.new_records))
            class_ids = [self._class_id(r.class_name) for r in plan.new_records]
            bulk.insert(
                STUDENTS,
                ("id", "school_id", "external_id", "surname", "name", "patronymic", "name_key",
                 "birth_date", "class_id", "active", "certificate_fp", "snils_fp", "created_at",
                 "updated_at"),
                (
                    (i, self.school_id, r.external_id, r.surname, r.name, r.patronymic, r.key,
                     day(r.birth_date), c, True, r.certificate_fp, r.snils_fp, stamp, stamp)
                    for i, r, c in zip(new_ids, plan.new_records, class_ids, strict=True)
                ),
            )  # fmt: skip
            bulk.insert(
                ENROLMENTS,
                ("student_id", "class_id", "started_on"),
                ((i, c, today) for i, c in zip(new_ids, class_ids, strict=True)),
            )
            for new_id, record in zip(new_ids, plan.new_records, strict=True):
                self.rows.matched(new_id, record)
        if plan.updates:
            bulk.update(
                STUDENTS,
                ("external_id", "surname", "name", "patronymic", "name_key", "birth_date",
                 "class_id", "active", "certificate_fp", "snils_fp", "updated_at"),
                (
                    (u.external_id, u.surname, u.name, u.patronymic, u.key, day(u.birth_date),
                     self._class_id(u.class_name), True, u.certificate_fp, u.snils_fp, stamp,
                     u.student_id)
                    for u in plan.updates
                ),
                keep=("snils_fp",),
            )  # fmt: skip
        if plan.moves:
            for ids in chunked([m.student_id for m in plan.moves], IN_CHUNK):
                self.session.execute(
                    update(ENROLMENTS)
                    .where(ENROLMENTS.c.student_id.in_(ids), ENROLMENTS.c.ended_on.is_(None))
                    .values(ended_on=self.now.date())
                )
            bulk.insert(
                ENROLMENTS,
                ("student_id", "class_id", "started_on"),
                ((m.student_id, self._class_id(m.class_name), today) for m in plan.moves),
            )
        return new_ids

    def _class_id(self, name: str) -> int:
        found = self.year_classes.get(name)
        if found is None:
            klass = get_or_create_class(
                self.session, self.school, name, self.school_year, self._class_cache
            )
            found = self.year_classes[name] = klass.id
            self.classes[found] = (self.school_year, name)
        return found

    # -- guardians
    def _load_guardians(self, records: list[GuardianRecord]) -> Guardians:
        return load_guardians(self.bulk, self.school_id, records, self.guardians_seen)

    def _remember(self, registry: Guardians) -> None:
        """The guardians rows of the files described, for later chunks (ids once written)."""
        for e in (*registry.loaded, *registry.new):
            if e.seen and e.id is not None:
                self.guardians_seen.add(e.id, e.place)

    # -- the end
    def finish(
        self,
        guardian_rows: list[tuple[Problem, str, GuardianRecord]] = (),
        *,
        sync: bool = False,
        sync_class: str | None = None,
        confirm: Callable[[list[dict[str, Any]]], bool] | None = None,
    ) -> ImportReport:
        """Write the last chunk, the guardians of a guardians sheet, and the sync."""
        self.flush()
        self.errors.extend(self.rows.duplicates())
        if guardian_rows:
            self._attach_guardian_rows(guardian_rows)
        if sync and not self.errors:
            self._plan_sync(sync_class)
        if self.errors or self.dry_run:
            return self.report
        if self.report.to_deactivate:
            if confirm is not None and not confirm(self.report.to_deactivate):
                raise Refused(_("Nothing was imported: the deactivations were not confirmed."))
            for ids in chunked([s["id"] for s in self.report.to_deactivate], IN_CHUNK):
                self.session.execute(
                    update(STUDENTS)
                    .where(STUDENTS.c.id.in_(ids))
                    .values(active=False, updated_at=self.now)
                )
        return self.report

    def _attach_guardian_rows(self, rows: list[tuple[Problem, str, GuardianRecord]]) -> None:
        """Guardians from a separate sheet or file, keyed by the student's ID."""
        for where, student_id, _guardian in rows:
            if not self.has_id(student_id):
                self.errors.append(
                    Problem(
                        _("no student with ID {id} in the roster").format(id=quoted(student_id)),
                        where.file, where.sheet, where.row, where.column, student_id,
                    )
                )  # fmt: skip
        if self.errors or self.school_id is None:
            return
        c = STUDENTS.c
        query = select(c.id, c.external_id).where(c.school_id == bindparam("school"))
        ids = {
            external_id: student_id
            for student_id, external_id in self.bulk.select_in(
                "students by id only",
                query,
                c.external_id,
                {student_id for _, student_id, _ in rows},
                school=self.school_id,
            )
        }
        plan = GuardianPlan(self._load_guardians([g for _, _, g in rows]))
        stored = load_links(self.bulk, ids.values())
        unchanged = set(self._unchanged)
        seen = set()
        for _where, external_id, g in rows:
            entity = plan.registry.resolve(g, self.report.warnings)
            student_id = ids.get(external_id)
            if student_id is None or (id(entity), student_id) in seen:
                continue  # a dry run's new student: nothing to link to yet
            seen.add((id(entity), student_id))
            changed = plan.link(entity, student_id, g.relation, stored) or entity.dirty
            if changed and student_id in unchanged:
                unchanged.discard(student_id)
                self.report.unchanged -= 1
                self.report.updated += 1
        if self.writing:
            self.report.guardians_created += write_guardians(
                self.session, self.bulk, plan, [], self.stamp
            )
        self._remember(plan.registry)

    def _plan_sync(self, sync_class: str | None) -> None:
        """The school's active students in the classes the files cover (with `sync_class`,
        that class alone) that no row of the files named: a 5Б file leaves 5В alone."""
        if self.school_id is None:
            return
        covered = {sync_class} if sync_class is not None else self.covered_classes
        matched = self.rows.matched_ids()
        missing = [
            student_id
            for student_id, class_id in self.session.execute(
                select(Student.id, Student.class_id).where(
                    Student.school_id == self.school_id, Student.active.is_(True)
                )
            )
            if student_id not in matched and self.classes.get(class_id, (None, None))[1] in covered
        ]
        listed = self.report.to_deactivate
        for ids in chunked(missing, IN_CHUNK):
            query = select(
                Student.id, Student.external_id, Student.surname, Student.name,
                Student.patronymic, Student.class_id,
            ).where(Student.id.in_(ids))  # fmt: skip
            for (
                student_id,
                external_id,
                surname,
                name,
                patronymic,
                class_id,
            ) in self.session.execute(query):
                listed.append(
                    {
                        "id": student_id,
                        "external_id": external_id,
                        "name": full_name(surname, name, patronymic),
                        "class": self.classes.get(class_id, (None, None))[1],
                    }
                )
        listed.sort(key=lambda s: (s["class"] or "", s["name"], s["id"]))
        self.report.deactivated = len(listed)
