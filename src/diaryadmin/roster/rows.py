"""Every student row of an import, kept compact, to find the same student twice in the files.

One entry per row, in reading order, as 8-byte hashes in arrays (not a dict entry each): the
ID, the certificate fingerprint, name key and birth date, and the row's place; and each
database student a row matched or created, with the row that did it.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Iterator
from typing import Any

from diaryadmin.errors import Problem, quoted
from diaryadmin.i18n import _, pgettext
from diaryadmin.roster.normalise import StudentRecord


def _hash(value: Any) -> int:
    """A non-zero hash of a value, 0 for None (the arrays' 'nothing')."""
    return 0 if value is None else (hash(value) or 1)


def _groups(values: array, skip: set[int]) -> Iterator[list[int]]:
    """Ordinals of the rows sharing a non-zero value, in reading order, two or more."""
    order = sorted((i for i in range(len(values)) if values[i]), key=values.__getitem__)
    for _value, group in itertools.groupby(order, key=values.__getitem__):
        members = [i for i in group if i not in skip]
        if len(members) > 1:
            yield members


class RowIndex:
    """The rows of the files seen so far, and the database students they matched."""

    def __init__(self) -> None:
        self._origins: dict[tuple[str, str | None], int] = {}
        self._origin_list: list[tuple[str, str | None]] = []
        self._last: tuple = (object(), object(), 0)  # file, sheet and index << 32 of the last
        self._ids = array("q")  # hash of the external id, 0 for none
        self._certificates = array("q")  # hash of the certificate fingerprint, 0 for none
        self._names = array("q")  # hash of name key and birth date
        self._places = array("q")  # file and sheet index << 32 | row
        self._id_texts: list[str | None] = []
        self._id_set: set[int] | None = None
        self._matched_ids = array("q")
        self._matched_places = array("q")

    def add(self, record: StudentRecord) -> None:
        self._ids.append(_hash(record.external_id))
        self._certificates.append(_hash(record.certificate_fp))
        self._names.append(_hash((record.key, record.birth_date)))
        self._places.append(self.locate(record))
        self._id_texts.append(record.external_id)

    def matched(self, student_id: int, record: StudentRecord) -> None:
        """The row `record` is the database student `student_id` (found or created)."""
        self._matched_ids.append(student_id)
        self._matched_places.append(self.locate(record))

    def matched_ids(self) -> set[int]:
        return set(self._matched_ids)

    def has_id(self, external_id: str) -> bool:
        """Whether a student row of the files had this ID."""
        if self._id_set is None:
            self._id_set = set(self._ids)
        return _hash(external_id) in self._id_set

    def locate(self, record: StudentRecord) -> int:
        """A row's place as one int (file and sheet index << 32 | row): 100,000 of them
        cost far less than tuples."""
        last = self._last
        if record.file is last[0] and record.sheet is last[1]:  # rows come sheet by sheet
            return last[2] | record.row
        key = (record.file, record.sheet)
        index = self._origins.get(key)
        if index is None:
            index = self._origins[key] = len(self._origin_list)
            self._origin_list.append(key)
        self._last = (record.file, record.sheet, index << 32)
        return index << 32 | record.row

    def where(self, place: int) -> str:
        file, sheet = self._origin_list[place >> 32]
        row = place & 0xFFFFFFFF
        if sheet:
            return pgettext("as in", "{file}, sheet {sheet}, row {row}").format(
                file=file, sheet=quoted(sheet), row=row
            )
        return pgettext("as in", "{file}, row {row}").format(file=file, row=row)

    def _problem(self, place: int, message: str, column=None, value=None) -> Problem:
        file, sheet = self._origin_list[place >> 32]
        return Problem(message, file, sheet, place & 0xFFFFFFFF, column, value)

    def duplicates(self) -> list[Problem]:
        """Errors for the same student twice in the files, in reading order: the same ID,
        the same certificate, or the same name and birth date (unless their IDs or
        certificates say they are different children); and two rows matching one database
        student. The first row of each group is the one kept."""
        found: list[tuple[int, Problem]] = []
        reported: set[int] = set()  # row ordinals
        places, ids, certificates = self._places, self._ids, self._certificates

        def problem(index: int, message: str, column=None, value=None) -> None:
            found.append((places[index], self._problem(places[index], message, column, value)))
            reported.add(index)

        for first, *later in _groups(ids, reported):
            for index in later:
                text = _("the same ID as {place}").format(place=self.where(places[first]))
                problem(index, text, "ID", self._id_texts[index])
        for first, *later in _groups(certificates, set(reported)):
            for index in later:
                text = _("the same birth certificate as {place}")
                problem(index, text.format(place=self.where(places[first])))
        for first, *later in _groups(self._names, set(reported)):
            for index in later:
                differ = (ids[first] and ids[index] and ids[first] != ids[index]) or (
                    certificates[first]
                    and certificates[index]
                    and certificates[first] != certificates[index]
                )
                if not differ:
                    problem(
                        index,
                        _("the same student (name and birth date) as {place}").format(
                            place=self.where(places[first])
                        ),
                    )
        reported_places = {places[i] for i in reported}
        matched, matched_places = self._matched_ids, self._matched_places
        order = sorted(range(len(matched)), key=lambda i: (matched[i], matched_places[i]))
        for _student, group in itertools.groupby(order, key=matched.__getitem__):
            members = [i for i in group if matched_places[i] not in reported_places]
            for index in members[1:]:
                place = matched_places[index]
                message = _("the same student in the database as {place}").format(
                    place=self.where(matched_places[members[0]])
                )
                found.append((place, self._problem(place, message)))
        found.sort(key=lambda item: item[0])
        return [problem for _place, problem in found]
