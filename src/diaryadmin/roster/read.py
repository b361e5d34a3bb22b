"""Reading roster files into plain records: normalising, validating, every problem.

A roster file holds one row per student (with up to two guardians on the row, or mother and
father columns, maybe under group headings `Мать` / `Отец` / `Родители`) and, optionally, a
separate guardians sheet or file keyed by the student's ID. Which sheets, where the header is
and which rows are data is the one table policy (`io.table`); reading never touches the
database: it turns files into `StudentRecord`s and collects every error and warning with its
file, sheet, row and column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diaryadmin.errors import InputError, InvalidValue, Problem
from diaryadmin.io.cells import cell_text
from diaryadmin.io.headers import HeaderMap, normalise_header
from diaryadmin.io.reader import Row
from diaryadmin.io.table import Table, TableKind, read_tables
from diaryadmin.people.blanks import NONE_WORD_LENGTH, means_none
from diaryadmin.people.names import canonical_class
from diaryadmin.roster.columns import (
    GUARDIAN_SLOTS,
    GUARDIAN_TABLE_ALIASES,
    ROSTER_ALIASES,
    ROSTER_FIELDS,
    ROSTER_GROUPS,
    STUDENT_ALIASES,
)
from diaryadmin.roster.findings import RosterFindings
from diaryadmin.roster.normalise import GuardianRecord, Normaliser, StudentRecord
from diaryadmin.roster.oneroster import read_oneroster
from diaryadmin.schools import class_option

_GUARDIAN_PARTS = ("_full_name", "_relation", "_email", "_phone")
_GUARDIAN_FIELDS = frozenset(f"{s}{p}" for s in GUARDIAN_SLOTS for p in _GUARDIAN_PARTS)
# Header words that say a column is a parent's (checked on normalised headers).
_PARENT_WORDS = re.compile(
    r"\b(мать|матери|мам(а|ы|е|у|очк\w*|ин\w*)|отец|отца|отцу|пап(а|ы|е|у|очк\w*|ин\w*)"
    r"|родител\w*|представител\w*|опекун\w*|попечител\w*|mother\w*|father\w*|parent\w*"
    r"|guardian\w*)\b"
)
_CONTACT_WORDS = re.compile(r"\b(телефон\w*|тел|phone|mobile|e-?mail|почта|эл\w* почт\w*)\b")
_NAME_WORDS = re.compile(r"\b(фио|ф и о|фамилия|name)")


def _has_names(header: HeaderMap) -> bool:
    columns = header.columns
    return "full_name" in columns or ("surname" in columns and "name" in columns)


def _is_student_table(header: HeaderMap) -> bool:
    student_fields = [n for n in header.columns if n in STUDENT_ALIASES and n != "row_number"]
    return _has_names(header) or len(student_fields) >= 2


GUARDIANS = TableKind(
    name="guardians",
    record="a guardian",
    aliases=GUARDIAN_TABLE_ALIASES,
    expected="ID ученика, ФИО, Кем приходится, Телефон, E-mail",
    identifies=lambda header: {"student_id", "full_name"} <= header.columns.keys(),
)


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
    ) -> None:
        super().__init__(normaliser, class_name=class_name)
        self.sheet = sheet
        self.encoding = encoding
        self.delimiter = delimiter
        self.guardian_rows: list[tuple[Problem, str, GuardianRecord]] = []
        self.students = TableKind(
            name="roster",
            record="a student",
            aliases=ROSTER_ALIASES,
            expected="Фамилия, Имя, Дата рождения, Класс",
            identifies=_is_student_table,
            missing=self._missing,
            missing_message=self._missing_message,
            groups=ROSTER_GROUPS,
            ignored=frozenset({"row_number"}),
            skipped="no student names",
            none_found="no sheet has a roster header (Фамилия, Имя, Дата рождения...)",
        )

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
        if not self.count and not self.result.errors:
            for path in paths:
                self.result.errors.append(Problem("no students found under the header", str(path)))
        return self.result

    def read_file(self, path: Path, name: str) -> None:
        if path.is_dir() or path.suffix.lower() == ".zip":
            read_oneroster(path, self)
            return
        tables = read_tables(
            path,
            [self.students, GUARDIANS],
            self.problems,
            sheet=self.sheet,
            encoding=self.encoding,
            delimiter=self.delimiter,
        )
        for table in tables:
            if table.kind is GUARDIANS:
                self.read_guardian_table(table)
            else:
                self.read_students(table)

    # -- the header
    def _missing(self, header: HeaderMap) -> list[str]:
        columns = header.columns
        missing = []
        if not _has_names(header):
            missing.append("Фамилия, Имя (or ФИО)" if "surname" not in columns else "Имя")
        if "birth_date" not in columns:
            missing.append("Дата рождения")
        if (
            "class" not in columns
            and self.default_class is None
            and _class_of_sheet(header.row.sheet) is None
        ):
            missing.append("Класс (or --class)")
        return missing

    def _missing_message(self, header: HeaderMap, missing: list[str]) -> str:
        sheet_hint = header.row.sheet is not None and "Класс (or --class)" in missing
        return (
            "missing required column(s): " + ", ".join(missing)
            + "; found: " + ", ".join(header.labels.values())
            + ("; a sheet named like 5А also gives the class" if sheet_hint else "")
        )  # fmt: skip

    def _guardians_understood(self, table: Table) -> bool:
        """False, with an error, when columns look like a parent's but none was read as one:
        pupils are never imported without their parents for want of a column name. Contact
        columns (`Телефон`) that may be the pupil's own get a warning."""
        header = table.header
        if _GUARDIAN_FIELDS & header.columns.keys():
            return True
        used = set(header.columns.values())
        unknown = [
            label
            for position, value in enumerate(header.row.values)
            if position not in used and (label := cell_text(value)) is not None
        ]
        columns = header.columns
        if "full_name" in columns and "surname" in columns and "name" in columns:
            unknown.append(header.labels["full_name"])  # a parent's ФИО, read as nobody's
        above = [t for v in table.above.values if (t := cell_text(v))] if table.above else []
        named = [t for t in unknown if _PARENT_WORDS.search(normalise_header(t))]
        headings = [t for t in above if _PARENT_WORDS.search(normalise_header(t))]
        contacts = [t for t in unknown if _CONTACT_WORDS.search(normalise_header(t))]
        people = [t for t in unknown if _NAME_WORDS.search(normalise_header(t))]
        if named or (headings and (contacts or people)):
            shown = ", ".join(repr(t) for t in dict.fromkeys(headings + named + contacts + people))
            self.error(
                f"columns that look like a parent's ({shown}) but no guardian column was "
                "understood: name them ФИО матери, Телефон матери, E-mail матери (or Родитель 1, "
                "Телефон родителя 1...), or put a heading Мать, Отец or Родитель over "
                "ФИО | Телефон | E-mail",
                header.row, (named + contacts + people)[0],
            )  # fmt: skip
            return False
        if contacts:
            self.warning(
                "no guardian column found: this contact column is read as nobody's; if it is "
                "a parent's, name it Телефон родителя or E-mail родителя (or ФИО матери...)",
                header.row, contacts[0],
            )  # fmt: skip
        return True

    # -- student rows
    def read_students(self, table: Table) -> None:
        """Read the student rows of one table (and the guardians on them)."""
        header = table.header
        columns = header.columns
        if "full_name" in columns and "surname" in columns and "name" in columns:
            # Often a parent's ФИО under a group heading such as «Мать» in the row above.
            self.warning(
                "column ignored: the student's name is read from the columns "
                f"{header.labels['surname']!r} and {header.labels['name']!r}",
                header.row, header.labels["full_name"],
            )  # fmt: skip
        if not self._guardians_understood(table):
            return
        default_class = self.default_class
        if "class" not in columns and default_class is None:
            default_class = _class_of_sheet(header.row.sheet)
        elif default_class is not None:
            default_class = class_option(default_class)
        layout = _Layout.of(header, default_class)
        for row in table.rows:
            v = layout.cells(row)
            if v is not None:
                self._student(row, v, layout)

    def _student(self, row: Row, v: tuple, layout: _Layout) -> None:
        """One student row (`v`: its cells as the layout pads them): a record, or errors."""
        errors = self.result.errors
        before = len(errors)
        names = self._names(row, v, layout)
        labels = layout.labels
        birth_date = self.birth_date(row, labels.get("birth_date"), v[layout.birth_date])
        class_name = layout.default_class
        raw = v[layout.class_name]
        if raw is not None:
            class_name = self.checked(self.norm.class_name, "class", row, labels["class"], raw)
        elif class_name is None:
            self.error("the class is missing", row, labels.get("class"))
        raw_id = v[layout.external_id]
        external_id = None
        if raw_id is not None:
            label = labels["external_id"]
            external_id = self.checked(self.norm.student_id, "the ID", row, label, raw_id)
        certificate_fp, snils_fp = self._documents(row, v, layout)
        guardians = []
        for indexes, slot_labels, default in layout.slots:
            guardian = self._guardian(row, v, indexes, slot_labels, default)
            if guardian is not None:
                guardians.append(guardian)
        if len(errors) > before:
            return
        surname, name, patronymic, key = names
        self.emit(
            StudentRecord(
                row.file, row.sheet, row.number, external_id, surname, name, patronymic, key,
                birth_date, class_name, certificate_fp, snils_fp, guardians,
            )
        )  # fmt: skip

    def _names(self, row: Row, v: tuple, layout: _Layout) -> tuple:
        """(surname, name, patronymic, matching key) of a student row; errors if refused."""
        if layout.use_full_name:
            raw = v[layout.full_name]
            label = layout.labels["full_name"]
            if raw is None:
                self.error("the full name is missing", row, label)
                return None, None, None, ""
            try:
                surname, name, patronymic, changed, key = self.norm.full_name(raw)
            except InvalidValue as exc:
                self.error(f"the full name {exc}", row, label, raw)
                return None, None, None, ""
            if changed:
                self.lookalike(row, label, raw, surname, name, patronymic)
            return surname, name, patronymic, key
        found: dict[str, str | None] = {"surname": None, "name": None, "patronymic": None}
        key_parts: list[str] = []
        for field_name, i, label in layout.name_fields:
            part = self.name_part(row, field_name, label, v[i])
            if part is not None:
                found[field_name] = part[0]
                key_parts.append(part[1])
        return found["surname"], found["name"], found["patronymic"], " ".join(key_parts)

    def _documents(self, row: Row, v: tuple, layout: _Layout) -> tuple[str | None, str | None]:
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
            self.error(f"birth certificate: {exc}", row, label, shown)
        raw = v[layout.snils]
        if raw is not None:
            snils_fp = self.checked(self.norm.snils_fp, "SNILS", row, labels["snils"], raw)
        return certificate_fp, snils_fp

    def _guardian(self, row, v, indexes, labels, default) -> GuardianRecord | None:
        raw_name, raw_relation, raw_email, raw_phone = (
            v[indexes[0]], v[indexes[1]], v[indexes[2]], v[indexes[3]]
        )  # fmt: skip
        if raw_name is None:
            if raw_email is not None or raw_phone is not None:
                self.error("a guardian's e-mail or phone without a name", row, labels[0])
            return None
        return self.guardian_from_cells(
            row, raw_name, raw_relation, raw_email, raw_phone, labels, default_relation=default
        )

    # -- a guardians sheet or file
    def read_guardian_table(self, table: Table) -> None:
        header = table.header
        labels = header.labels
        for row in table.rows:
            student_id = cell_text(header.get(row, "student_id"))
            raw_name = header.get(row, "full_name")
            if student_id is None and raw_name is None:
                continue
            if student_id is None:
                self.error("the student's ID is missing", row, labels["student_id"])
                continue
            if raw_name is None:
                self.error("the guardian's name is missing", row, labels["full_name"])
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
                        f"no student with ID {student_id!r} in the roster",
                        where.file, where.sheet, where.row, where.column, student_id,
                    )
                )  # fmt: skip
            else:
                student.guardians.append(guardian)


@dataclass(slots=True)
class _Layout:
    """Where a student table's fields are, as indexes into its padded rows (an absent field
    points one past the last mapped column, which padding keeps None)."""

    labels: dict[str, str]
    default_class: str | None
    width: int
    absent: int
    mapped: list[int]
    optional: list[int]  # columns where offices write `-` or `нет` for "none"
    use_full_name: bool
    name_fields: list[tuple[str, int, str]]
    slots: list[tuple[tuple[int, ...], tuple[str | None, ...], str | None]]
    external_id: int
    full_name: int
    birth_date: int
    class_name: int
    certificate: int
    certificate_series: int
    certificate_number: int
    snils: int

    @classmethod
    def of(cls, header: HeaderMap, default_class: str | None) -> _Layout:
        columns, labels = header.columns, header.labels
        width = max(columns.values()) + 2
        absent = width - 1
        col = {name: columns.get(name, absent) for name in ROSTER_FIELDS}
        slots = []
        for slot in GUARDIAN_SLOTS:
            names = [f"{slot}{part}" for part in _GUARDIAN_PARTS]
            indexes = tuple(col[name] for name in names)
            if any(i != absent for i in indexes):
                default = slot if slot in ("mother", "father") else None
                slots.append((indexes, tuple(labels.get(name) for name in names), default))
        return cls(
            labels=labels,
            default_class=default_class,
            width=width,
            absent=absent,
            mapped=[i for name, i in columns.items() if name != "row_number"],
            optional=sorted(
                index
                for name, index in columns.items()
                if name in _OPTIONAL or name.endswith(_GUARDIAN_PARTS)
            ),  # fmt: skip
            use_full_name="full_name" in columns
            and not ("surname" in columns and "name" in columns),
            name_fields=[
                (name, col[name], labels[name])
                for name in ("surname", "name", "patronymic")
                if name in columns
            ],
            slots=slots,
            external_id=col["external_id"],
            full_name=col["full_name"],
            birth_date=col["birth_date"],
            class_name=col["class"],
            certificate=col["certificate"],
            certificate_series=col["certificate_series"],
            certificate_number=col["certificate_number"],
            snils=col["snils"],
        )

    def cells(self, row: Row) -> tuple | None:
        """The row's cells padded to the layout, `-`/`нет` in optional columns as None; None
        if nothing is left in the columns read."""
        v = row.values
        if len(v) < self.width:
            v = v + (None,) * (self.width - len(v))
        elif len(v) > self.absent:
            v = (*v[: self.absent], None)  # unknown columns on the right: keep `absent` empty
        for i in self.optional:
            x = v[i]
            if type(x) is str and len(x) <= NONE_WORD_LENGTH and means_none(x):
                v = (*v[:i], None, *v[i + 1 :])
        if all(v[i] is None for i in self.mapped):
            return None
        return v


_OPTIONAL = frozenset(
    {"patronymic", "certificate", "certificate_series", "certificate_number", "snils"}
)


def _unless_placeholder(value: Any) -> Any:
    return None if isinstance(value, str) and means_none(value) else value


def _class_of_sheet(sheet: str | None) -> str | None:
    """The class a sheet's name gives (`5А`, `5 «а»`, `5А класс`), None for other names."""
    if sheet is None:
        return None
    try:
        return canonical_class(sheet)
    except ValueError:
        return None
