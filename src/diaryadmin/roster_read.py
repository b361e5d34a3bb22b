"""Reading roster files into plain records: headers, normalising, validating, every problem.

A roster file holds one row per student (with up to two guardians on the row, or mother and
father columns) and, optionally, a separate guardians sheet or file keyed by the student's ID.
Reading never touches the database: it turns files into `StudentRecord`s and collects every
error and warning with its file, sheet, row and column.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import operator
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .cells import cell_text, parse_date
from .contacts import normalise_email, normalise_phone
from .documents import normalise_certificate, normalise_snils
from .errors import InputError, Problem
from .io import Row, find_header, iter_rows, sheet_names
from .names import (
    PATRONYMIC_SUFFIXES,
    canonical_class,
    clean_spaces,
    fix_lookalikes,
    fold,
    split_full_name,
)
from .roster_columns import (
    GUARDIAN_SLOTS,
    GUARDIAN_TABLE_ALIASES,
    RELATIONS,
    ROSTER_ALIASES,
    ROSTER_FIELDS,
)

MIN_AGE, MAX_AGE = 5, 20
HEADER_SCAN = 15

_DASHES = re.compile(r"[-\u2010-\u2015\u00ad\u200b-\u200d\u2060\ufeff]")
_CANONICAL_CERTIFICATE = re.compile(
    r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})-[А-ЯЁ]{2} \d{6}"
)
_PLAIN_SNILS = re.compile(r"(\d{3})-?(\d{3})-?(\d{3})[ -]?(\d{2})")
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
)
_PLAIN_PHONE = re.compile(r"\+7\d{10}")
_NAME = re.compile(r"[^\W\d_]+(?:(?:[-' ]|’)[^\W\d_]+)*")
_FEMININE_PATRONYMIC = ("вна", "чна", "кызы", "гызы")
_MASCULINE_PATRONYMIC = ("вич", "ич", "оглы", "улы", "уулу")


@dataclass(slots=True)
class GuardianRecord:
    surname: str
    name: str
    patronymic: str | None
    key: str  # names.name_key of the full name
    relation: str  # mother | father | guardian
    email: str | None
    phone: str | None
    origin: tuple[str, str | None]  # file and sheet (one shared tuple per sheet)
    row: int


@dataclass(slots=True)
class StudentRecord:
    file: str
    sheet: str | None
    row: int
    external_id: str | None
    surname: str
    name: str
    patronymic: str | None
    key: str  # names.name_key
    birth_date: date
    class_name: str
    certificate_fp: str | None
    snils_fp: str | None
    guardians: list[GuardianRecord] = field(default_factory=list)

    @property
    def where(self) -> str:
        sheet = f", sheet {self.sheet!r}" if self.sheet else ""
        return f"{self.file}{sheet}, row {self.row}"


@dataclass
class ParsedRoster:
    students: list[StudentRecord] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class _Invalid(Exception):
    """A cell is refused; carries the message for the Problem."""


class Normaliser:
    """Cell normalisation with caches: rosters repeat names, dates, classes and parents."""

    def __init__(self, secret: bytes, today: date, school_year: int) -> None:
        self._certificate_mac = hmac.new(secret, b"certificate:", hashlib.sha256)
        self._snils_mac = hmac.new(secret, b"snils:", hashlib.sha256)
        self.today = today
        start = date(school_year, 9, 1)
        # Born on or before `oldest`... means older than MAX_AGE at the start of the year.
        self.youngest = date(start.year - MIN_AGE, start.month, start.day)
        self.oldest = date(start.year - MAX_AGE - 1, start.month, start.day)
        self._names: dict[str, tuple[str, str, bool]] = {}
        self._dates: dict[Any, date | str] = {}
        self._classes: dict[Any, str | None] = {}

    def name(self, value: Any) -> tuple[str, str, bool]:
        """(text as written but cleaned and look-alikes fixed, fold, whether fixed)."""
        found = self._names.get(value)
        if found is None:
            text = clean_spaces(cell_text(value) or "")
            if not text:
                raise _Invalid("is empty")
            fixed, changed = fix_lookalikes(text)
            if not _NAME.fullmatch(fixed):
                raise _Invalid("is not a name (letters, hyphens and apostrophes only)")
            found = (fixed, fold(fixed), changed)
            if isinstance(value, str):
                self._names[value] = found
        return found

    def full_name(self, value: Any) -> tuple[str, str, str | None, bool, str]:
        """(surname, name, patronymic, whether look-alikes were fixed, name key) of a cell."""
        # Not cached: full names are nearly all different, and a cache of 100,000 of them would
        # cost more memory than the words' cache saves time.
        text = cell_text(value) or ""
        words = None if _DASHES.search(text) else text.split()
        if words and len(words) == 4 and fold(words[3]) in PATRONYMIC_SUFFIXES:
            words = [words[0], words[1], f"{words[2]} {words[3]}"]
        if not words or not 2 <= len(words) <= 3:
            return self._full_name_slow(text)
        # Words repeat across a roster: clean and check them one by one, cached.
        cleaned = [self.name(word) for word in words]
        return (
            cleaned[0][0],
            cleaned[1][0],
            cleaned[2][0] if len(cleaned) == 3 else None,
            any(c[2] for c in cleaned),
            " ".join(c[1] for c in cleaned),
        )

    def _full_name_slow(self, text: str) -> tuple[str, str, str | None, bool, str]:
        fixed, changed = fix_lookalikes(clean_spaces(text))
        try:
            parts = split_full_name(fixed)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None
        for part in parts:
            if part is not None and not _NAME.fullmatch(part):
                raise _Invalid("is not a name (letters, hyphens and apostrophes only)")
        return (*parts, changed, " ".join(self.name(p)[1] for p in parts if p))

    def birth_date(self, value: Any) -> date:
        found = self._dates.get(value) if isinstance(value, str | date) else None
        if found is None:
            try:
                # A serial number typed or saved as text (CSV has nothing else) is still one.
                serial = isinstance(value, str) and value.strip().isdigit()
                found = parse_date(int(value) if serial else value, today=self.today)
            except ValueError as exc:
                found = str(exc)
            if found is not None and isinstance(value, str | date):
                self._dates[value] = found
        if isinstance(found, str):
            raise _Invalid(found)
        if found > self.youngest:
            raise _Invalid(f"the student would be younger than {MIN_AGE} on 1 September")
        if found <= self.oldest:
            raise _Invalid(f"the student would be older than {MAX_AGE} on 1 September")
        return found

    def class_name(self, value: Any) -> str:
        found = self._classes.get(value, False)
        if found is False:
            try:
                found = canonical_class(cell_text(value) or "")
            except ValueError as exc:
                found = None
                self._classes[value] = None
                raise _Invalid(str(exc)) from None
            self._classes[value] = found
        if found is None:
            raise _Invalid("a class is a grade 1–11 and one letter, like 5А")
        return found

    def certificate_fp(self, series: Any, number: Any = None) -> str:
        if number is None and isinstance(series, str) and _CANONICAL_CERTIFICATE.fullmatch(series):
            canonical = series  # already `IV-МЮ 123456`: normalising would change nothing
        else:
            try:
                canonical = normalise_certificate(series, number)
            except ValueError as exc:
                raise _Invalid(str(exc)) from None
        mac = self._certificate_mac.copy()
        mac.update(canonical.encode())
        return mac.hexdigest()

    def snils_fp(self, value: Any) -> str:
        match = _PLAIN_SNILS.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            canonical = "".join(match.groups())
            if int(canonical[:9]) > 1001998 and _snils_check(canonical) != int(canonical[9:]):
                raise _Invalid("the SNILS check number does not match (a typing mistake?)")
        else:
            try:
                canonical = normalise_snils(value)
            except ValueError as exc:
                raise _Invalid(str(exc)) from None
        mac = self._snils_mac.copy()
        mac.update(canonical.encode())
        return mac.hexdigest()

    def email(self, value: Any) -> str:
        if isinstance(value, str) and _PLAIN_EMAIL.fullmatch(value):
            return value  # contacts.normalise_email would return it unchanged
        try:
            return normalise_email(cell_text(value) or "")
        except ValueError as exc:
            raise _Invalid(str(exc)) from None

    def phone(self, value: Any) -> str:
        if isinstance(value, str) and _PLAIN_PHONE.fullmatch(value):
            return value  # already +7XXXXXXXXXX
        try:
            return normalise_phone(cell_text(value) or "" if isinstance(value, str) else value)
        except ValueError as exc:
            raise _Invalid(str(exc)) from None


_SNILS_WEIGHTS = (9, 8, 7, 6, 5, 4, 3, 2, 1)


def _snils_check(digits: str) -> int:
    """documents.snils_check_number, unrolled for 100,000 rows (tests prove them equal)."""
    total = sum(map(operator.mul, map(int, digits[:9]), _SNILS_WEIGHTS))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    return total % 101 % 100


def guess_relation(patronymic: str | None) -> str:
    """mother/father from a patronymic's ending; guardian when it says nothing."""
    if patronymic:
        folded = patronymic.casefold()
        if folded.endswith(_FEMININE_PATRONYMIC):
            return "mother"
        if folded.endswith(_MASCULINE_PATRONYMIC):
            return "father"
    return "guardian"


def relation_of(text: str | None) -> str | None:
    if text is None:
        return None
    return RELATIONS.get(" ".join(text.casefold().replace("ё", "е").split()))


def formula_cells(path: Path) -> dict[str, set[tuple[int, int]]]:
    """(row, 0-based column) of every formula cell by sheet name, for .xlsx/.xlsm files.

    Calamine hands back a formula's cached value (or nothing, if the file was never opened in
    a spreadsheet program), so formulas are found in the sheet XML itself. Only called on
    files whose XML mentions a formula at all, which is a cheap byte search.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    from defusedxml import ElementTree

    found: dict[str, set[tuple[int, int]]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
            rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
            book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {r.get("Id"): r.get("Target") for r in rels}
            for sheet in book.iter(f"{ns}sheet"):
                target = targets.get(sheet.get(f"{rel_ns}id"), "")
                member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                cells = set()
                # In blocks (a 100,000-row sheet is tens of MB of XML); the overlap keeps a
                # cell cut at a block's end whole, and the set drops what is seen twice.
                with archive.open(member) as stream:
                    tail = b""
                    while block := stream.read(1 << 22):
                        data = tail + block
                        tail = data[-_OVERLAP:]
                        if b"<f" not in data and b":f>" not in data and b":f " not in data:
                            continue
                        for match in _FORMULA_CELL.finditer(data):
                            letters, number = match.group(1).decode(), int(match.group(2))
                            column = 0
                            for letter in letters:
                                column = column * 26 + ord(letter) - 64
                            cells.add((number, column - 1))
                if cells:
                    found[sheet.get("name")] = cells
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return {}  # calamine reports an unreadable file with a better message
    return found


_OVERLAP = 512
_FORMULA_CELL = re.compile(
    rb'<(?:\w+:)?c r="([A-Z]+)(\d+)"[^>]*?(?<!/)>(?:(?!</(?:\w+:)?c>).){0,200}?<(?:\w+:)?f[\s>/]',
    re.S,
)


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
        for path in paths:
            try:
                self.read_file(Path(path), str(path))
            except InputError as exc:
                self.result.errors.extend(exc.problems or [Problem(str(exc), file=str(path))])
        if self.sink is None:
            self._attach_guardians()
        if not self.count and not self.result.errors:
            self.result.errors.append(Problem("no students found in the file(s)"))
        return self.result

    def read_file(self, path: Path, name: str) -> None:
        if path.is_dir() or path.suffix.lower() == ".zip":
            from .roster_oneroster import read_oneroster

            read_oneroster(path, self)
            return
        names = sheet_names(path)
        names_present = set(names)
        if self.sheet is not None and names:
            names = [self.sheet]  # iter_rows says so when the sheet does not exist
        formulas = formula_cells(path)
        if not names:
            self.read_table(iter_rows(path, encoding=self.encoding, delimiter=self.delimiter))
            return
        found_any = False
        for sheet in names:
            rows = (
                stream_sheet(path, name, sheet)
                if sheet in names_present
                else iter_rows(path, sheet=sheet)
            )
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
        if "class" not in columns and self.default_class is None:
            missing.append("Класс (or --class)")
        if missing:
            self.error(
                "missing required column(s): " + ", ".join(missing)
                + "; found: " + ", ".join(header.labels.values()),
                header.row,
            )  # fmt: skip
            return True
        for label in header.unknown:
            self.warning("unknown column, ignored", header.row, label)
        self.read_students(header, itertools.chain(rest, rows), formulas or set())
        return True

    # -- student rows
    def read_students(self, header, rows: Iterable[Row], formulas: set) -> None:
        labels = header.labels
        norm = self.norm
        emit = self.emit
        errors = self.result.errors
        default_class = self.default_class
        if default_class is not None:
            try:
                default_class = canonical_class(default_class)
            except ValueError as exc:
                raise InputError(f"--class {self.default_class!r}: {exc}") from None
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
        use_full_name = "full_name" in header.columns
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
                slots.append((slot, indexes))
        formula_rows = {number for number, _ in formulas}
        mapped = [i for i in set(header.columns.values())]
        padding = (None,) * width
        for row in rows:
            v = row.values
            if len(v) < width:
                v = v + padding[len(v) :]
            elif len(v) > absent:
                v = (*v[:absent], None)  # unknown columns on the right: keep `absent` empty
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
            for slot, indexes in slots:
                guardian = self._guardian(row, v, slot, indexes, labels)
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

    def _guardian(self, row, v, slot, indexes, labels) -> GuardianRecord | None:
        i_full, i_relation, i_email, i_phone = indexes
        raw_name, raw_relation, raw_email, raw_phone = (
            v[i_full],
            v[i_relation],
            v[i_email],
            v[i_phone],
        )
        if raw_name is None and raw_email is None and raw_phone is None:
            return None
        label = labels.get(f"{slot}_full_name")
        if raw_name is None:
            self.error("a guardian's e-mail or phone without a name", row, label)
            return None
        return self.guardian_from_cells(
            row, raw_name, raw_relation, raw_email, raw_phone,
            (label, labels.get(f"{slot}_relation"), labels.get(f"{slot}_email"),
             labels.get(f"{slot}_phone")),
            default_relation=slot if slot in ("mother", "father") else None,
        )  # fmt: skip

    def guardian_from_cells(
        self, row, raw_name, raw_relation, raw_email, raw_phone, labels, default_relation=None
    ) -> GuardianRecord | None:
        label_name, label_relation, label_email, label_phone = labels
        ok = True
        try:
            surname, name, patronymic, changed, key = self.norm.full_name(raw_name)
        except _Invalid as exc:
            self.error(f"guardian's full name {exc}", row, label_name, raw_name)
            return None
        if changed:
            self._lookalike(row, label_name, raw_name, surname, name, patronymic)
        relation = default_relation
        if raw_relation is not None:
            text = cell_text(raw_relation)
            relation = relation_of(text)
            if relation is None:
                relation = "guardian"
                self.warning(
                    "unknown relation, taken as guardian (use мать, отец or опекун)",
                    row, label_relation, raw_relation,
                )  # fmt: skip
        if relation is None:
            relation = guess_relation(patronymic)
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
            self._origins.setdefault((row.file, row.sheet), (row.file, row.sheet)),
            row.number,
        )  # fmt: skip

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
                row, raw_name, header.get(row, "relation"), header.get(row, "email"),
                header.get(row, "phone"),
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


def estimate_rows(paths: Iterable[str | Path]) -> int:
    """About how many rows the files hold, for a progress bar (0 when it cannot tell cheaply):
    lines of a CSV, the `<dimension>` of each xlsx sheet."""
    total = 0
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        try:
            if suffix in (".csv", ".tsv", ".txt"):
                with path.open("rb") as stream:
                    total += sum(
                        block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b"")
                    )
            elif suffix in (".xlsx", ".xlsm"):
                with zipfile.ZipFile(path) as archive:
                    for member in archive.namelist():
                        if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                            with archive.open(member) as stream:
                                head = stream.read(4096)
                            if match := _DIMENSION.search(head):
                                total += int(match.group(1) or 1)
        except (OSError, zipfile.BadZipFile):
            continue
    return total


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def stream_sheet(path: Path, name: str, sheet: str) -> Iterator[Row]:
    """The rows of one worksheet, like `io.iter_rows` but streamed from calamine's sheet.

    `io.iter_rows` turns the whole sheet into Python lists first (`to_python`), which costs
    about 110 MB more at 100,000 rows; calamine's `iter_rows` hands them out one by one.
    Rows come from row 1 on; columns from the sheet's first used column, so we pad them.
    """
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own, zip, xml and plain errors
        message = f"is not a readable spreadsheet ({error})"
        raise InputError(f"{name}: {message}", [Problem(message, file=name)]) from None
    try:
        try:
            worksheet = workbook.get_sheet_by_name(sheet)
            lead = (None,) * (worksheet.start[1] if worksheet.start else 0)
            rows = worksheet.iter_rows()
        except Exception as error:
            message = f"sheet {sheet!r} is not readable ({error})"
            raise InputError(f"{name}: {message}", [Problem(message, file=name)]) from None
        for number, cells in enumerate(rows, 1):
            end = len(cells)
            while end and (cells[end - 1] is None or cells[end - 1] == ""):
                end -= 1
            if end:
                values = [None if c == "" and isinstance(c, str) else c for c in cells[:end]]
                yield Row(name, sheet, number, (*lead, *values) if lead else tuple(values))
        del rows, worksheet
    finally:
        workbook.close()


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
