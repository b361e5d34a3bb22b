"""Finding the header row of a table and mapping its columns to fields by aliases."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diaryadmin.errors import InputError, Problem
from diaryadmin.i18n import _, ngettext
from diaryadmin.io.cells import cell_text
from diaryadmin.io.reader import Row
from diaryadmin.people.names import fold

_PUNCTUATION = re.compile(r"[:*.,;!?«»\"'“”„()\[\]№#]")
# A hint in brackets after a header, tried only when the whole header matches no alias.
_HINT = re.compile(r"\s*\([^()]*\)[\s:*]*$")


def normalise_header(text: Any) -> str:
    """A header cell as compared with aliases: casefolded, `ё` → `е`, punctuation removed.

    `Фамилия ученика:*` and `фамилия  ученика` compare equal; a non-text cell gives its text.
    A header of punctuation only (`№`, `#`) is kept as it is, so it can still be an alias.
    """
    value = cell_text(text)
    if value is None:
        return ""
    return fold(_PUNCTUATION.sub(" ", value)) or fold(value)


def alias_index(aliases: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """Normalised alias → field; when two fields list one alias, the first keeps it."""
    index: dict[str, str] = {}
    for name, names in aliases.items():
        for alias in [names] if isinstance(names, str) else names:
            index.setdefault(normalise_header(alias), name)
    index.pop("", None)
    return index


def match_alias(text: Any, aliases: Mapping[str, Iterable[str]]) -> str | None:
    """The field one of whose aliases equals the header text once both are normalised."""
    return alias_index(aliases).get(normalise_header(text))


@dataclass
class HeaderMap:
    """Where each field is in a table, found from its header row."""

    row: Row
    columns: dict[str, int]  # field -> 0-based column index
    labels: dict[str, str]  # field -> the header text as written
    unknown: list[str] = field(default_factory=list)  # header texts that matched no field

    def get(self, row: Row, name: str) -> Any:
        """The value of field `name` in `row`; None if the column is absent or the row short."""
        index = self.columns.get(name)
        if index is None or index >= len(row.values):
            return None
        return row.values[index]


def _map_row(row: Row, index: dict[str, str]) -> HeaderMap:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    unknown: list[str] = []
    for position, value in enumerate(row.values):
        label = cell_text(value)
        if label is None:
            continue
        name = index.get(normalise_header(label))
        if name is None and (hintless := _HINT.sub("", label)) != label:
            name = index.get(normalise_header(hintless))  # `Дата рождения (дд.мм.гггг)`
        if name is None or name in columns:
            unknown.append(label)
        else:
            columns[name] = position
            labels[name] = label
    return HeaderMap(row=row, columns=columns, labels=labels, unknown=unknown)


def _first_alias(aliases: Mapping[str, Iterable[str]], name: str) -> str:
    return next(iter(aliases.get(name, ())), name)


def find_header(
    rows: Iterator[Row] | Iterable[Row],
    aliases: Mapping[str, Iterable[str]],
    *,
    required: Iterable[str] = (),
    scan: int = 15,
    groups: Mapping[str, Sequence[str]] | None = None,
    missing: Callable[[HeaderMap], list[str]] | None = None,
) -> tuple[HeaderMap, Iterator[Row]]:
    """Find the header row among the first `scan` rows of one sheet.

    The row lacking the fewest required things, then matching the most fields, wins (the
    earliest on ties); title and blank rows above it are passed over. What is required is
    `missing(header)` (the required things a header lacks, by name) or else the fields in
    `required`. With `groups` (a group heading → label forms, see `combine_headings`), two
    header rows with group headings over the second are also tried as one row of combined
    labels (`Мать` over `ФИО` → `Мать: ФИО`); they win only by lacking less or matching more.

    Returns the map and an iterator over every row after the header, rows already read
    included. Raises InputError naming the file and sheet if no row matches a field, or (with
    `required`) if the best row lacks required fields.
    """
    aliases = {
        name: [names] if isinstance(names, str) else list(names) for name, names in aliases.items()
    }
    required = list(required)
    index = alias_index(aliases)
    rows = iter(rows)
    buffer: list[Row] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= scan:
            break
        if (row.file, row.sheet) != (buffer[0].file, buffer[0].sheet):
            break
    if not buffer:
        problem = Problem(_("the table has no rows"))
        raise InputError(str(problem), [problem])
    first = buffer[0]
    candidates = [r for r in buffer if (r.file, r.sheet) == (first.file, first.sheet)]

    def lacking(header: HeaderMap) -> list[str]:
        if missing is not None:
            return missing(header)
        return [name for name in required if name not in header.columns]

    best: HeaderMap | None = None
    best_after, best_score = 0, (-(10**6), 0)
    trials = [(row, position + 1) for position, row in enumerate(candidates)]
    if groups:
        headings = {normalise_header(k): list(v) for k, v in groups.items()}
        for position, (above, below) in enumerate(itertools.pairwise(candidates)):
            if below.number == above.number + 1:
                combined = combine_headings(above, below, index, headings)
                if combined is not None:
                    trials.append((combined, position + 2))
    for row, after in trials:
        header = _map_row(row, index)
        if not header.columns:
            continue
        score = (-len(lacking(header)), len(header.columns))
        if score > best_score:
            best, best_after, best_score = header, after, score
    if best is None or (required and len(lacking(best)) == len(required)):
        expected = [_first_alias(aliases, name) for name in (required or aliases)]
        message = ngettext(
            "no header row found in the first {count} row; expected columns: {columns}",
            "no header row found in the first {count} rows; expected columns: {columns}",
            scan,
        ).format(count=scan, columns=", ".join(expected))
        raise _located(first, message)
    if required and (absent := lacking(best)):
        names = [_first_alias(aliases, name) for name in absent]
        message = ngettext(
            "missing required column: {columns}", "missing required columns: {columns}", len(names)
        ).format(columns=", ".join(names))
        raise _located(best.row, message)
    after = buffer[best_after:]  # candidates are a prefix of the buffer
    return best, itertools.chain(after, rows)


def combine_headings(
    above: Row, below: Row, index: Mapping[str, str], headings: Mapping[str, Sequence[str]]
) -> Row | None:
    """The label row `below` with each label under a group heading made whole, or None if no
    label is under a known heading.

    A heading merged over several columns is written in its first one only, so it stands over
    every label to its right up to the next heading. `headings` maps a normalised heading to
    label forms (`"{heading}: {}"`, `"{} заявителя"`): the first form giving an alias of a
    field not yet taken in this row is used (`Родители` over two `ФИО` columns: the first
    parent's, then the second's). Where `below` is empty, the heading is the label (a cell
    merged over both rows).
    """
    out: list[Any] = []
    taken: set[str] = set()
    forms: Sequence[str] = ()
    heading = ""
    found = False
    for j in range(max(len(above.values), len(below.values))):
        top = cell_text(above.values[j]) if j < len(above.values) else None
        label = cell_text(below.values[j]) if j < len(below.values) else None
        if top is not None:
            heading, forms = top, headings.get(normalise_header(top), ())
        if label is None:
            out.append(top)
            continue
        for form in forms:
            whole = form.format(label, heading=heading)
            name = index.get(normalise_header(whole))
            if name is not None and name not in taken:
                label, found = whole, True
                taken.add(name)
                break
        out.append(label)
    if not found:
        return None
    return Row(below.file, below.sheet, below.number, tuple(out))


def _located(row: Row, message: str) -> InputError:
    problem = Problem(message, file=row.file, sheet=row.sheet)
    return InputError(str(problem), [problem])
