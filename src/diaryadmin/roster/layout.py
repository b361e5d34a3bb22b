"""Where a student table's fields are: its header mapped once to indexes into padded rows, so
that reading 100,000 rows looks each cell up by position (see `roster.read`)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from diaryadmin.io.headers import HeaderMap
from diaryadmin.io.reader import Row
from diaryadmin.io.rejects import REASONS_FIELD
from diaryadmin.people.blanks import NONE_WORD_LENGTH, means_none
from diaryadmin.roster.columns import GUARDIAN_SLOTS, ROSTER_FIELDS

GUARDIAN_PARTS = ("_full_name", "_relation", "_email", "_phone")


@dataclass(slots=True)
class StudentLayout:
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
    pick: Callable[[tuple], Any]  # the mapped cells of a padded row
    nothing: Any  # what `pick` gives for a row with nothing in them

    @classmethod
    def of(cls, header: HeaderMap, default_class: str | None) -> StudentLayout:
        columns, labels = header.columns, header.labels
        width = max(columns.values()) + 2
        absent = width - 1
        col = {name: columns.get(name, absent) for name in ROSTER_FIELDS}
        slots = []
        for slot in GUARDIAN_SLOTS:
            names = [f"{slot}{part}" for part in GUARDIAN_PARTS]
            indexes = tuple(col[name] for name in names)
            if any(i != absent for i in indexes):
                default = slot if slot in ("mother", "father") else None
                slots.append((indexes, tuple(labels.get(name) for name in names), default))
        mapped = [i for name, i in columns.items() if name not in _NOT_DATA]
        return cls(
            labels=labels,
            default_class=default_class,
            width=width,
            absent=absent,
            mapped=mapped,
            optional=sorted(
                index
                for name, index in columns.items()
                if name in _OPTIONAL or name.endswith(GUARDIAN_PARTS)
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
            pick=operator.itemgetter(*mapped) if mapped else lambda _v: None,
            nothing=(None,) * len(mapped) if len(mapped) > 1 else None,
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
            # No word for "none" starts with a digit or a plus (most of these cells are phones).
            if (
                type(x) is str
                and len(x) <= NONE_WORD_LENGTH
                and x[:1] not in _NUMBER_STARTS
                and means_none(x)
            ):
                v = (*v[:i], None, *v[i + 1 :])
        # Cells are None or str, numbers, booleans and dates, none of which equals None.
        if self.pick(v) == self.nothing:
            return None
        return v


_NUMBER_STARTS = frozenset("+0123456789")
_NOT_DATA = frozenset({"row_number", REASONS_FIELD})
_OPTIONAL = frozenset(
    {"patronymic", "certificate", "certificate_series", "certificate_number", "snils"}
)
