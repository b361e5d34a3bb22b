"""Plain roster records and the cell normalising behind them, cached for 100,000 rows.

Rosters repeat names, dates, classes and parents; the `Normaliser` cleans each distinct value
once. Its results equal the shared functions' (`names.name_key`, `documents.fingerprint`,
`contacts`); tests hold them to that.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from diaryadmin.errors import InvalidValue, Problem
from diaryadmin.i18n import N_, _, ngettext
from diaryadmin.io.cells import cell_text, parse_date
from diaryadmin.people.contacts import normalise_email, normalise_phone
from diaryadmin.people.documents import normalise_certificate, normalise_snils, snils_check_number
from diaryadmin.people.names import (
    PATRONYMIC_SUFFIXES,
    canonical_class,
    clean_spaces,
    fix_lookalikes,
    fold,
    split_full_name,
)
from diaryadmin.people.text import clean_text

MIN_AGE, MAX_AGE = 5, 20

_DASHES = re.compile(r"[-\u2010-\u2015\u00ad\u200b-\u200d\u2060\ufeff]")
_CANONICAL_CERTIFICATE = re.compile(
    r"(?=[MDCLXVI])M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})-[А-ЯЁ]{2} [0-9]{6}"
)
_PLAIN_SNILS = re.compile(r"([0-9]{3})-?([0-9]{3})-?([0-9]{3})[ -]?([0-9]{2})")
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9._%+-]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
)
_PLAIN_PHONE = re.compile(r"\+7\d{10}")
EMPTY = N_("is empty")
NOT_A_NAME = N_("is not a name (letters, hyphens and apostrophes only)")
_NAME = re.compile(r"[^\W\d_]+(?:(?:[-' ]|’)[^\W\d_]+)*")
# Control characters str.split() takes for spaces: a full name with one is read the slow way.
_SPLIT_CONTROLS = re.compile(r"[\x0b\x0c\x1c-\x1f]")
_SLOW_FULL_NAME = re.compile(f"{_DASHES.pattern}|{_SPLIT_CONTROLS.pattern}")
NAME_MAX, FULL_NAME_MAX, ID_MAX, EMAIL_MAX = 100, 302, 64, 255  # the models' column lengths


def clean_cell(text: str, limit: int) -> str:
    """people.text.clean_text for a cell: control characters, bidirectional overrides and
    text over `limit` characters are an InvalidValue."""
    try:
        return clean_text(text, "", limit)
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


@dataclass(slots=True)
class GuardianRecord:
    surname: str
    name: str
    patronymic: str | None
    key: str  # names.name_key of the full name
    relation: str  # a code of people.relations: mother | father | guardian | trusted
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
        self._birth_dates: dict[Any, date] = {}  # cells that passed every check of a birth date
        self._classes: dict[Any, str | None] = {}

    def name(self, value: Any) -> tuple[str, str, bool]:
        """(text as written but cleaned and look-alikes fixed, fold, whether fixed)."""
        found = self._names.get(value)
        if found is None:
            text = clean_spaces(clean_cell(cell_text(value) or "", NAME_MAX))
            if not text:
                raise InvalidValue(_(EMPTY))
            fixed, changed = fix_lookalikes(text)
            if not _NAME.fullmatch(fixed):
                raise InvalidValue(_(NOT_A_NAME))
            found = (fixed, fold(fixed), changed)
            if isinstance(value, str):
                self._names[value] = found
        return found

    def known_name(self, value: Any) -> tuple[str, str, bool] | None:
        """What `name` gave for this cell before, or None if it has not seen it (a fast
        path for a reader: most name cells repeat)."""
        return self._names.get(value)

    def full_name(self, value: Any) -> tuple[str, str, str | None, bool, str]:
        """(surname, name, patronymic, whether look-alikes were fixed, name key) of a cell."""
        # Not cached: full names are nearly all different, and a cache of 100,000 of them would
        # cost more memory than the words' cache saves time. Words repeat: they are cleaned
        # and checked once each (`name`). No strip needed: split() ignores outer spaces, and a
        # name cannot start with the apostrophe our exports put before `=`.
        text = value if type(value) is str else (cell_text(value) or "")
        if _SLOW_FULL_NAME.search(text):
            return self._full_name_slow(text)
        words = text.split()
        count = len(words)
        if count == 4 and fold(words[3]) in PATRONYMIC_SUFFIXES:
            words = [words[0], words[1], f"{words[2]} {words[3]}"]
            count = 3
        cached, name = self._names.get, self.name
        if count == 3:
            a = cached(words[0]) or name(words[0])
            b = cached(words[1]) or name(words[1])
            c = cached(words[2]) or name(words[2])
            return (a[0], b[0], c[0], a[2] or b[2] or c[2], f"{a[1]} {b[1]} {c[1]}")
        if count == 2:
            a = cached(words[0]) or name(words[0])
            b = cached(words[1]) or name(words[1])
            return (a[0], b[0], None, a[2] or b[2], f"{a[1]} {b[1]}")
        return self._full_name_slow(text)

    def _full_name_slow(self, text: str) -> tuple[str, str, str | None, bool, str]:
        fixed, changed = fix_lookalikes(clean_spaces(clean_cell(text, FULL_NAME_MAX)))
        try:
            parts = split_full_name(fixed)
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
        for part in parts:
            if part is not None and not _NAME.fullmatch(part):
                raise InvalidValue(_(NOT_A_NAME))
        return (*parts, changed, " ".join(self.name(p)[1] for p in parts if p))

    def birth_date(self, value: Any) -> date:
        known = self._birth_dates.get(value) if isinstance(value, str | date) else None
        if known is not None:
            return known
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
            raise InvalidValue(found)
        if found > self.youngest:
            raise InvalidValue(
                ngettext(
                    "the student would be younger than {age} on 1 September",
                    "the student would be younger than {age} on 1 September",
                    MIN_AGE,
                ).format(age=MIN_AGE)
            )
        if found <= self.oldest:
            raise InvalidValue(
                ngettext(
                    "the student would be older than {age} on 1 September",
                    "the student would be older than {age} on 1 September",
                    MAX_AGE,
                ).format(age=MAX_AGE)
            )
        if isinstance(value, str | date):
            self._birth_dates[value] = found
        return found

    def class_name(self, value: Any) -> str:
        found = self._classes.get(value, False)
        if found is False:
            try:
                found = canonical_class(cell_text(value) or "")
            except ValueError as exc:
                found = None
                self._classes[value] = None
                raise InvalidValue(str(exc)) from None
            self._classes[value] = found
        if found is None:
            raise InvalidValue(_("a class is a grade 1–11 and one letter, like 5А"))
        return found

    def certificate_fp(self, series: Any, number: Any = None) -> str:
        if type(number) in (int, float) and number == int(number) and 0 < number < 1_000_000:
            # A number cell loses the leading zeros people typed (012345 shows as 12345).
            number = f"{int(number):06d}"
        if number is None and isinstance(series, str) and _CANONICAL_CERTIFICATE.fullmatch(series):
            canonical = series  # already `IV-МЮ 123456`: normalising would change nothing
        else:
            try:
                canonical = normalise_certificate(series, number)
            except ValueError as exc:
                raise InvalidValue(str(exc)) from None
        mac = self._certificate_mac.copy()
        mac.update(canonical.encode())
        return mac.hexdigest()

    def snils_fp(self, value: Any) -> str:
        if isinstance(value, str) and 9 <= len(value) < 11 and value.isascii() and value.isdigit():
            # A number cell saved as CSV text has lost its leading zeros; the check number
            # still catches a real typing mistake.
            value = value.zfill(11)
        match = _PLAIN_SNILS.fullmatch(value) if isinstance(value, str) else None
        if match is not None:
            canonical = "".join(match.groups())
            if int(canonical[:9]) > 1001998 and snils_check_number(canonical) != int(canonical[9:]):
                raise InvalidValue(_("the SNILS check number does not match (a typing mistake?)"))
        else:
            try:
                canonical = normalise_snils(value)
            except ValueError as exc:
                raise InvalidValue(str(exc)) from None
        mac = self._snils_mac.copy()
        mac.update(canonical.encode())
        return mac.hexdigest()

    def student_id(self, value: Any) -> str | None:
        """A student's ID from the school's system, tidied; None if nothing is left."""
        if (
            type(value) is str
            and value.isascii()
            and value.isprintable()
            and len(value) <= ID_MAX
            and value[:1] not in " '"  # an empty text, an outer space, our exports' apostrophe
            and value[-1] != " "
            and "  " not in value
        ):
            return value  # cell_text and clean_cell would return it unchanged
        return clean_cell(cell_text(value) or "", ID_MAX) or None

    def email(self, value: Any) -> str:
        if isinstance(value, str) and len(value) <= EMAIL_MAX and _PLAIN_EMAIL.fullmatch(value):
            return value  # contacts.normalise_email would return it unchanged
        text = clean_cell(cell_text(value) or "", EMAIL_MAX)
        try:
            return normalise_email(text)
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None

    def phone(self, value: Any) -> str:
        if isinstance(value, str) and _PLAIN_PHONE.fullmatch(value):
            return value  # already +7XXXXXXXXXX
        try:
            return normalise_phone(cell_text(value) or "" if isinstance(value, str) else value)
        except ValueError as exc:
            if isinstance(value, str) and _several_phones(value):
                raise InvalidValue(_("two phone numbers in one cell: keep one")) from None
            raise InvalidValue(str(exc)) from None


def _several_phones(text: str) -> bool:
    parts = [p for p in _PHONE_SEPARATORS.split(text) if p.strip()]
    if len(parts) < 2:
        return False
    try:
        for part in parts:
            normalise_phone(part)
    except ValueError:
        return False
    return True


_PHONE_SEPARATORS = re.compile(r"[,;/\n]|\s+или\s+|\s+и\s+", re.IGNORECASE)
