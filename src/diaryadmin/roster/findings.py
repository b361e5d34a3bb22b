"""What reading a roster finds: the students handed on and every problem with its place.

Shared by the two roster readers, the file reader (`roster.read`) and the OneRoster reader
(`roster.oneroster`), which both turn cells into records the same way: names checked and
look-alike letters fixed (with a warning), a guardian's name, relation, e-mail and phone.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from diaryadmin.errors import InvalidValue, quoted
from diaryadmin.i18n import N_, _
from diaryadmin.io.cells import cell_text
from diaryadmin.io.encoding import plausible_name
from diaryadmin.io.reader import Row
from diaryadmin.io.table import Problems
from diaryadmin.people.relations import (
    parent_relation,
    relation_name,
    relation_of,
    split_relation,
)
from diaryadmin.roster.normalise import (
    EMPTY,
    FULL_NAME_MAX,
    NOT_A_NAME,
    GuardianRecord,
    Normaliser,
    ParsedRoster,
    StudentRecord,
    clean_cell,
)

# What is wrong with a name, one sentence for each part of it: missing, empty, not a name,
# and any other reason (`{problem}`).
_NAME_PROBLEMS = {
    "surname": (
        N_("the surname is missing"),
        N_("the surname is empty"),
        N_("the surname is not a name (letters, hyphens and apostrophes only)"),
        N_("the surname {problem}"),
    ),
    "name": (
        N_("the name is missing"),
        N_("the name is empty"),
        N_("the name is not a name (letters, hyphens and apostrophes only)"),
        N_("the name {problem}"),
    ),
    "patronymic": (
        N_("the patronymic is missing"),
        N_("the patronymic is empty"),
        N_("the patronymic is not a name (letters, hyphens and apostrophes only)"),
        N_("the patronymic {problem}"),
    ),
    "full_name": (
        N_("the full name is missing"),
        N_("the full name is empty"),
        N_("the full name is not a name (letters, hyphens and apostrophes only)"),
        N_("the full name {problem}"),
    ),
    "guardian": (
        N_("the guardian's name is missing"),
        N_("guardian's full name is empty"),
        N_("guardian's full name is not a name (letters, hyphens and apostrophes only)"),
        N_("guardian's full name {problem}"),
    ),
}


def name_problem(field: str, exc: InvalidValue | None = None) -> str:
    """The sentence for a missing (`exc` None) or refused name: `field` is `surname`, `name`,
    `patronymic`, `full_name` (a student's ФИО) or `guardian` (a guardian's ФИО)."""
    missing, empty, not_a_name, other = _NAME_PROBLEMS[field]
    if exc is None:
        return _(missing)
    reason = str(exc)
    if reason == _(EMPTY):
        return _(empty)
    if reason == _(NOT_A_NAME):
        return _(not_a_name)
    return _(other).format(problem=reason)


IMPLAUSIBLE = N_(
    "does not look like a name: the file may be read in the wrong encoding (give --encoding)"
)


class DecodedNames(Normaliser):
    """The normaliser of a table decoded from a text file's bytes (a CSV, an HTML page): a
    name that is no plausible Russian or Latin name is a wrong decoding, refused rather than
    guessed (`гЩЗБОЛПЧ` is `Щербаков` in KOI8-R read as cp1251). Every name word passes
    through `name`, which caches words: each is looked at once, so rows pay nothing more."""

    @classmethod
    def of(cls, normaliser: Normaliser) -> DecodedNames:
        """A copy of `normaliser` (sharing its other caches) with a words cache of its own:
        the words it holds were never checked."""
        decoded = copy.copy(normaliser)
        decoded.__class__ = cls
        decoded._names = {}
        return decoded

    def name(self, value: Any) -> tuple[str, str, bool]:
        found = self._names.get(value)
        if found is not None:
            return found
        # A hidden character or an overlong text is named as such (by clean_cell) first.
        if (
            type(value) is str
            and value.strip()
            and not plausible_name(value)
            and not plausible_name(clean_cell(value, FULL_NAME_MAX))
        ):
            raise InvalidValue(_(IMPLAUSIBLE))
        return Normaliser.name(self, value)


class RosterFindings:
    """The students read so far (or a sink taking them) and every error and warning."""

    def __init__(self, normaliser: Normaliser, *, class_name: str | None = None) -> None:
        self.norm = self.typed = normaliser  # the normaliser of the table being read
        self.decoded = DecodedNames.of(normaliser)  # of a table decoded from text
        self.default_class = class_name
        self.result = ParsedRoster()
        self.problems = Problems(self.result.warnings, self.result.errors)
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

    def error(self, message: str, row: Row | None, column: str | None = None, value=None):
        self.problems.error(message, row, column, value)

    def warning(self, message: str, row: Row | None, column: str | None = None, value=None):
        self.problems.warn(message, row, column, value)

    def lookalike(self, row: Row, column: str | None, raw: Any, *parts: str | None) -> None:
        """Warn that Latin look-alike letters in `raw` were read as Cyrillic."""
        fixed = " ".join(p for p in parts if p)
        self.warning(
            _("Latin look-alike letters replaced by Cyrillic: {fixed}").format(fixed=quoted(fixed)),
            row, column, raw,
        )  # fmt: skip

    def name_part(
        self, row: Row, field: str, column: str | None, raw: Any
    ) -> tuple[str, str] | None:
        """(text, matching form) of a surname, name or patronymic cell; None with an error
        if it is missing (a patronymic may be) or not a name."""
        if raw is None:
            if field != "patronymic":
                self.error(name_problem(field), row, column)
            return None
        try:
            text, folded, changed = self.norm.name(raw)
        except InvalidValue as exc:
            self.error(name_problem(field, exc), row, column, raw)
            return None
        if changed:
            self.lookalike(row, column, raw, text)
        return text, folded

    def checked(
        self, check: Callable[[Any], Any], what: str, row: Row, column: str | None, raw: Any
    ) -> Any:
        """`check(raw)` (a Normaliser method), or None with the error `what` (a message marked
        with N_, its `{problem}` field saying why)."""
        try:
            return check(raw)
        except InvalidValue as exc:
            self.error(_(what).format(problem=exc), row, column, raw)
            return None

    def birth_date(self, row: Row, column: str | None, raw: Any) -> Any:
        """The birth date of a cell, or None with an error."""
        if raw is None:
            self.error(_("the birth date is missing"), row, column)
            return None
        return self.checked(self.norm.birth_date, N_("birth date: {problem}"), row, column, raw)

    def guardian_from_cells(
        self, row, raw_name, raw_relation, raw_email, raw_phone, labels, default_relation=None
    ) -> GuardianRecord | None:
        """A guardian from the cells of a row; None with errors if a cell is refused.

        `labels`: the columns of name, relation, e-mail and phone (for problems). The relation
        is the relation cell's, else one written after the name (`Иванова М. П. (мать)`), else
        `default_relation` (a mother's column), else guessed from the patronymic.
        """
        label_name, label_relation, label_email, label_phone = labels
        ok = True
        name_cell, written_relation = raw_name, None
        if isinstance(raw_name, str):
            name_cell, written_relation = split_relation(raw_name)
        try:
            surname, name, patronymic, changed, key = self.norm.full_name(name_cell)
        except InvalidValue as exc:
            self.error(name_problem("guardian", exc), row, label_name, raw_name)
            return None
        if changed:
            self.lookalike(row, label_name, raw_name, surname, name, patronymic)
        relation = relation_of(written_relation, patronymic) or default_relation
        if raw_relation is not None:
            text = cell_text(raw_relation)
            relation = relation_of(text, patronymic)
            if relation is None:
                relation = "guardian"
                self.warning(
                    _("unknown relation, taken as guardian (use мать, отец or опекун)"),
                    row, label_relation, raw_relation,
                )  # fmt: skip
        by_patronymic = parent_relation(patronymic)
        if relation is None:
            relation = by_patronymic
        elif {relation, by_patronymic} == {"mother", "father"}:
            # A father typed into the mother's columns (or the other way round): the link is
            # kept as the file says, but the secretary should look at the row.
            text = (
                _("{relation} by the file, but the patronymic {patronymic} is a man's: check it")
                if by_patronymic == "father"
                else _(
                    "{relation} by the file, but the patronymic {patronymic} is a woman's: check it"
                )
            )
            text = text.format(relation=relation_name(relation), patronymic=quoted(patronymic))
            self.warning(text, row, label_name, raw_name)
        email = phone = None
        if raw_email is not None:
            try:
                email = self.norm.email(raw_email)
            except InvalidValue as exc:
                self.error(
                    _("guardian's e-mail: {problem}").format(problem=exc),
                    row, label_email, raw_email,
                )  # fmt: skip
                ok = False
        if raw_phone is not None:
            try:
                phone = self.norm.phone(raw_phone)
            except InvalidValue as exc:
                self.error(
                    _("guardian's phone: {problem}").format(problem=exc),
                    row, label_phone, raw_phone,
                )  # fmt: skip
                ok = False
        if not ok:
            return None
        return GuardianRecord(
            surname, name, patronymic, key, relation, email, phone, self.origin(row), row.number
        )

    def origin(self, row: Row) -> tuple[str, str | None]:
        """One shared (file, sheet) tuple per sheet, for the records' places."""
        if self._last_origin[0] is not row.file or self._last_origin[1] is not row.sheet:
            key = (row.file, row.sheet)
            self._last_origin = self._origins.setdefault(key, key)
        return self._last_origin
