"""One application row read into the columns of an Application, every problem collected.

Document numbers leave this module only as fingerprints; a malformed one becomes a flag.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from diaryadmin.applications.columns import ALIASES
from diaryadmin.errors import Problem
from diaryadmin.i18n import N_, _
from diaryadmin.io import HeaderMap, Row
from diaryadmin.io.cells import cell_text, parse_bool, parse_date
from diaryadmin.io.encoding import plausible_name
from diaryadmin.people.blanks import means_none
from diaryadmin.people.contacts import normalise_email, normalise_phone
from diaryadmin.people.documents import (
    fingerprint,
    normalise_certificate,
    normalise_passport,
    normalise_snils,
)
from diaryadmin.people.names import clean_spaces, fix_lookalikes, fold, name_key, split_full_name
from diaryadmin.people.relations import relation_of
from diaryadmin.people.text import clean_text, shorten

_RELATION_NOISE = re.compile(r"[^\w\s-]+")
# Consent as school offices write it, beyond parse_bool's yes/no words.
_CONSENT_WORDS = {
    **dict.fromkeys(
        (
            "подписано",
            "подписана",
            "имеется",
            "есть согласие",
            "получено",
            "дано",
            "предоставлено",
            "согласие дано",
            "согласие получено",
            "да согласен",
            "да согласна",
        ),
        True,
    ),
    **dict.fromkeys(
        (
            "не подписано",
            "отсутствует",
            "нет согласия",
            "не дано",
            "не получено",
            "не предоставлено",
            "согласие не дано",
        ),
        False,
    ),
}
# `А.`, `А.П.`, `Ив.`: initials where the application needs the name in full.
_INITIALS = re.compile(r"(?:[^\W\d_]{1,2}\.\s*)+|[^\W\d_]")
_INITIALS_MESSAGE = N_("initials instead of the name in full")
_IMPLAUSIBLE_MESSAGE = N_(
    "does not look like a name: the file may be read in the wrong encoding (give --encoding)"
)
_PHONE_SEPARATORS = re.compile(r"\s*(?:[,;/]|\sили\s)\s*")
_DOCUMENT_WORDS = re.compile(r"\b(?:серия|сер\.|номер|ном\.)|[,;]", re.IGNORECASE)
_NAME_COMMAS = re.compile(r"\s*[,;]\s*")
_EMAIL_GAPS = re.compile(r"\s*([@.])\s*")


@dataclass
class ParsedApplication:
    """One checked data row: where it was and the Application columns it gives."""

    row: Row
    values: dict[str, Any]
    number_column: str = "Номер заявления"  # the application-number header as written


class RowReader:
    """Turns one data row into the columns of an Application, collecting every problem."""

    def __init__(self, header: HeaderMap, key: bytes, warnings: list[Problem], today: date):
        self.header = header
        self.key = key
        self.warnings = warnings
        self.today = today

    def read(self, row: Row) -> tuple[dict[str, Any] | None, list[Problem]]:
        problems: list[Problem] = []
        self._row, self._problems = row, problems
        out: dict[str, Any] = {}
        flags: dict[str, str] = {}

        out["external_id"] = self._text("external_id", limit=64)
        out["applied_on"] = self._date("applied_on", required=False)
        a_surname, a_name, a_patronymic = self._person(
            "applicant_full_name", "applicant_surname", "applicant_name", "applicant_patronymic"
        )
        out.update(
            applicant_surname=a_surname, applicant_name=a_name, applicant_patronymic=a_patronymic
        )
        out["relation"] = self._relation(a_patronymic)
        c_surname, c_name, c_patronymic = self._person(
            "child_full_name", "child_surname", "child_name", "child_patronymic"
        )
        out.update(child_surname=c_surname, child_name=c_name, child_patronymic=c_patronymic)
        out["child_birth_date"] = self._date("child_birth_date", required=True)
        birth = out["child_birth_date"]
        if birth is not None and birth > self.today:
            self._problem("child_birth_date", _("the birth date is in the future"))
            out["child_birth_date"] = None
        out["email"] = self._contact("email", self._email)
        out["phone"] = self._contact("phone", self._phone)
        out["consent"] = self._consent()

        passport = self._passport_text()
        out["passport_fp"], canonical_passport = self._document(
            "passport", passport, normalise_passport, flags, "malformed"
        )
        snils = self._value("snils")
        out["snils_fp"], canonical_snils = (None, None)
        if cell_text(snils) is not None:
            out["snils_fp"], canonical_snils = self._document(
                "snils", snils, normalise_snils, flags, "invalid"
            )
        certificate = self._certificate_text()
        out["certificate_fp"], canonical_certificate = self._document(
            "certificate", certificate, normalise_certificate, flags, "malformed"
        )
        out["document_flags"] = flags
        if problems:
            return None, problems

        out["applicant_name_key"] = name_key(a_surname, a_name, a_patronymic)
        out["child_name_key"] = name_key(c_surname, c_name, c_patronymic)
        out["content_key"] = self._content_key(
            out,
            canonical_passport or _raw(passport),
            canonical_snils or _raw(snils),
            canonical_certificate or _raw(certificate),
        )
        return out, problems

    # -- cells ---------------------------------------------------------------------------
    def _value(self, name: str) -> Any:
        return self.header.get(self._row, name)

    def _problem(self, name: str, message: str, value: Any = None) -> None:
        row = self._row
        column = self.header.labels.get(name, ALIASES.get(name, [name])[0])
        self._problems.append(Problem(message, row.file, row.sheet, row.number, column, value))

    def _warn(self, name: str, message: str, value: Any) -> None:
        row = self._row
        column = self.header.labels.get(name, name)
        self.warnings.append(Problem(message, row.file, row.sheet, row.number, column, value))

    def _text(self, name: str, limit: int = 100) -> str | None:
        raw = self._value(name)
        text = cell_text(raw)
        if text is None:
            return None
        try:
            return clean_text(text, "", limit) or None
        except ValueError as error:
            self._problem(name, str(error), shorten(text))
            return None

    def _name_part(self, name: str, required: bool) -> str | None:
        raw = self._value(name)
        text = cell_text(raw)
        if not required and text is not None and means_none(text):
            return None
        if text is None:
            if required:
                self._problem(name, _("is empty; the name is required"))
            return None
        return self._clean_name(name, text)

    def _clean_name(self, name: str, text: str) -> str | None:
        try:
            cleaned = clean_text(text, "", 100)
        except ValueError as error:
            self._problem(name, str(error), shorten(text))
            return None
        if self._row.sheet is None and not _plausible(cleaned):
            # Decoded from a text file's bytes: a name that is none is a wrong decoding.
            self._problem(name, _(_IMPLAUSIBLE_MESSAGE), text)
            return None
        fixed, changed = _tidy_name(cleaned)
        if changed:
            self._warn(name, _("Latin look-alike letters replaced by Cyrillic ones"), text)
        if not any(ch.isalpha() for ch in fixed):
            self._problem(name, _("is not a name"), text)
            return None
        if _INITIALS.fullmatch(fixed):
            self._problem(name, _(_INITIALS_MESSAGE), text)
            return None
        return fixed

    def _person(
        self, full: str, surname: str, name: str, patronymic: str
    ) -> tuple[str, str, str | None]:
        if full in self.header.columns and surname not in self.header.columns:
            raw = cell_text(self._value(full))
            if raw is None:
                self._problem(full, _("is empty; the full name is required"))
                return "", "", None
            try:
                parts = split_full_name(_NAME_COMMAS.sub(" ", raw))  # `Иванов, Пётр, …`
            except ValueError as error:
                self._problem(full, str(error), raw)
                return "", "", None
            if any(p and _INITIALS.fullmatch(p) for p in parts):
                self._problem(full, _(_INITIALS_MESSAGE), raw)
                return "", "", None
            cleaned = [self._clean_name(full, p) if p else None for p in parts]
            return cleaned[0] or "", cleaned[1] or "", cleaned[2]
        return (
            self._name_part(surname, True) or "",
            self._name_part(name, True) or "",
            self._name_part(patronymic, False),
        )

    def _date(self, name: str, required: bool) -> date | None:
        raw = self._value(name)
        if cell_text(raw) is None:
            if required:
                self._problem(name, _("is empty; a date is required"))
            return None
        try:
            return parse_date(raw, today=self.today)
        except ValueError as error:
            self._problem(name, f"{error}", cell_text(raw))
            return None

    def _relation(self, patronymic: str | None) -> str:
        raw = cell_text(self._value("relation"))
        if raw is None:
            self._problem("relation", _("is empty; expected mother, father, guardian or trusted"))
            return ""
        relation = relation_of(raw, patronymic)
        if relation is None:
            self._problem(
                "relation",
                _(
                    "unknown relation; expected мать, отец, родитель, опекун (законный "
                    "представитель), доверенное лицо (бабушка, дедушка)"
                ),
                raw,
            )
            return ""
        return relation

    def _contact(self, name: str, normalise: Callable[[Any], str]) -> str | None:
        raw = self._value(name)
        if cell_text(raw) is None:
            return None
        try:
            return normalise(raw if not isinstance(raw, str) else raw.strip())
        except ValueError as error:
            self._problem(name, str(error), cell_text(raw))
            return None

    def _email(self, text: Any) -> str:
        """normalise_email, after dropping spaces typed around `@` and dots (`ivan @ mail .ru`),
        with a warning; a space inside a part of the address stays an error."""
        if isinstance(text, str):
            text = clean_text(text, "", 255)  # a ValueError: a control character, too long
            tidy = _EMAIL_GAPS.sub(r"\1", text)
            if tidy != text:
                address = normalise_email(tidy)  # a ValueError reports the cell as typed
                self._warn("email", _("spaces removed from the e-mail address"), text)
                return address
        return normalise_email(text)

    def _phone(self, value: Any) -> str:
        """normalise_phone; of several numbers in one cell (`8 900 …, 8 912 …`) the first,
        with a warning."""
        try:
            return normalise_phone(value)
        except ValueError:
            parts = _PHONE_SEPARATORS.split(value) if isinstance(value, str) else []
            if len(parts) < 2:
                raise
            first = normalise_phone(parts[0])  # a ValueError reports the cell as typed
            self._warn("phone", _("several phone numbers: the first one kept"), value)
            return first

    def _consent(self) -> bool:
        raw = self._value("consent")
        if cell_text(raw) is None:
            return False  # an empty consent box is no consent: a rejection reason, not an error
        if isinstance(raw, str):
            words = " ".join(fold(_RELATION_NOISE.sub(" ", raw)).split())
            if words in _CONSENT_WORDS:
                return _CONSENT_WORDS[words]
        try:
            return parse_bool(raw)
        except ValueError as error:
            self._problem("consent", str(error), cell_text(raw))
            return False

    def _passport_text(self) -> str | None:
        if "passport" in self.header.columns:
            return _digits(self._value("passport"), 10)
        parts = [
            _digits(self._value("passport_series"), 4),
            _digits(self._value("passport_number"), 6),
        ]
        if not any(parts):
            return None
        return " ".join(p for p in parts if p)

    def _certificate_text(self) -> str | None:
        if "certificate" in self.header.columns:
            return cell_text(self._value("certificate"))
        series = cell_text(self._value("certificate_series"))
        number = _digits(self._value("certificate_number"), 6)
        if series is None and number is None:
            return None
        return f"{series or ''} {number or ''}".strip()

    def _document(
        self,
        kind: str,
        raw: Any,
        normalise: Callable[[Any], str],
        flags: dict[str, str],
        bad: str,
    ) -> tuple[str | None, str | None]:
        """(fingerprint, canonical form), or (None, None) with a flag: never an import error."""
        if cell_text(raw) is None:
            flags[kind] = "missing"
            return None, None
        if isinstance(raw, str) and kind != "snils":
            raw = _DOCUMENT_WORDS.sub(" ", raw)  # `серия 4508 номер 123456`, `IV-МЮ, 123456`
        try:
            canonical = normalise(raw)
        except ValueError:
            flags[kind] = bad
            return None, None
        return fingerprint(kind, canonical, self.key), canonical

    def _content_key(self, out: dict[str, Any], passport: str, snils: str, cert: str) -> str:
        parts = [
            out["external_id"] or "",
            out["applied_on"].isoformat() if out["applied_on"] else "",
            out["applicant_name_key"],
            out["relation"],
            passport,
            snils,
            (out["email"] or "").casefold(),
            out["phone"] or "",
            out["child_name_key"],
            out["child_birth_date"].isoformat(),
            cert,
            "1" if out["consent"] else "0",
        ]
        message = "application\x1f" + "\x1f".join(parts)
        return hmac.new(self.key, message.encode("utf-8"), hashlib.sha256).hexdigest()


@lru_cache(maxsize=16384)
def _tidy_name(text: str) -> tuple[str, bool]:
    """Spaces cleaned and look-alike letters fixed, and whether letters were fixed (names
    repeat a lot in a batch, so this is cached)."""
    return fix_lookalikes(clean_spaces(text))


@lru_cache(maxsize=16384)
def _plausible(text: str) -> bool:
    return plausible_name(text)


def _digits(value: Any, width: int) -> str | None:
    """The cell as text; a number cell gets back the leading zeros a spreadsheet dropped
    (passport series 0512 typed into a number cell reads 512)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**width:
        return str(value).zfill(width)
    return cell_text(value)


def _raw(value: Any) -> str:
    """A malformed document as typed, compacted, for the content key only (never stored)."""
    text = cell_text(value) or ""
    return "!" + "".join(text.split()).casefold()
