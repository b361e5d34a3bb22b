"""Reading roster files into plain records: normalising, validating, every problem.

A roster file holds one row per student (with up to two guardians on the row, or mother and
father columns, maybe under group headings `Мать` / `Отец` / `Родители`) and, optionally, a
separate guardians sheet or file keyed by the student's ID. Which sheets, where the header is
and which rows are data is the one table policy (`io.table`); reading never touches the
database: it turns files into `StudentRecord`s and collects every error and warning with its
file, sheet, row and column. The kinds of table and the checks on a header are `roster.tables`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from diaryadmin.config import ReadLimits
from diaryadmin.errors import InputError, InvalidValue, Problem, quoted
from diaryadmin.i18n import N_, _
from diaryadmin.io.cells import cell_text
from diaryadmin.io.headers import HeaderMap
from diaryadmin.io.reader import Row
from diaryadmin.io.rejects import REASONS_FIELD, KnownRejects, Place, Rejected, with_reasons_column
from diaryadmin.io.table import Table, TableKind, read_tables
from diaryadmin.people.blanks import means_none
from diaryadmin.roster.columns import ROSTER_ALIASES, ROSTER_GROUPS
from diaryadmin.roster.findings import RosterFindings, name_problem
from diaryadmin.roster.layout import StudentLayout
from diaryadmin.roster.normalise import GuardianRecord, Normaliser, StudentRecord
from diaryadmin.roster.oneroster import read_oneroster
from diaryadmin.roster.tables import (
    GUARDIANS,
    class_of_sheet,
    guardians_understood,
    is_student_table,
    missing_columns,
    missing_message,
)
from diaryadmin.schools import class_option


class RosterReader(RosterFindings):
    """Reads roster files into a ParsedRoster; one instance per import."""

    def __init__(
        self,
        normaliser: Normaliser,
        *,
        sheet: str | None = None,
        class_name: str | None = None,
        encoding: str | None = None,
        delimiter: str | None = None,
        limits: ReadLimits | None = None,
    ) -> None:
        super().__init__(normaliser, class_name=class_name)
        self.sheet = sheet
        self.encoding = encoding
        self.delimiter = delimiter
        self.limits = limits
        self.guardian_rows: list[tuple[Problem, str, GuardianRecord]] = []
        # A partial import (--rejects): the tables read and the rows passed over, and the IDs
        # of the students refused (their guardians' rows go with them).
        self.rejected: Rejected | None = None
        self.skipped = 0
        self.refused_ids: dict[str, Place] = {}
        self.students = TableKind(
            name=N_("roster"),
            record=N_("a student"),
            aliases=with_reasons_column(ROSTER_ALIASES),
            expected="Фамилия, Имя, Дата рождения, Класс",
            identifies=is_student_table,
            missing=self._missing,
            missing_message=missing_message,
            groups=ROSTER_GROUPS,
            ignored=frozenset({"row_number", REASONS_FIELD}),
            skipped=N_("no student names"),
            none_found=N_("no sheet has a roster header (Фамилия, Имя, Дата рождения...)"),
        )

    def keep_rejects(self, rejected: Rejected) -> None:
        """Read for a partial import: note each table in `rejected`, pass over the rows it
        holds (their errors left out) and note the IDs of the students refused."""
        self.rejected = rejected
        self.result.errors = self.problems.errors = KnownRejects(rejected)

    # -- files
    def read(self, paths: Iterable[str | Path]):
        paths = list(paths)
        for path in paths:
            try:
                self.read_file(Path(path), str(path))
            except InputError as exc:
                self.result.errors.extend(exc.problems or [Problem(str(exc), file=str(path))])
        if self.sink is None:
            self._attach_guardians()
        if not self.count and not self.skipped and not self.result.errors:
            for path in paths:
                problem = Problem(_("no students found under the header"), str(path))
                self.result.errors.append(problem)
        return self.result

    def read_file(self, path: Path, name: str) -> None:
        self.norm = self.typed
        if path.is_dir() or path.suffix.lower() == ".zip":
            read_oneroster(path, self, self.limits)
            return
        tables = read_tables(
            path,
            [self.students, GUARDIANS],
            self.problems,
            sheet=self.sheet,
            encoding=self.encoding,
            delimiter=self.delimiter,
            limits=self.limits,
        )
        for table in tables:
            # A CSV or HTML table was decoded from bytes (no sheet): its names must be names.
            self.norm = self.decoded if table.sheet is None else self.typed
            if self.rejected is not None:
                self.rejected.table(table.header)
            if table.kind is GUARDIANS:
                self.read_guardian_table(table)
            else:
                self.read_students(table)

    # -- the header
    def _missing(self, header: HeaderMap) -> list[str]:
        return missing_columns(header, self.default_class)

    # -- student rows
    def read_students(self, table: Table) -> None:
        """Read the student rows of one table (and the guardians on them)."""
        header = table.header
        columns = header.columns
        if "full_name" in columns and "surname" in columns and "name" in columns:
            # Often a parent's ФИО under a group heading such as «Мать» in the row above.
            self.warning(
                _(
                    "column ignored: the student's name is read from the columns "
                    "{surname} and {name}"
                ).format(
                    surname=quoted(header.labels["surname"]), name=quoted(header.labels["name"])
                ),
                header.row, header.labels["full_name"],
            )  # fmt: skip
        if not guardians_understood(self, table):
            return
        default_class = self.default_class
        if "class" not in columns and default_class is None:
            default_class = class_of_sheet(header.row.sheet)
        elif default_class is not None:
            default_class = class_option(default_class)
        layout = StudentLayout.of(header, default_class)
        rejected = self.rejected
        for row in table.rows:
            v = layout.cells(row)
            if v is None:
                continue
            if rejected is not None and (row.file, row.sheet, row.number) in rejected:
                self.skipped += 1
                self._refused(row, v, layout)
                continue
            self._student(row, v, layout)

    def _refused(self, row: Row, v: tuple, layout: StudentLayout) -> None:
        """Note the ID of a student row refused (for its guardians' rows)."""
        external_id = cell_text(v[layout.external_id])
        if external_id is not None:
            self.refused_ids.setdefault(external_id, (row.file, row.sheet, row.number))

    def _student(self, row: Row, v: tuple, layout: StudentLayout) -> None:
        """One student row (`v`: its cells as the layout pads them): a record, or errors."""
        errors = self.result.errors
        before = len(errors)
        names = self._names(row, v, layout)
        labels = layout.labels
        birth_date = self.birth_date(row, labels.get("birth_date"), v[layout.birth_date])
        class_name = layout.default_class
        raw = v[layout.class_name]
        if raw is not None:
            class_name = self.checked(
                self.norm.class_name, N_("class: {problem}"), row, labels["class"], raw
            )
        elif class_name is None:
            self.error(_("the class is missing"), row, labels.get("class"))
        raw_id = v[layout.external_id]
        external_id = None
        if raw_id is not None:
            label = labels["external_id"]
            external_id = self.checked(
                self.norm.student_id, N_("the ID: {problem}"), row, label, raw_id
            )
        certificate_fp, snils_fp = self._documents(row, v, layout)
        guardians = []
        for indexes, slot_labels, default in layout.slots:
            guardian = self._guardian(row, v, indexes, slot_labels, default)
            if guardian is not None:
                guardians.append(guardian)
        if len(errors) > before:
            if self.rejected is not None:
                self._refused(row, v, layout)
            return
        surname, name, patronymic, key = names
        self.emit(
            StudentRecord(
                row.file, row.sheet, row.number, external_id, surname, name, patronymic, key,
                birth_date, class_name, certificate_fp, snils_fp, guardians,
            )
        )  # fmt: skip

    def _names(self, row: Row, v: tuple, layout: StudentLayout) -> tuple:
        """(surname, name, patronymic, matching key) of a student row; errors if refused."""
        if layout.use_full_name:
            raw = v[layout.full_name]
            label = layout.labels["full_name"]
            if raw is None:
                self.error(name_problem("full_name"), row, label)
                return None, None, None, ""
            try:
                surname, name, patronymic, changed, key = self.norm.full_name(raw)
            except InvalidValue as exc:
                self.error(name_problem("full_name", exc), row, label, raw)
                return None, None, None, ""
            if changed:
                self.lookalike(row, label, raw, surname, name, patronymic)
            return surname, name, patronymic, key
        found: dict[str, str | None] = {"surname": None, "name": None, "patronymic": None}
        key_parts: list[str] = []
        known = self.norm.known_name
        for field_name, i, label in layout.name_fields:
            raw = v[i]
            seen = known(raw) if raw is not None else None
            if seen is not None and not seen[2]:  # a word read before, without look-alikes
                found[field_name] = seen[0]
                key_parts.append(seen[1])
                continue
            part = self.name_part(row, field_name, label, raw)
            if part is not None:
                found[field_name] = part[0]
                key_parts.append(part[1])
        return found["surname"], found["name"], found["patronymic"], " ".join(key_parts)

    def _documents(
        self, row: Row, v: tuple, layout: StudentLayout
    ) -> tuple[str | None, str | None]:
        """Fingerprints of the birth certificate and SNILS of a row; errors if refused."""
        labels = layout.labels
        certificate, series, number = (
            v[layout.certificate], v[layout.certificate_series], v[layout.certificate_number]
        )  # fmt: skip
        certificate_fp = snils_fp = None
        try:
            if certificate is not None:
                certificate_fp = self.norm.certificate_fp(certificate)
            elif series is not None or number is not None:
                certificate_fp = self.norm.certificate_fp(series or "", number or "")
        except InvalidValue as exc:
            label = labels.get("certificate") or labels.get("certificate_series")
            shown = certificate if certificate is not None else series
            self.error(_("birth certificate: {problem}").format(problem=exc), row, label, shown)
        raw = v[layout.snils]
        if raw is not None:
            snils_fp = self.checked(
                self.norm.snils_fp, N_("SNILS: {problem}"), row, labels["snils"], raw
            )
        return certificate_fp, snils_fp

    def _guardian(self, row, v, indexes, labels, default) -> GuardianRecord | None:
        raw_name, raw_relation, raw_email, raw_phone = (
            v[indexes[0]], v[indexes[1]], v[indexes[2]], v[indexes[3]]
        )  # fmt: skip
        if raw_name is None:
            if raw_email is not None or raw_phone is not None:
                self.error(_("a guardian's e-mail or phone without a name"), row, labels[0])
            return None
        return self.guardian_from_cells(
            row, raw_name, raw_relation, raw_email, raw_phone, labels, default_relation=default
        )

    # -- a guardians sheet or file
    def read_guardian_table(self, table: Table) -> None:
        header = table.header
        labels = header.labels
        rejected = self.rejected
        for row in table.rows:
            if rejected is not None and (row.file, row.sheet, row.number) in rejected:
                self.skipped += 1
                continue
            student_id = cell_text(header.get(row, "student_id"))
            raw_name = header.get(row, "full_name")
            if student_id is None and raw_name is None:
                continue
            if student_id is None:
                self.error(_("the student's ID is missing"), row, labels["student_id"])
                continue
            if raw_name is None:
                self.error(name_problem("guardian"), row, labels["full_name"])
                continue
            guardian = self.guardian_from_cells(
                row, raw_name, _unless_placeholder(header.get(row, "relation")),
                _unless_placeholder(header.get(row, "email")),
                _unless_placeholder(header.get(row, "phone")),
                (labels["full_name"], labels.get("relation"), labels.get("email"),
                 labels.get("phone")),
            )  # fmt: skip
            if guardian is not None:
                problem = Problem(
                    "", row.file, row.sheet, row.number, labels["student_id"], student_id
                )
                self.guardian_rows.append((problem, student_id, guardian))

    def _attach_guardians(self) -> None:
        if not self.guardian_rows:
            return
        by_id = {s.external_id: s for s in self.result.students if s.external_id}
        for where, student_id, guardian in self.guardian_rows:
            student = by_id.get(student_id)
            if student is None:
                self.result.errors.append(
                    Problem(
                        _("no student with ID {id} in the roster").format(id=quoted(student_id)),
                        where.file, where.sheet, where.row, where.column, student_id,
                    )
                )  # fmt: skip
            else:
                student.guardians.append(guardian)


def _unless_placeholder(value: Any) -> Any:
    return None if isinstance(value, str) and means_none(value) else value
