"""Reading roster files into plain records: headers, normalising, validating, every problem.

A roster file holds one row per student (with up to two guardians on the row, or mother and
father columns) and, optionally, a separate guardians sheet or file keyed by the student's ID.
Reading never touches the database: it turns files into `StudentRecord`s and collects every
error and warning with its file, sheet, row and column.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from diaryadmin.errors import InputError, Problem
from diaryadmin.io import Row, find_header, iter_rows, sheet_names
from diaryadmin.io.cells import cell_text
from diaryadmin.io.workbook import formula_cells, hidden_sheets
from diaryadmin.people.blanks import NONE_WORD_LENGTH, means_none
from diaryadmin.people.names import (
    canonical_class,
)
from diaryadmin.people.relations import parent_relation, relation_of, split_relation
from diaryadmin.roster.columns import (
    GUARDIAN_SLOTS,
    GUARDIAN_TABLE_ALIASES,
    ROSTER_ALIASES,
    ROSTER_FIELDS,
)
from diaryadmin.roster.normalise import (
    GuardianRecord,
    Normaliser,
    ParsedRoster,
    StudentRecord,
    _Invalid,
)
from diaryadmin.schools import class_option

HEADER_SCAN = 15


class RosterReader:
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
        self.norm = normaliser
        self.sheet = sheet
        self.default_class = class_name
        self.encoding = encoding
        self.delimiter = delimiter
        self.result = ParsedRoster()
        self.guardian_rows: list[tuple[Problem, str, GuardianRecord]] = []
        self.sink: Callable[[StudentRecord], None] | None = None
        self.count = 0
        self._origins: dict[tuple, tuple] = {}
        self._last_origin: tuple = (None, None)

    def emit(self, record: StudentRecord) -> None:
        """Hand a parsed student on: to the sink (an import streaming into the database),
        else into the result."""
        self.count += 1
        if self.sink is None:
            self.result.students.append(record)
        else:
            self.sink(record)

    # -- problems
    def error(self, message: str, row: Row | None, column: str | None = None, value=None):
        self.result.errors.append(_problem(message, row, column, value))

    def warning(self, message: str, row: Row | None, column: str | None = None, value=None):
        self.result.warnings.append(_problem(message, row, column, value))

    # -- files
    def read(self, paths: Iterable[str | Path]) -> ParsedRoster:
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
            from diaryadmin.roster.oneroster import read_oneroster

            read_oneroster(path, self)
            return
        names = sheet_names(path)
        if self.sheet is not None and names:
            names = [self.sheet]  # iter_rows says so when the sheet does not exist
        elif len(names) > 1 and (hidden := hidden_sheets(path) & set(names)):
            # Offices hide last year's lists rather than delete them: never import unseen rows.
            for sheet in (n for n in names if n in hidden):
                if _looks_like_a_table(iter_rows(path, sheet=sheet)):
                    self.result.warnings.append(
                        Problem("hidden sheet skipped; use --sheet to import it", name, sheet)
                    )
            names = [n for n in names if n not in hidden]
        formulas = formula_cells(path)
        if not names:
            self.read_table(iter_rows(path, encoding=self.encoding, delimiter=self.delimiter))
            return
        found_any = False
        for sheet in names:
            rows = iter_rows(path, sheet=sheet)
            found_any |= self.read_table(rows, formulas.get(sheet), several=len(names) > 1)
        if not found_any:
            self.error("no sheet has a roster header (Фамилия, Имя, Дата рождения...)", None)
            self.result.errors[-1] = Problem(self.result.errors[-1].message, file=name)

    def read_table(
        self, rows: Iterator[Row], formulas: set | None = None, several: bool = False
    ) -> bool:
        """Read one sheet (or CSV); False if it has no recognisable header and `several`."""
        head = list(itertools.islice(rows, HEADER_SCAN))
        if not head:
            return False
        try:
            header, rest = find_header(iter(head), ROSTER_ALIASES, scan=HEADER_SCAN)
        except InputError:
            header = None
        columns = header.columns if header else {}
        has_names = "full_name" in columns or ("surname" in columns and "name" in columns)
        if not has_names or "birth_date" not in columns:
            guardians = _try_header(head, GUARDIAN_TABLE_ALIASES)
            if guardians and {"student_id", "full_name"} <= guardians.columns.keys():
                _, rest = find_header(iter(head), GUARDIAN_TABLE_ALIASES, scan=HEADER_SCAN)
                self.read_guardian_table(guardians, itertools.chain(rest, rows), formulas)
                return True
            if several and (header is None or len(columns) < 2):
                return False
        if header is None:
            first = head[0]
            problem = Problem(
                f"no header row found in the first {HEADER_SCAN} rows; expected columns "
                "Фамилия, Имя, Дата рождения, Класс",
                file=first.file,
                sheet=first.sheet,
            )
            self.result.errors.append(problem)
            return True
        missing = []
        if not has_names:
            missing.append("Фамилия, Имя (or ФИО)" if "surname" not in columns else "Имя")
        if "birth_date" not in columns:
            missing.append("Дата рождения")
        sheet_class = None
        if "class" not in columns and self.default_class is None:
            sheet_class = _class_of_sheet(header.row.sheet)
            if sheet_class is None:
                missing.append("Класс (or --class)")
        sheet_hint = header.row.sheet is not None and "Класс (or --class)" in missing
        if missing:
            self.error(
                "missing required column(s): " + ", ".join(missing)
                + "; found: " + ", ".join(header.labels.values())
                + ("; a sheet named like 5А also gives the class" if sheet_hint else ""),
                header.row,
            )  # fmt: skip
            return True
        for label in header.unknown:
            self.warning("unknown column, ignored", header.row, label)
        if "full_name" in columns and "surname" in columns and "name" in columns:
            # Often a parent's ФИО under a group heading such as «Мать» in the row above.
            self.warning(
                "column ignored: the student's name is read from the columns "
                f"{header.labels['surname']!r} and {header.labels['name']!r}",
                header.row, header.labels["full_name"],
            )  # fmt: skip
        self.read_students(
            header, itertools.chain(rest, rows), formulas or set(), sheet_class=sheet_class
        )
        return True

    # -- student rows
    def read_students(
        self, header, rows: Iterable[Row], formulas: set, sheet_class: str | None = None
    ) -> None:
        """`sheet_class`: the class of a sheet without a class column, from its name."""
        labels = header.labels
        norm = self.norm
        emit = self.emit
        errors = self.result.errors
        default_class = sheet_class if sheet_class is not None else class_option(self.default_class)
        # Absent fields point one past the last mapped column, which padding keeps None.
        width = max(header.columns.values()) + 2
        absent = width - 1
        col = {name: header.columns.get(name, absent) for name in ROSTER_FIELDS}
        i_id, i_full, i_birth, i_class = (
            col["external_id"], col["full_name"], col["birth_date"], col["class"]
        )  # fmt: skip
        i_cert, i_series, i_number, i_snils = (
            col["certificate"], col["certificate_series"], col["certificate_number"],
            col["snils"],
        )  # fmt: skip
        use_full_name = "full_name" in header.columns and not (
            "surname" in header.columns and "name" in header.columns
        )
        name_fields = [
            (field_name, col[field_name], labels.get(field_name))
            for field_name in ("surname", "name", "patronymic")
            if field_name in header.columns
        ]
        slots = []
        for slot in GUARDIAN_SLOTS:
            indexes = tuple(col[f"{slot}_{part}"] for part in ("full_name", "relation", "email",
                                                                "phone"))  # fmt: skip
            if any(i != absent for i in indexes):
                slot_labels = tuple(
                    labels.get(f"{slot}_{part}") for part in ("full_name", "relation", "email",
                                                              "phone")
                )  # fmt: skip
                default = slot if slot in ("mother", "father") else None
                slots.append((indexes, slot_labels, default))
        formula_rows = {number for number, _ in formulas}
        mapped = [i for i in set(header.columns.values())]
        padding = (None,) * width
        # Columns that may be empty, where offices write `-` or `нет` for "none".
        optional = sorted(
            index for field_name, index in header.columns.items()
            if field_name in _OPTIONAL or field_name.endswith(_GUARDIAN_PARTS)
        )  # fmt: skip
        for row in rows:
            v = row.values
            if len(v) < width:
                v = v + padding[len(v) :]
            elif len(v) > absent:
                v = (*v[:absent], None)  # unknown columns on the right: keep `absent` empty
            for i in optional:
                x = v[i]
                if type(x) is str and len(x) <= NONE_WORD_LENGTH and means_none(x):
                    v = (*v[:i], None, *v[i + 1 :])
            if formula_rows and row.number in formula_rows:
                for c in sorted(c for n, c in formulas if n == row.number):
                    self.error(
                        "a formula, not a value: type the value itself", row,
                        _label_of(header, c),
                    )  # fmt: skip
                continue
            if all(v[i] is None for i in mapped):
                continue
            problems_before = len(errors)
            surname = name = patronymic = None
            key_parts: list[str] = []
            if use_full_name:
                raw = v[i_full]
                try:
                    if raw is None:
                        raise _Invalid("is missing")
                    surname, name, patronymic, changed, key = norm.full_name(raw)
                    key_parts = [key]
                    if changed:
                        self._lookalike(row, labels["full_name"], raw, surname, name, patronymic)
                except _Invalid as exc:
                    self.error(f"the full name {exc}", row, labels["full_name"], raw)
            else:
                for field_name, i, label in name_fields:
                    raw = v[i]
                    if raw is None:
                        if field_name != "patronymic":
                            self.error(f"the {field_name} is missing", row, label)
                        continue
                    try:
                        text, folded, changed = norm.name(raw)
                    except _Invalid as exc:
                        self.error(f"the {field_name} {exc}", row, label, raw)
                        continue
                    if changed:
                        self._lookalike(row, label, raw, text)
                    key_parts.append(folded)
                    if field_name == "surname":
                        surname = text
                    elif field_name == "name":
                        name = text
                    else:
                        patronymic = text
            birth_date = None
            raw = v[i_birth]
            if raw is None:
                self.error("the birth date is missing", row, labels["birth_date"])
            else:
                try:
                    birth_date = norm.birth_date(raw)
                except _Invalid as exc:
                    self.error(f"birth date: {exc}", row, labels["birth_date"], raw)
            class_name = default_class
            raw = v[i_class]
            if raw is not None:
                try:
                    class_name = norm.class_name(raw)
                except _Invalid as exc:
                    self.error(f"class: {exc}", row, labels["class"], raw)
            elif class_name is None:
                self.error("the class is missing", row, labels.get("class"))
            external_id = cell_text(v[i_id])
            if external_id is not None and len(external_id) > 64:
                self.error("the ID is longer than 64 characters", row, labels["external_id"])
            certificate_fp = None
            try:
                if v[i_cert] is not None:
                    certificate_fp = norm.certificate_fp(v[i_cert])
                elif v[i_series] is not None or v[i_number] is not None:
                    certificate_fp = norm.certificate_fp(v[i_series] or "", v[i_number] or "")
            except _Invalid as exc:
                label = labels.get("certificate") or labels.get("certificate_series")
                shown = v[i_cert] if v[i_cert] is not None else v[i_series]
                self.error(f"birth certificate: {exc}", row, label, shown)
            snils_fp = None
            if v[i_snils] is not None:
                try:
                    snils_fp = norm.snils_fp(v[i_snils])
                except _Invalid as exc:
                    self.error(f"SNILS: {exc}", row, labels["snils"], v[i_snils])
            guardians = []
            for indexes, slot_labels, default in slots:
                guardian = self._guardian(row, v, indexes, slot_labels, default)
                if guardian is not None:
                    guardians.append(guardian)
            if len(errors) > problems_before:
                continue
            emit(
                StudentRecord(
                    row.file, row.sheet, row.number, external_id, surname, name, patronymic,
                    " ".join(key_parts), birth_date, class_name, certificate_fp, snils_fp,
                    guardians,
                )
            )  # fmt: skip

    def _lookalike(self, row: Row, column: str, raw: Any, *parts: str | None) -> None:
        fixed = " ".join(p for p in parts if p)
        self.warning(f"Latin look-alike letters replaced by Cyrillic: {fixed!r}", row, column, raw)

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

    def guardian_from_cells(
        self, row, raw_name, raw_relation, raw_email, raw_phone, labels, default_relation=None
    ) -> GuardianRecord | None:
        label_name, label_relation, label_email, label_phone = labels
        ok = True
        name_cell, written_relation = raw_name, None
        if isinstance(raw_name, str):
            name_cell, written_relation = split_relation(raw_name)
        try:
            surname, name, patronymic, changed, key = self.norm.full_name(name_cell)
        except _Invalid as exc:
            self.error(f"guardian's full name {exc}", row, label_name, raw_name)
            return None
        if changed:
            self._lookalike(row, label_name, raw_name, surname, name, patronymic)
        relation = relation_of(written_relation, patronymic) or default_relation
        if raw_relation is not None:
            text = cell_text(raw_relation)
            relation = relation_of(text, patronymic)
            if relation is None:
                relation = "guardian"
                self.warning(
                    "unknown relation, taken as guardian (use мать, отец or опекун)",
                    row, label_relation, raw_relation,
                )  # fmt: skip
        if relation is None:
            relation = parent_relation(patronymic)
        email = phone = None
        if raw_email is not None:
            try:
                email = self.norm.email(raw_email)
            except _Invalid as exc:
                self.error(f"guardian's e-mail: {exc}", row, label_email, raw_email)
                ok = False
        if raw_phone is not None:
            try:
                phone = self.norm.phone(raw_phone)
            except _Invalid as exc:
                self.error(f"guardian's phone: {exc}", row, label_phone, raw_phone)
                ok = False
        if not ok:
            return None
        return GuardianRecord(
            surname, name, patronymic, key, relation, email, phone,
            self._origin(row),
            row.number,
        )  # fmt: skip

    def _origin(self, row: Row) -> tuple[str, str | None]:
        """One shared (file, sheet) tuple per sheet, for the records' places."""
        if self._last_origin[0] is not row.file or self._last_origin[1] is not row.sheet:
            key = (row.file, row.sheet)
            self._last_origin = self._origins.setdefault(key, key)
        return self._last_origin

    # -- a guardians sheet or file
    def read_guardian_table(self, header, rows: Iterable[Row], formulas) -> None:
        labels = header.labels
        for label in header.unknown:
            self.warning("unknown column, ignored", header.row, label)
        for row in rows:
            if formulas and any(n == row.number for n, _ in formulas):
                for _, c in sorted(x for x in formulas if x[0] == row.number):
                    self.error("a formula, not a value: type the value itself", row,
                               _label_of(header, c))  # fmt: skip
                continue
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
                problem = _problem("", row, labels["student_id"], student_id)
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


_OPTIONAL = frozenset(
    {"patronymic", "certificate", "certificate_series", "certificate_number", "snils"}
)
_GUARDIAN_PARTS = ("_full_name", "_relation", "_email", "_phone")


def _looks_like_a_table(rows: Iterator[Row]) -> bool:
    """Whether a sheet has a roster or guardians header (a skipped one is worth a warning)."""
    head = list(itertools.islice(rows, HEADER_SCAN))
    for aliases in (ROSTER_ALIASES, GUARDIAN_TABLE_ALIASES):
        header = _try_header(head, aliases) if head else None
        if header is not None and len(header.columns) >= 2:
            return True
    return False


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


def _try_header(head: list[Row], aliases) -> Any:
    try:
        header, _ = find_header(iter(head), aliases, scan=HEADER_SCAN)
    except InputError:
        return None
    return header


def _label_of(header, column: int) -> str:
    for name, index in header.columns.items():
        if index == column:
            return header.labels[name]
    letters = ""
    n = column + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _problem(message: str, row: Row | None, column: str | None, value: Any) -> Problem:
    if row is None:
        return Problem(message, column=column, value=value)
    return Problem(message, row.file, row.sheet, row.number, column, value)
