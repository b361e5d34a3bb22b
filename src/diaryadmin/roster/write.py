"""Planning and writing a roster import: streamed in chunks, set-based, idempotent.

Records arrive one by one from the reader and are handled in chunks: each chunk loads the
school's students, guardians and guardianships it points at (a few IN queries), compares, and
writes the difference with executemany statements. A record is the same student as a database
row by external id, else by birth-certificate fingerprint, else by name key and birth date.
Nothing is written when nothing differs. All or nothing: after the first error nothing more is
written, and the caller rolls the transaction back.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from diaryadmin.errors import Problem, Refused
from diaryadmin.models import Enrolment, Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people.names import name_key
from diaryadmin.roster.bulk import Bulk, allocate_ids, chunks
from diaryadmin.roster.guardians import GuardianEntity, Guardians, Place, keys_of
from diaryadmin.roster.normalise import GuardianRecord, StudentRecord
from diaryadmin.schools import get_or_create_class

CHUNK_RECORDS = 2000  # student rows planned and written together
IN_BATCH = 4096  # values per IN (...) when loading what a chunk needs (a power of two)

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


def _hash(value: Any) -> int:
    """A non-zero hash of a value, 0 for None (the arrays' 'nothing')."""
    return 0 if value is None else (hash(value) or 1)


class RosterWriter:
    """Plans and writes streamed student records chunk by chunk, in the caller's transaction.

    What is kept across chunks is compact: the first row of each ID, certificate and name +
    birth date (as hashes, to find duplicates), the database students already matched, the
    guardians already described and the students counted unchanged. Each chunk loads only its
    own students, guardians and guardianships. Once any error is known (the reader's or ours)
    nothing more is written and the caller must roll back; a dry run never writes.
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
        self._origins: dict[tuple[str, str | None], int] = {}
        self._origin_list: list[tuple[str, str | None]] = []
        # One entry per row, in reading order (8 bytes each, not a dict entry each).
        self._ids = array("q")  # hash of the external id, 0 for none
        self._certificates = array("q")  # hash of the certificate fingerprint, 0 for none
        self._names = array("q")  # hash of name key and birth date
        self._places = array("q")  # file and sheet index << 32 | row
        self._id_texts: list[str | None] = []
        self._id_set: set[int] | None = None
        # Database students matched or created, with the row that did it.
        self._matched_ids = array("q")
        self._matched_places = array("q")
        self._unchanged = array("q")  # database students counted unchanged
        self.guardians_seen: dict[int, Place | None] = {}  # guardian id -> its first row
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
        self.connection = self.bulk.connection  # Core rows: no ORM work per row
        self.stamp = self.bulk.moment(now)
        self.today = self.bulk.day(now.date())

    @property
    def writing(self) -> bool:
        return not self.dry_run and not self.errors and self.school is not None

    # -- records in
    def add(self, record: StudentRecord) -> None:
        """Take one parsed student. Duplicates are looked for at the end, in compact arrays:
        any duplicate is an error, and the caller rolls back whatever was written."""
        self._ids.append(_hash(record.external_id))
        self._certificates.append(_hash(record.certificate_fp))
        self._names.append(_hash((record.key, record.birth_date)))
        self._places.append(self._locate(record))
        self._id_texts.append(record.external_id)
        self.pending.append(record)
        self.covered_classes.add(record.class_name)
        if len(self.pending) >= self.chunk_size:
            self.flush()

    def _find_duplicates(self) -> set[int]:
        """Errors for the same student twice in the files: same ID, same certificate, or same
        name and birth date (unless their IDs or certificates say they are different
        children); returns the places of the later rows."""
        found: list[tuple[int, Problem]] = []
        reported: set[int] = set()  # record ordinals
        places = self._places

        def groups(values: array, skip: set[int]):
            order = sorted((i for i in range(len(values)) if values[i]), key=values.__getitem__)
            for _, group in itertools.groupby(order, key=values.__getitem__):
                members = [i for i in group if i not in skip]
                if len(members) > 1:
                    yield members

        def problem(index: int, message: str, column=None, value=None) -> None:
            file, sheet = self._origin_list[places[index] >> 32]
            row = places[index] & 0xFFFFFFFF
            found.append((places[index], Problem(message, file, sheet, row, column, value)))
            reported.add(index)

        for first, *later in groups(self._ids, reported):
            for index in later:
                problem(index, f"the same ID as {self._where(places[first])}", "ID",
                        self._id_texts[index])  # fmt: skip
        for first, *later in groups(self._certificates, set(reported)):
            for index in later:
                problem(index, f"the same birth certificate as {self._where(places[first])}")
        ids, certificates = self._ids, self._certificates
        for first, *later in groups(self._names, set(reported)):
            for index in later:
                differ = (ids[first] and ids[index] and ids[first] != ids[index]) or (
                    certificates[first]
                    and certificates[index]
                    and certificates[first] != certificates[index]
                )
                if not differ:
                    problem(
                        index,
                        f"the same student (name and birth date) as {self._where(places[first])}",
                    )
        reported_places = {places[i] for i in reported}
        matched, matched_places = self._matched_ids, self._matched_places
        order = sorted(range(len(matched)), key=lambda i: (matched[i], matched_places[i]))
        for _, group in itertools.groupby(order, key=matched.__getitem__):
            members = [i for i in group if matched_places[i] not in reported_places]
            for index in members[1:]:
                place = matched_places[index]
                file, sheet = self._origin_list[place >> 32]
                message = (
                    f"the same student in the database as {self._where(matched_places[members[0]])}"
                )
                found.append((place, Problem(message, file, sheet, place & 0xFFFFFFFF)))
        found.sort(key=lambda item: item[0])
        self.errors.extend(problem for _, problem in found)
        return reported_places

    def _locate(self, record: StudentRecord) -> int:
        """A row's place as one int (file and sheet index << 32 | row): 100,000 of them
        cost far less than tuples."""
        key = (record.file, record.sheet)
        index = self._origins.get(key)
        if index is None:
            index = self._origins[key] = len(self._origin_list)
            self._origin_list.append(key)
        return index << 32 | record.row

    def _where(self, location: int) -> str:
        file, sheet = self._origin_list[location >> 32]
        row = location & 0xFFFFFFFF
        return f"{file}, sheet {sheet!r}, row {row}" if sheet else f"{file}, row {row}"

    def has_id(self, external_id: str) -> bool:
        """Whether a student row of the files had this ID."""
        if self._id_set is None:
            self._id_set = set(self._ids)
        return _hash(external_id) in self._id_set

    # -- loading what a chunk needs
    def _select_in(self, sql: str, values, *before: Any) -> Iterator[tuple]:
        """Rows of `sql` (ending in `IN (`) for `values`, IN_BATCH values at a time.

        Plain driver SQL: SQLAlchemy would compile every one of the thousands of IN values.
        Each list is padded (by repeating its last value) to a power of two, because the
        driver caches a prepared statement per distinct SQL text, and one per list length
        would hold tens of MB of big statements at 100,000 rows."""
        values = list(values)
        mark = self.bulk.mark
        for start in range(0, len(values), IN_BATCH):
            batch = values[start : start + IN_BATCH]
            size = max(16, 1 << (len(batch) - 1).bit_length())
            batch += [batch[-1]] * (size - len(batch))
            marks = ", ".join([mark] * size)
            yield from self.connection.exec_driver_sql(f"{sql}{marks})", (*before, *batch))

    def _load_students(self, chunk: list[StudentRecord]) -> dict[int, tuple]:
        """The school's students that the chunk's IDs, certificates or name keys point at."""
        if self.school_id is None:
            return {}
        found: dict[int, tuple] = {}
        seen_ids: set[str] = set()
        seen_certificates: set[str] = set()
        to_date = self.bulk.to_date

        def load(column: str, values, only: str = "") -> None:
            sql = (
                "SELECT id, external_id, certificate_fp, name_key, birth_date, class_id, active,"
                " surname, name, patronymic, snils_fp FROM students"
                f" WHERE school_id = {self.bulk.mark} AND {only}{column} IN ("
            )
            for row in self._select_in(sql, values, self.school_id):
                (student_id, external_id, certificate_fp, key, birth_date, class_id, active,
                 surname, name, patronymic, snils_fp) = row  # fmt: skip
                seen_ids.add(external_id)
                seen_certificates.add(certificate_fp)
                found.setdefault(
                    student_id,
                    (external_id, certificate_fp, key, to_date(birth_date), class_id,
                     bool(active), hash((surname, name, patronymic)), hash(snils_fp)),
                )  # fmt: skip

        # The matching order, so each student is fetched about once: ID, certificate, name.
        load("external_id", {r.external_id for r in chunk if r.external_id is not None})
        rest = [r for r in chunk if r.external_id not in seen_ids]
        load("certificate_fp", {r.certificate_fp for r in rest if r.certificate_fp})
        # A name match only counts if the ID and certificate do not say it is another child;
        # asking only for such rows keeps namesakes (common in big schools) out of the fetch.
        by_kind: dict[str, set[str]] = {}
        for r in rest:
            if r.certificate_fp not in seen_certificates:
                only = ("external_id IS NULL AND " if r.external_id is not None else "") + (
                    "certificate_fp IS NULL AND " if r.certificate_fp is not None else ""
                )
                by_kind.setdefault(only, set()).add(r.key)
        for only, keys in by_kind.items():
            load("name_key", keys, only)
        return found

    def _load_guardians(self, records: Iterable[GuardianRecord]) -> Guardians:
        """The school's guardians these guardians may be: by name (with and without a
        patronymic), and by e-mail or phone only for someone written without the patronymic
        the database has (contacts alone never make two people one)."""
        registry = Guardians()
        if self.school_id is None:
            return registry
        records = list(records)
        loaded: dict[int, tuple] = {}

        def load(column: str, values) -> Iterator[tuple]:
            sql = (
                "SELECT g.id, g.surname, g.name, g.patronymic, g.name_key, g.email, g.phone"
                " FROM guardians g WHERE EXISTS (SELECT 1 FROM guardianships gs"
                " JOIN students s ON s.id = gs.student_id"
                f" WHERE gs.guardian_id = g.id AND s.school_id = {self.bulk.mark})"
                f" AND g.{column} IN ("
            )
            return self._select_in(sql, values, self.school_id)

        for row in load("name_key", keys_of(records)):
            loaded.setdefault(row[0], tuple(row))
        short = {name_key(g.surname, g.name) for g in records if not g.patronymic}
        if short:
            contacts = (
                ("email", {e for g in records if g.email for e in (g.email, g.email.lower())}),
                ("phone", {g.phone for g in records if g.phone}),
            )
            for column, values in contacts:
                for row in load(column, values):
                    if row[0] not in loaded and name_key(row[1], row[2]) in short:
                        loaded[row[0]] = tuple(row)
        for row in sorted(loaded.values()):  # by id: the oldest record wins among namesakes
            entity = GuardianEntity(*row)
            if entity.id in self.guardians_seen:
                entity.seen = True
                entity.place = self.guardians_seen[entity.id]
            registry.add(entity)
            registry.loaded.append(entity)
        return registry

    def _load_links(self, student_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
        """Guardianships of these students: guardian id << 32 | student id -> (id, relation)."""
        sql = (
            "SELECT id, guardian_id, student_id, relation FROM guardianships WHERE student_id IN ("
        )
        return {
            guardian_id << 32 | student_id: (link_id, relation)
            for link_id, guardian_id, student_id, relation in self._select_in(sql, student_ids)
        }

    # -- one chunk
    def flush(self) -> None:
        """Plan (and unless refused or dry, write) the pending records."""
        chunk, self.pending = self.pending, []
        if not chunk:
            return
        self.tick(len(chunk))
        existing = self._load_students(chunk)
        by_id: dict[str, int] = {}
        by_certificate: dict[str, int] = {}
        by_name: dict[tuple[str, date], int] = {}
        for student_id, row in existing.items():
            if row[0] is not None:
                by_id[row[0]] = student_id
            if row[1] is not None:
                by_certificate.setdefault(row[1], student_id)
            by_name.setdefault((row[2], row[3]), student_id)
        report, errors = self.report, self.errors
        new_records: list[StudentRecord] = []
        updates: list[tuple] = []
        moves: list[tuple[int, str]] = []
        placed: list[tuple[StudentRecord, int | None, int]] = []  # record, db id, new index
        status: dict[int, str] = {}
        new_ids_here: set[str] = set()
        for record in chunk:
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
                            )
                        )
                        continue
            if student_id is None:
                student_id = by_name.get((record.key, record.birth_date))
                if student_id is not None:
                    row = existing[student_id]
                    if (
                        row[0] is not None and record.external_id and row[0] != record.external_id
                    ) or (
                        row[1] is not None
                        and record.certificate_fp
                        and row[1] != record.certificate_fp
                    ):
                        student_id = None  # same name and birthday, but another child
            if student_id is not None:
                self._matched_ids.append(student_id)
                self._matched_places.append(self._locate(record))
                if student_id in status:
                    continue  # twice in this chunk: reported at the end, not written twice
            elif record.external_id is not None:
                if record.external_id in new_ids_here:
                    continue  # the same new ID twice in this chunk: reported at the end
                new_ids_here.add(record.external_id)
            if student_id is None:
                placed.append((record, None, len(new_records)))
                new_records.append(record)
                continue
            placed.append((record, student_id, -1))
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
            moved = self.classes.get(class_id) != (self.school_year, record.class_name)
            if moved:
                moves.append((student_id, record.class_name))
                status[student_id] = "moved"
            else:
                status[student_id] = "updated" if changed else "unchanged"
            if changed or moved:
                updates.append(
                    (record.external_id or external_id, record.surname, record.name,
                     record.patronymic, record.key, record.birth_date, True,
                     record.certificate_fp or certificate_fp, record.snils_fp,
                     record.class_name, student_id)
                )  # fmt: skip

        # Guardians and guardianships of the chunk.
        registry = self._load_guardians(g for r in chunk for g in r.guardians)
        links = self._load_links(status)
        pending_links: list[tuple[GuardianEntity, int | None, int, str]] = []
        relation_updates: list[tuple[str, int]] = []
        for record, student_id, new_index in placed:
            seen: list[GuardianEntity] = []  # one guardian twice on a row (g1 and mother)
            for g in record.guardians:
                entity = registry.resolve(g, report.warnings)
                if entity in seen:
                    continue
                seen.append(entity)
                if student_id is None:
                    pending_links.append((entity, None, new_index, g.relation))
                    continue
                if entity.dirty and status[student_id] == "unchanged":
                    status[student_id] = "updated"
                if entity.id is not None:
                    link = links.get(entity.id << 32 | student_id)
                    if link is not None:
                        if link[1] != g.relation and link[1] != "trusted":
                            relation_updates.append((g.relation, link[0]))
                            if status[student_id] == "unchanged":
                                status[student_id] = "updated"
                        continue
                pending_links.append((entity, student_id, -1, g.relation))
                if status[student_id] == "unchanged":
                    status[student_id] = "updated"
        report.created += len(new_records)
        for student_id, state in status.items():
            if state == "unchanged":
                report.unchanged += 1
                self._unchanged.append(student_id)
            elif state == "moved":
                report.moved += 1
            else:
                report.updated += 1
        if not self.writing:
            self._remember(registry.loaded)
            return

        # Write the chunk.
        bulk, stamp, today = self.bulk, self.stamp, self.today
        day = bulk.day
        new_ids: list[int] = []
        if new_records:
            new_ids = allocate_ids(self.session, STUDENTS, len(new_records))
            class_ids = [self._class_id(r.class_name) for r in new_records]
            bulk.insert(
                STUDENTS,
                ("id", "school_id", "external_id", "surname", "name", "patronymic", "name_key",
                 "birth_date", "class_id", "active", "certificate_fp", "snils_fp", "created_at",
                 "updated_at"),
                (
                    (i, self.school_id, r.external_id, r.surname, r.name, r.patronymic, r.key,
                     day(r.birth_date), c, True, r.certificate_fp, r.snils_fp, stamp, stamp)
                    for i, r, c in zip(new_ids, new_records, class_ids, strict=True)
                ),
            )  # fmt: skip
            bulk.insert(
                ENROLMENTS,
                ("student_id", "class_id", "started_on"),
                ((i, c, today) for i, c in zip(new_ids, class_ids, strict=True)),
            )
            for new_id, record in zip(new_ids, new_records, strict=True):
                self._matched_ids.append(new_id)
                self._matched_places.append(self._locate(record))
        if updates:
            bulk.update(
                STUDENTS,
                ("external_id", "surname", "name", "patronymic", "name_key", "birth_date",
                 "active", "certificate_fp", "snils_fp", "class_id", "updated_at"),
                (
                    (*u[:5], day(u[5]), u[6], u[7], u[8], self._class_id(u[9]), stamp, u[10])
                    for u in updates
                ),
                keep=("snils_fp",),
            )  # fmt: skip
        if moves:
            for chunk_ids in chunks([student_id for student_id, _ in moves]):
                self.session.execute(
                    update(ENROLMENTS)
                    .where(ENROLMENTS.c.student_id.in_(chunk_ids), ENROLMENTS.c.ended_on.is_(None))
                    .values(ended_on=self.now.date())
                )
            bulk.insert(
                ENROLMENTS,
                ("student_id", "class_id", "started_on"),
                ((student_id, self._class_id(name), today) for student_id, name in moves),
            )
        self._write_guardians(registry, pending_links, relation_updates, new_ids)

    def _class_id(self, name: str) -> int:
        found = self.year_classes.get(name)
        if found is None:
            klass = get_or_create_class(
                self.session, self.school, name, self.school_year, self._class_cache
            )
            found = self.year_classes[name] = klass.id
            self.classes[found] = (self.school_year, name)
        return found

    def _write_guardians(self, registry, pending_links, relation_updates, new_ids) -> None:
        bulk, stamp = self.bulk, self.stamp
        if registry.new:
            ids = allocate_ids(self.session, GUARDIANS, len(registry.new))
            for entity, new_id in zip(registry.new, ids, strict=True):
                entity.id = new_id
            bulk.insert(
                GUARDIANS,
                ("id", "surname", "name", "patronymic", "name_key", "email", "phone",
                 "created_at"),
                (
                    (e.id, e.surname, e.name, e.patronymic, e.key, e.email, e.phone, stamp)
                    for e in registry.new
                ),
            )  # fmt: skip
            self.report.guardians_created += len(registry.new)
        dirty = [e for e in registry.loaded if e.dirty]
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
                    (entity.id, student_id if student_id is not None else new_ids[index],
                     relation, False, True, stamp)
                    for entity, student_id, index, relation in pending_links
                ),
            )  # fmt: skip
        if relation_updates:
            bulk.update(GUARDIANSHIPS, ("relation",), relation_updates)
        self._remember(registry.loaded)
        self._remember(registry.new)

    def _remember(self, entities: Iterable[GuardianEntity]) -> None:
        for e in entities:
            if e.seen and e.id is not None:
                self.guardians_seen.setdefault(e.id, e.place)

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
        self._find_duplicates()
        if guardian_rows:
            self._attach_guardian_rows(guardian_rows)
        if sync and not self.errors:
            self._plan_sync(sync_class)
        if self.errors or self.dry_run:
            return self.report
        if self.report.to_deactivate:
            if confirm is not None and not confirm(self.report.to_deactivate):
                raise Refused("Nothing was imported: the deactivations were not confirmed.")
            for chunk_ids in chunks([s["id"] for s in self.report.to_deactivate]):
                self.session.execute(
                    update(STUDENTS)
                    .where(STUDENTS.c.id.in_(chunk_ids))
                    .values(active=False, updated_at=self.now)
                )
        return self.report

    def _attach_guardian_rows(self, rows: list[tuple[Problem, str, GuardianRecord]]) -> None:
        """Guardians from a separate sheet or file, keyed by the student's ID."""
        for where, student_id, _ in rows:
            if not self.has_id(student_id):
                self.errors.append(
                    Problem(
                        f"no student with ID {student_id!r} in the roster",
                        where.file, where.sheet, where.row, where.column, student_id,
                    )
                )  # fmt: skip
        if self.errors or self.school_id is None:
            return
        sql = (
            f"SELECT id, external_id FROM students WHERE school_id = {self.bulk.mark}"
            " AND external_id IN ("
        )
        ids = {
            external_id: student_id
            for student_id, external_id in self._select_in(
                sql, {student_id for _, student_id, _ in rows}, self.school_id
            )
        }
        registry = self._load_guardians(g for _, _, g in rows)
        links = self._load_links(ids.values())
        unchanged = set(self._unchanged)
        pending_links, relation_updates, seen = [], [], set()
        for _, external_id, g in rows:
            entity = registry.resolve(g, self.report.warnings)
            student_id = ids.get(external_id)
            if student_id is None or (id(entity), student_id) in seen:
                continue  # a dry run's new student: nothing to link to yet
            seen.add((id(entity), student_id))
            changed = entity.dirty
            link = links.get(entity.id << 32 | student_id) if entity.id is not None else None
            if link is None:
                pending_links.append((entity, student_id, -1, g.relation))
                changed = True
            elif link[1] != g.relation and link[1] != "trusted":
                relation_updates.append((g.relation, link[0]))
                changed = True
            if changed and student_id in unchanged:
                unchanged.discard(student_id)
                self.report.unchanged -= 1
                self.report.updated += 1
        if self.writing:
            self._write_guardians(registry, pending_links, relation_updates, [])

    def _plan_sync(self, sync_class: str | None) -> None:
        """The school's active students in the classes the files cover (with `sync_class`,
        that class alone) that no row of the files named: a 5Б file leaves 5В alone."""
        if self.school_id is None:
            return
        covered = {sync_class} if sync_class is not None else self.covered_classes
        matched = set(self._matched_ids)
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
        for chunk_ids in chunks(missing):
            query = select(
                Student.id, Student.external_id, Student.surname, Student.name,
                Student.patronymic, Student.class_id,
            ).where(Student.id.in_(chunk_ids))  # fmt: skip
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
                        "name": _full_name(surname, name, patronymic),
                        "class": self.classes.get(class_id, (None, None))[1],
                    }
                )
        listed.sort(key=lambda s: (s["class"] or "", s["name"], s["id"]))
        self.report.deactivated = len(listed)
