"""Planning and writing a roster import: set-based, idempotent, all or nothing.

The plan compares the parsed records with the school's students, guardians and guardianships,
preloaded once into dicts; the writes are a handful of executemany statements. A record is the
same student as a database row by external id, else by birth-certificate fingerprint, else by
name key and birth date. Nothing is written when nothing differs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from .errors import InputError, Problem, Refused
from .models import Enrolment, Guardian, Guardianship, School, SchoolClass, Student
from .roster_read import GuardianRecord, ParsedRoster, StudentRecord
from .schools import get_or_create_class

CHUNK = 500  # ids per IN (...) list: well under SQLite's parameter limit
PRELOAD_BATCH = 5000  # rows fetched at a time when preloading the school
WRITE_BATCH = 5000  # rows per executemany, so the parameter tuples never all exist at once

STUDENTS = Student.__table__
GUARDIANS = Guardian.__table__
GUARDIANSHIPS = Guardianship.__table__
ENROLMENTS = Enrolment.__table__


@dataclass
class ImportReport:
    """What an import did (or, with dry_run, would do). Counts are disjoint per student:
    created, moved (class changed, maybe more), updated (other changes), unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    moved: int = 0
    deactivated: int = 0
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    guardians_created: int = 0
    to_deactivate: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable shape of `roster import --format json`."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "moved": self.moved,
            "deactivated": self.deactivated,
            "warnings": [p.to_dict() for p in self.warnings],
            "errors": [p.to_dict() for p in self.errors],
        }

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.moved or self.deactivated)


def _located(record: StudentRecord, message: str, column: str | None = None, value=None):
    return Problem(message, record.file, record.sheet, record.row, column, value)


def _full_name(surname: str, name: str, patronymic: str | None) -> str:
    return " ".join(p for p in (surname, name, patronymic) if p)


def find_duplicates(records: list[StudentRecord]) -> list[Problem]:
    """The same student twice in the files: same ID, same certificate, or same name and birth
    date (unless their IDs or certificates say they are different children)."""
    problems = []
    by_id: dict[str, StudentRecord] = {}
    by_certificate: dict[str, StudentRecord] = {}
    by_name: dict[tuple[str, date], StudentRecord] = {}
    for record in records:
        first = None
        if record.external_id is not None:
            first = by_id.setdefault(record.external_id, record)
            if first is not record:
                problems.append(
                    _located(record, f"the same ID as {first.where}", "ID", record.external_id)
                )
                continue
        if record.certificate_fp is not None:
            first = by_certificate.setdefault(record.certificate_fp, record)
            if first is not record:
                problems.append(
                    _located(record, f"the same birth certificate as {first.where}", None)
                )
                continue
        first = by_name.setdefault((record.key, record.birth_date), record)
        if first is not record:
            differ_by_id = (
                first.external_id and record.external_id and first.external_id != record.external_id
            )
            differ_by_certificate = (
                first.certificate_fp
                and record.certificate_fp
                and first.certificate_fp != record.certificate_fp
            )
            if not (differ_by_id or differ_by_certificate):
                name = _full_name(record.surname, record.name, record.patronymic)
                problems.append(
                    _located(
                        record,
                        f"the same student (name and birth date) as {first.where}",
                        None,
                        f"{name}, {record.birth_date:%d.%m.%Y}",
                    )
                )
    return problems


class _GuardianEntity:
    """One guardian as the import sees it: a database row (id set) or a new one."""

    __slots__ = (
        "id", "surname", "name", "patronymic", "key", "email", "phone", "dirty", "seen", "index",
    )  # fmt: skip

    def __init__(self, id_, surname, name, patronymic, key, email, phone) -> None:
        self.id = id_
        self.surname, self.name, self.patronymic = surname, name, patronymic
        self.key, self.email, self.phone = key, email, phone
        self.dirty = False
        self.seen = id_ is None  # described by a row of the files already
        self.index = -1  # position among new guardians


class _Guardians:
    """Shared guardians, matched by e-mail, else phone, else full name (when not contradicted)."""

    def __init__(self) -> None:
        self.by_email: dict[str, _GuardianEntity] = {}
        self.by_phone: dict[str, _GuardianEntity] = {}
        self.by_key: dict[str, Any] = {}  # an entity, or a list of namesakes
        self.new: list[_GuardianEntity] = []

    def add(self, entity: _GuardianEntity) -> None:
        if entity.email:
            self.by_email.setdefault(entity.email.casefold(), entity)
        if entity.phone:
            self.by_phone.setdefault(entity.phone, entity)
        self._index_key(entity)

    def _index_key(self, entity: _GuardianEntity) -> None:
        # One entity per key, a list only for the rare namesakes (saves memory at 100,000).
        found = self.by_key.setdefault(entity.key, entity)
        if found is not entity:
            if isinstance(found, list):
                found.append(entity)
            else:
                self.by_key[entity.key] = [found, entity]

    def resolve(self, g: GuardianRecord, warnings: list[Problem]) -> _GuardianEntity:
        entity = None
        if g.email:
            entity = self.by_email.get(g.email.casefold())
        if entity is None and g.phone:
            found = self.by_phone.get(g.phone)
            if found is not None and not (found.email and g.email):
                entity = found
        if entity is None:
            candidates = self.by_key.get(g.key)
            if candidates is None:
                candidates = ()
            elif not isinstance(candidates, list):
                candidates = (candidates,)
            for found in candidates:
                if (found.email and g.email) or (
                    found.phone and g.phone and found.phone != g.phone
                ):
                    continue
                entity = found
                break
        if entity is None:
            entity = _GuardianEntity(None, g.surname, g.name, g.patronymic, g.key, g.email, g.phone)
            entity.index = len(self.new)
            self.new.append(entity)
            self.add(entity)
            return entity
        if not entity.seen:
            # The first row naming a database guardian may correct the name and phone.
            entity.seen = True
            if entity.key != g.key:
                entity.surname, entity.name, entity.patronymic = g.surname, g.name, g.patronymic
                entity.key = g.key
                entity.dirty = True
                self._index_key(entity)
            if g.phone and entity.phone != g.phone:
                entity.phone = g.phone
                entity.dirty = True
                self.by_phone.setdefault(g.phone, entity)
        elif g.phone and entity.phone and entity.phone != g.phone:
            # Later rows never undo the first (that would flip on every re-import).
            warnings.append(
                Problem(
                    f"another phone for this guardian than in an earlier row ({entity.phone}); "
                    "the first is kept",
                    g.origin[0],
                    g.origin[1],
                    g.row,
                    value=g.phone,
                )
            )
        if g.email and not entity.email:
            entity.email = g.email
            entity.dirty = True
            self.by_email.setdefault(g.email.casefold(), entity)
        if g.phone and not entity.phone:
            entity.phone = g.phone
            entity.dirty = True
            self.by_phone.setdefault(g.phone, entity)
        return entity


def plan_and_write(
    session: Session,
    school: School | None,
    parsed: ParsedRoster,
    *,
    school_year: int,
    now: datetime,
    sync: bool = False,
    sync_class: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[list[dict[str, Any]]], bool] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Compare `parsed` with the school's data and write the difference (unless dry_run).

    Raises InputError (with the report as its result) for duplicates in the files or rows
    that contradict the database; Refused if `confirm` declines the deactivations.
    """
    report = ImportReport(warnings=parsed.warnings, dry_run=dry_run)
    records = parsed.students
    errors = find_duplicates(records)
    school_id = school.id if school is not None else None

    # Preload the school: classes, students, guardians and guardianships. Rows are streamed,
    # and what is kept is compact: repeated strings and dates shared, names only as a hash.
    classes: dict[int, tuple[int, str]] = {}
    year_classes: dict[str, int] = {}
    existing: dict[int, tuple] = {}
    by_id: dict[str, int] = {}
    by_certificate: dict[str, int] = {}
    by_name: dict[tuple[str, date], int] = {}
    guardians = _Guardians()
    guardian_rows: dict[int, _GuardianEntity] = {}
    links: dict[int, tuple[int, str]] = {}  # guardian id << 32 | student id -> (id, relation)
    shared: dict[Any, Any] = {}
    share = shared.setdefault
    connection = session.connection().execution_options(yield_per=PRELOAD_BATCH)
    if school_id is not None:
        for class_id, year, name in connection.execute(
            select(SchoolClass.id, SchoolClass.school_year, SchoolClass.name).where(
                SchoolClass.school_id == school_id
            )
        ):
            classes[class_id] = (year, name)
            if year == school_year:
                year_classes[name] = class_id
        columns = (
            Student.id, Student.external_id, Student.certificate_fp, Student.snils_fp,
            Student.name_key, Student.birth_date, Student.surname, Student.name,
            Student.patronymic, Student.class_id, Student.active,
        )  # fmt: skip
        for (student_id, external_id, certificate_fp, snils_fp, key, birth_date, surname, name,
             patronymic, class_id, active) in connection.execute(
            select(*columns).where(Student.school_id == school_id)
        ):  # fmt: skip
            birth_date = share(birth_date, birth_date)
            existing[student_id] = (
                external_id, certificate_fp, key, birth_date, class_id, active,
                hash((surname, name, patronymic)), hash(snils_fp),
            )  # fmt: skip
            if external_id is not None:
                by_id[external_id] = student_id
            if certificate_fp is not None:
                by_certificate.setdefault(certificate_fp, student_id)
            by_name.setdefault((key, birth_date), student_id)
        school_students = select(Student.id).where(Student.school_id == school_id)
        for g in connection.execute(
            select(
                Guardian.id, Guardian.surname, Guardian.name, Guardian.patronymic,
                Guardian.name_key, Guardian.email, Guardian.phone,
            ).where(
                Guardian.id.in_(
                    select(Guardianship.guardian_id).where(
                        Guardianship.student_id.in_(school_students)
                    )
                )
            ).order_by(Guardian.id)
        ):  # fmt: skip
            entity = _GuardianEntity(
                g[0], share(g[1], g[1]), share(g[2], g[2]), share(g[3], g[3]), g[4], g[5], g[6]
            )
            guardian_rows[entity.id] = entity
            guardians.add(entity)
        for link_id, guardian_id, student_id, relation in connection.execute(
            select(
                Guardianship.id, Guardianship.guardian_id, Guardianship.student_id,
                Guardianship.relation,
            ).where(Guardianship.student_id.in_(school_students))
        ):  # fmt: skip
            links[guardian_id << 32 | student_id] = (link_id, share(relation, relation))
    shared.clear()

    # Match every record and work out what changes.
    matched: dict[int, StudentRecord] = {}
    new_records: list[StudentRecord] = []
    updates: list[dict[str, Any]] = []
    moves: list[tuple[int, str]] = []  # (student id, class name)
    student_of: list[tuple[StudentRecord, int | None, int]] = []  # record, db id, new index
    tick = progress or (lambda _n: None)
    for n, record in enumerate(records, 1):
        if n % 1000 == 0:
            tick(1000)
        student_id = None
        if record.external_id is not None:
            student_id = by_id.get(record.external_id)
        if student_id is None and record.certificate_fp is not None:
            student_id = by_certificate.get(record.certificate_fp)
            if student_id is not None:
                other = existing[student_id][0]
                if other is not None and record.external_id and other != record.external_id:
                    errors.append(
                        _located(
                            record,
                            f"this birth certificate belongs to the student with ID {other!r}",
                            "ID",
                            record.external_id,
                        )  # fmt: skip
                    )
                    continue
        if student_id is None:
            student_id = by_name.get((record.key, record.birth_date))
            if student_id is not None:
                row = existing[student_id]
                if (row[0] is not None and record.external_id and row[0] != record.external_id) or (
                    row[1] is not None and record.certificate_fp and row[1] != record.certificate_fp
                ):
                    student_id = None  # same name and birthday, but another child
        if student_id is not None:
            first = matched.setdefault(student_id, record)
            if first is not record:
                errors.append(
                    _located(record, f"the same student in the database as {first.where}")
                )
                continue
        if errors:
            continue
        if student_id is None:
            student_of.append((record, None, len(new_records)))
            new_records.append(record)
            continue
        student_of.append((record, student_id, -1))
        (external_id, certificate_fp, key, birth_date, class_id, active, names_hash,
         snils_hash) = existing[student_id]  # fmt: skip
        changed = (
            key != record.key
            or birth_date != record.birth_date
            or not active
            or names_hash != hash((record.surname, record.name, record.patronymic))
            or (record.external_id is not None and external_id != record.external_id)
            or (record.certificate_fp is not None and certificate_fp != record.certificate_fp)
            or (record.snils_fp is not None and snils_hash != hash(record.snils_fp))
        )
        moved = classes.get(class_id) != (school_year, record.class_name)
        if moved:
            moves.append((student_id, record.class_name))
            report.moved += 1
        elif changed:
            report.updated += 1
        else:
            report.unchanged += 1
        if changed or moved:
            updates.append(
                {
                    "b_id": student_id,
                    "external_id": record.external_id or external_id,
                    "surname": record.surname,
                    "name": record.name,
                    "patronymic": record.patronymic,
                    "name_key": record.key,
                    "birth_date": record.birth_date,
                    "active": True,
                    "certificate_fp": record.certificate_fp or certificate_fp,
                    "snils_fp": record.snils_fp,  # None keeps the stored one (COALESCE)
                    "class_name": record.class_name,
                    "updated_at": now,
                }
            )
    if errors:
        report.errors = errors
        raise InputError(f"{len(errors)} problem(s) in the roster; nothing was imported",
                         errors, result=report.to_dict())  # fmt: skip
    report.created = len(new_records)

    # Guardians and guardianships.
    pending_links: list[tuple[_GuardianEntity, int | None, int, str]] = []
    relation_updates: list[dict[str, Any]] = []
    touched_students: set[int] = set()
    for record, student_id, new_index in student_of:
        seen: list[_GuardianEntity] = []  # the same guardian twice on one row (g1 and mother)
        for g in record.guardians:
            entity = guardians.resolve(g, report.warnings)
            if entity in seen:
                continue
            seen.append(entity)
            if entity.id is not None and student_id is not None:
                link = links.get(entity.id << 32 | student_id)
                if link is not None:
                    if link[1] != g.relation and link[1] != "trusted":
                        relation_updates.append({"b_id": link[0], "relation": g.relation})
                        touched_students.add(student_id)
                    continue
            pending_links.append((entity, student_id, new_index, g.relation))
            if student_id is not None:
                touched_students.add(student_id)
    dirty = [e for e in guardian_rows.values() if e.dirty]
    if dirty:
        dirty_ids = {e.id for e in dirty}
        touched_students.update(
            pair & 0xFFFFFFFF
            for pair in links
            if pair >> 32 in dirty_ids and pair & 0xFFFFFFFF in matched
        )
    updated_ids = {u["b_id"] for u in updates}
    moved_ids = {student_id for student_id, _ in moves}
    only_links = len(touched_students - updated_ids - moved_ids)
    report.unchanged -= only_links
    report.updated += only_links
    report.guardians_created = len(guardians.new)

    # Students missing from the files.
    if sync:
        missing = [
            student_id
            for student_id, row in existing.items()
            if row[5]
            and student_id not in matched
            and (sync_class is None or classes.get(row[4], (None, None))[1] == sync_class)
        ]
        for chunk in _chunks(missing):
            query = select(
                Student.id, Student.external_id, Student.surname, Student.name,
                Student.patronymic, Student.class_id,
            ).where(Student.id.in_(chunk))  # fmt: skip
            for student_id, external_id, surname, name, patronymic, class_id in session.execute(
                query
            ):
                report.to_deactivate.append(
                    {
                        "id": student_id,
                        "external_id": external_id,
                        "name": _full_name(surname, name, patronymic),
                        "class": classes.get(class_id, (None, None))[1],
                    }
                )
        report.to_deactivate.sort(key=lambda s: (s["class"] or "", s["name"], s["id"]))
        report.deactivated = len(report.to_deactivate)
    if dry_run:
        return report
    if report.to_deactivate and confirm is not None and not confirm(report.to_deactivate):
        raise Refused("Nothing was imported: the deactivations were not confirmed.")
    if not (report.changed or pending_links or relation_updates or dirty or guardians.new):
        return report

    # Write.
    today = now.date()
    if school is None:
        raise ValueError("a school is needed to write a roster")
    cache: dict = {}

    def class_id_of(name: str) -> int:
        found = year_classes.get(name)
        if found is None:
            found = get_or_create_class(session, school, name, school_year, cache).id
            year_classes[name] = found
        return found

    bulk = _Bulk(session)
    day, moment = bulk.day, bulk.moment
    stamp, today_value = moment(now), day(today)
    new_ids: list[int] = []
    if new_records:
        new_ids = allocate_ids(session, STUDENTS, len(new_records))
        class_ids = [class_id_of(r.class_name) for r in new_records]
        bulk.insert(
            STUDENTS,
            ("id", "school_id", "external_id", "surname", "name", "patronymic", "name_key",
             "birth_date", "class_id", "active", "certificate_fp", "snils_fp", "created_at",
             "updated_at"),
            (
                (i, school_id, r.external_id, r.surname, r.name, r.patronymic, r.key,
                 day(r.birth_date), c, True, r.certificate_fp, r.snils_fp, stamp, stamp)
                for i, r, c in zip(new_ids, new_records, class_ids, strict=True)
            ),
        )  # fmt: skip
        bulk.insert(
            ENROLMENTS,
            ("student_id", "class_id", "started_on"),
            ((i, c, today_value) for i, c in zip(new_ids, class_ids, strict=True)),
        )
    if updates:
        bulk.update(
            STUDENTS,
            ("external_id", "surname", "name", "patronymic", "name_key", "birth_date", "active",
             "certificate_fp", "snils_fp", "class_id", "updated_at"),
            (
                (u["external_id"], u["surname"], u["name"], u["patronymic"], u["name_key"],
                 day(u["birth_date"]), True, u["certificate_fp"], u["snils_fp"],
                 class_id_of(u["class_name"]), stamp, u["b_id"])
                for u in updates
            ),
            keep=("snils_fp",),
        )  # fmt: skip
    if moves:
        moved_list = [student_id for student_id, _ in moves]
        for chunk in _chunks(moved_list):
            session.execute(
                update(ENROLMENTS)
                .where(ENROLMENTS.c.student_id.in_(chunk), ENROLMENTS.c.ended_on.is_(None))
                .values(ended_on=today)
            )
        bulk.insert(
            ENROLMENTS,
            ("student_id", "class_id", "started_on"),
            [(student_id, class_id_of(name), today_value) for student_id, name in moves],
        )
    if guardians.new:
        ids = allocate_ids(session, GUARDIANS, len(guardians.new))
        for entity, new_id in zip(guardians.new, ids, strict=True):
            entity.id = new_id
        bulk.insert(
            GUARDIANS,
            ("id", "surname", "name", "patronymic", "name_key", "email", "phone", "created_at"),
            (
                (e.id, e.surname, e.name, e.patronymic, e.key, e.email, e.phone, stamp)
                for e in guardians.new
            ),
        )
    if dirty:
        bulk.update(
            GUARDIANS,
            ("surname", "name", "patronymic", "name_key", "email", "phone"),
            [(e.surname, e.name, e.patronymic, e.key, e.email, e.phone, e.id) for e in dirty],
        )
    if pending_links:
        bulk.insert(
            GUARDIANSHIPS,
            ("guardian_id", "student_id", "relation", "trusted", "active", "created_at"),
            (
                (entity.id, student_id if student_id is not None else new_ids[index], relation,
                 False, True, stamp)
                for entity, student_id, index, relation in pending_links
            ),
        )  # fmt: skip
    if relation_updates:
        bulk.update(
            GUARDIANSHIPS,
            ("relation",),
            [(u["relation"], u["b_id"]) for u in relation_updates],
        )
    if report.to_deactivate:
        for chunk in _chunks([s["id"] for s in report.to_deactivate]):
            session.execute(
                update(STUDENTS)
                .where(STUDENTS.c.id.in_(chunk))
                .values(active=False, updated_at=now)
            )
    return report


class _Bulk:
    """executemany straight through the driver: SQLAlchemy's per-row parameter processing
    would cost more than the database itself at 100,000 rows. Values must already be in the
    driver's form (`day`, `moment` give the SQLite text forms SQLAlchemy itself writes)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def moment(self, value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def insert(self, table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """Insert rows (tuples in `columns` order, or a generator of them) in batches."""
        marks = ", ".join([self.mark] * len(columns))
        self._run(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(
        self, table, columns: Sequence[str], rows: Iterable[tuple], keep: Sequence[str] = ()
    ) -> None:
        """Rows are the new values in `columns` order, then the id; a None for a column in
        `keep` leaves the stored value."""
        assignments = ", ".join(
            f"{c} = COALESCE({self.mark}, {c})" if c in keep else f"{c} = {self.mark}"
            for c in columns
        )
        sql = f"UPDATE {table.name} SET {assignments} WHERE id = {self.mark}"
        self._run(sql, rows)

    def _run(self, sql: str, rows: Iterable[tuple]) -> None:
        rows = iter(rows)
        while batch := list(itertools.islice(rows, WRITE_BATCH)):
            self.connection.exec_driver_sql(sql, batch)


def allocate_ids(session: Session, table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`: from its sequence on PostgreSQL; on SQLite
    after the largest id (safe: the import's transaction holds SQLite's write lock)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        )
        return sorted(session.scalars(query, {"table": table.name, "n": count}))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))


def _chunks(ids: Iterable[int], size: int = CHUNK):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
