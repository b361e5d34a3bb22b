"""The kinds of roster table and the checks on a student table's header: which columns are
required (the class may come from `--class` or the sheet's name), and columns that look like a
parent's but were not understood as a guardian's. `roster.read` reads the rows.
"""

from __future__ import annotations

import re

from diaryadmin.errors import quoted
from diaryadmin.i18n import N_, _, ngettext
from diaryadmin.io.cells import cell_text
from diaryadmin.io.headers import HeaderMap, normalise_header
from diaryadmin.io.rejects import REASONS_FIELD, with_reasons_column
from diaryadmin.io.table import Table, TableKind
from diaryadmin.people.names import canonical_class
from diaryadmin.roster.columns import GUARDIAN_SLOTS, GUARDIAN_TABLE_ALIASES, STUDENT_ALIASES
from diaryadmin.roster.findings import RosterFindings
from diaryadmin.roster.layout import GUARDIAN_PARTS

_GUARDIAN_FIELDS = frozenset(f"{s}{p}" for s in GUARDIAN_SLOTS for p in GUARDIAN_PARTS)
# Header words that say a column is a parent's (checked on normalised headers).
_PARENT_WORDS = re.compile(
    r"\b(мать|матери|мам(а|ы|е|у|очк\w*|ин\w*)|отец|отца|отцу|пап(а|ы|е|у|очк\w*|ин\w*)"
    r"|родител\w*|представител\w*|опекун\w*|попечител\w*|mother\w*|father\w*|parent\w*"
    r"|guardian\w*)\b"
)
_CONTACT_WORDS = re.compile(r"\b(телефон\w*|тел|phone|mobile|e-?mail|почта|эл\w* почт\w*)\b")
_NAME_WORDS = re.compile(r"\b(фио|ф и о|фамилия|name)")


def has_names(header: HeaderMap) -> bool:
    columns = header.columns
    return "full_name" in columns or ("surname" in columns and "name" in columns)


def is_student_table(header: HeaderMap) -> bool:
    student_fields = [n for n in header.columns if n in STUDENT_ALIASES and n != "row_number"]
    return has_names(header) or len(student_fields) >= 2


_CLASS_OR_OPTION = N_("Класс (or --class)")

GUARDIANS = TableKind(
    name="guardians",  # never shown: the kind has no `skipped`
    record=N_("a guardian"),
    aliases=with_reasons_column(GUARDIAN_TABLE_ALIASES),
    expected="ID ученика, ФИО, Кем приходится, Телефон, E-mail",
    identifies=lambda header: {"student_id", "full_name"} <= header.columns.keys(),
    ignored=frozenset({REASONS_FIELD}),
)


def missing_columns(header: HeaderMap, default_class: str | None) -> list[str]:
    """The required columns a student table's header lacks (the class unless `default_class`
    or the sheet's name gives it)."""
    columns = header.columns
    missing = []
    if not has_names(header):
        missing.append(_("Фамилия, Имя (or ФИО)") if "surname" not in columns else "Имя")
    if "birth_date" not in columns:
        missing.append("Дата рождения")
    if (
        "class" not in columns
        and default_class is None
        and class_of_sheet(header.row.sheet) is None
    ):
        missing.append(_(_CLASS_OR_OPTION))
    return missing


def missing_message(header: HeaderMap, missing: list[str]) -> str:
    """The error for a student table missing required columns."""
    fields = {"columns": ", ".join(missing), "found": ", ".join(header.labels.values())}
    if header.row.sheet is not None and _(_CLASS_OR_OPTION) in missing:
        return ngettext(
            "missing required column: {columns}; found: {found}; "
            "a sheet named like 5А also gives the class",
            "missing required columns: {columns}; found: {found}; "
            "a sheet named like 5А also gives the class",
            len(missing),
        ).format(**fields)
    return ngettext(
        "missing required column: {columns}; found: {found}",
        "missing required columns: {columns}; found: {found}",
        len(missing),
    ).format(**fields)


def guardians_understood(findings: RosterFindings, table: Table) -> bool:
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
        shown = ", ".join(quoted(t) for t in dict.fromkeys(headings + named + contacts + people))
        findings.error(
            _(
                "columns that look like a parent's ({columns}) but no guardian column was "
                "understood: name them ФИО матери, Телефон матери, E-mail матери (or "
                "Родитель 1, Телефон родителя 1...), or put a heading Мать, Отец or Родитель "
                "over ФИО | Телефон | E-mail"
            ).format(columns=shown),
            header.row, (named + contacts + people)[0],
        )  # fmt: skip
        return False
    if contacts:
        findings.warning(
            _(
                "no guardian column found: this contact column is read as nobody's; if it "
                "is a parent's, name it Телефон родителя or E-mail родителя (or ФИО матери...)"
            ),
            header.row, contacts[0],
        )  # fmt: skip
    return True


def class_of_sheet(sheet: str | None) -> str | None:
    """The class a sheet's name gives (`5А`, `5 «а»`, `5А класс`), None for other names."""
    if sheet is None:
        return None
    try:
        return canonical_class(sheet)
    except ValueError:
        return None
