"""Guardians in an import: one record per person, matched by the normalised full name.

A guardian is a person. Parents of one child share a home phone or a family e-mail, and a
grandparent's landline appears in two families, so contacts never make two people one: they
only confirm a name (the same person written with or without a patronymic) or tell namesakes
apart (another e-mail or phone: another person, with a warning naming both rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from diaryadmin.errors import Problem, quoted
from diaryadmin.i18n import _, pgettext
from diaryadmin.people.names import name_key
from diaryadmin.roster.normalise import GuardianRecord

Place = tuple[tuple[str, str | None], int]  # (file, sheet) and row of the row that described one


class GuardianEntity:
    """One guardian as the import sees it: a database row (id set) or a new one."""

    __slots__ = (
        "id", "surname", "name", "patronymic", "key", "email", "phone", "dirty", "seen", "index",
        "place",
    )  # fmt: skip

    def __init__(self, id_, surname, name, patronymic, key, email, phone) -> None:
        self.id = id_
        self.surname, self.name, self.patronymic = surname, name, patronymic
        self.key, self.email, self.phone = key, email, phone
        self.dirty = False
        self.seen = id_ is None  # described by a row of the files already
        self.index = -1  # position among new guardians
        self.place: Place | None = None  # the first row of the files that described it

    @property
    def short_key(self) -> str:
        return short_key(self.key, self.surname, self.name)


def short_key(key: str, surname: str, name: str) -> str:
    """The name key of surname and name alone, from the full name key: its first two words
    (a key folds word by word), unless a part holds a space."""
    if " " in surname or " " in name:
        return name_key(surname, name)
    first, _space, rest = key.partition(" ")
    return f"{first} {rest.partition(' ')[0]}" if rest else key


def _short_key(g: GuardianRecord) -> str:
    return short_key(g.key, g.surname, g.name)


def _email_conflict(entity: GuardianEntity, g: GuardianRecord) -> bool:
    return bool(entity.email and g.email and entity.email.casefold() != g.email.casefold())


def _phone_conflict(entity: GuardianEntity, g: GuardianRecord) -> bool:
    return bool(entity.phone and g.phone and entity.phone != g.phone)


def _confirmed(entity: GuardianEntity, g: GuardianRecord) -> bool:
    """The same e-mail, or the same phone without another e-mail."""
    if _email_conflict(entity, g):
        return False
    same_email = bool(entity.email and g.email and entity.email.casefold() == g.email.casefold())
    return same_email or bool(entity.phone and g.phone and entity.phone == g.phone)


def _where(place: Place | None, g: GuardianRecord) -> str:
    """Where a guardian was met first, to follow "than in" / "as in" in a message."""
    if place is None:
        return pgettext("as in", "the guardian already on file")
    (file, sheet), row = place
    if (file, sheet) == g.origin:
        return pgettext("as in", "row {row}").format(row=row)
    if sheet:
        return pgettext("as in", "{file}, sheet {sheet}, row {row}").format(
            file=file, sheet=quoted(sheet), row=row
        )
    return pgettext("as in", "{file}, row {row}").format(file=file, row=row)


class SeenGuardians:
    """The guardians rows of the files described, each with the first such row, kept across
    chunks as one packed int per guardian (100,000 tuples would cost megabytes)."""

    def __init__(self) -> None:
        self._places: dict[int, int] = {}  # guardian id -> origin index << 32 | row, or -1
        self._origins: dict[tuple[str, str | None], int] = {}
        self._origin_list: list[tuple[str, str | None]] = []

    def add(self, guardian_id: int, place: Place | None) -> None:
        if guardian_id in self._places:
            return
        packed = -1
        if place is not None:
            origin, row = place
            index = self._origins.get(origin)
            if index is None:
                index = self._origins[origin] = len(self._origin_list)
                self._origin_list.append(origin)
            packed = index << 32 | row
        self._places[guardian_id] = packed

    def __contains__(self, guardian_id: int) -> bool:
        return guardian_id in self._places

    def place(self, guardian_id: int) -> Place | None:
        packed = self._places[guardian_id]
        return None if packed < 0 else (self._origin_list[packed >> 32], packed & 0xFFFFFFFF)


class Guardians:
    """The guardians one chunk of an import can meet, indexed by name."""

    def __init__(self) -> None:
        self.by_key: dict[str, Any] = {}  # an entity, or a list of namesakes
        # Guardians with a patronymic by surname and name alone, for rows written without
        # one; indexed only once such a row comes (most files write every patronymic).
        self.by_short: dict[str, Any] = {}
        self._unindexed: list[GuardianEntity] = []
        self._bare = 0  # guardians without a patronymic, for rows written with one
        self.new: list[GuardianEntity] = []
        self.loaded: list[GuardianEntity] = []  # database rows, to write back those changed

    def add(self, entity: GuardianEntity) -> None:
        _index(self.by_key, entity.key, entity)
        if entity.patronymic:
            self._unindexed.append(entity)
        else:
            self._bare += 1

    def resolve(self, g: GuardianRecord, warnings: list[Problem]) -> GuardianEntity:
        """The person `g` describes: a namesake whose contacts confirm it, else one whose
        contacts do not contradict it, else the same person written with or without a
        patronymic when a contact confirms it; else a new guardian."""
        found = self.by_key.get(g.key)
        namesakes: Any = ()
        entity = None
        if found is not None:
            namesakes = found if isinstance(found, list) else (found,)
            entity = next((e for e in namesakes if _confirmed(e, g)), None) or next(
                (e for e in namesakes if not _email_conflict(e, g) and not _phone_conflict(e, g)),
                None,
            )
        if entity is None:
            entity = self._other_spelling(g)
        if entity is None:
            return self._new(g, namesakes, warnings)
        if not entity.seen:
            self._first_description(entity, g)
        elif _phone_conflict(entity, g):
            # Later rows never undo the first (that would flip on every re-import).
            warnings.append(
                Problem(
                    _(
                        "another phone for this guardian than in {place} ({phone}); "
                        "the first is kept"
                    ).format(place=_where(entity.place, g), phone=entity.phone),
                    g.origin[0],
                    g.origin[1],
                    g.row,
                    value=g.phone,
                )
            )
        if g.email and not entity.email:
            entity.email = g.email
            entity.dirty = True
        if g.phone and not entity.phone:
            entity.phone = g.phone
            entity.dirty = True
        return entity

    def _other_spelling(self, g: GuardianRecord) -> GuardianEntity | None:
        """The one guardian written with a patronymic where `g` has none, or the other way
        round, when a contact confirms it."""
        if g.patronymic:
            if not self._bare:
                return None
            candidates = _members(self.by_key, _short_key(g))
        else:
            for entity in self._unindexed:
                _index(self.by_short, entity.short_key, entity)
            self._unindexed.clear()
            candidates = _members(self.by_short, g.key)
        return next(
            (
                e
                for e in candidates
                if e.key != g.key and not (e.patronymic and g.patronymic) and _confirmed(e, g)
            ),
            None,
        )

    def _new(self, g: GuardianRecord, namesakes, warnings: list[Problem]) -> GuardianEntity:
        if namesakes:
            other = namesakes[0]
            if _email_conflict(other, g):
                text = _(
                    "the same name as in {place} but another e-mail: imported as another person"
                )
                value = g.email
            else:
                text = _(
                    "the same name as in {place} but another phone: imported as another person"
                )
                value = g.phone
            warnings.append(
                Problem(
                    text.format(place=_where(other.place, g)),
                    g.origin[0],
                    g.origin[1],
                    g.row,
                    value=value,
                )
            )
        entity = GuardianEntity(None, g.surname, g.name, g.patronymic, g.key, g.email, g.phone)
        entity.place = (g.origin, g.row)
        entity.index = len(self.new)
        self.new.append(entity)
        self.add(entity)
        return entity

    def _first_description(self, entity: GuardianEntity, g: GuardianRecord) -> None:
        """The first row naming a database guardian may complete the name and correct the
        phone."""
        entity.seen = True
        entity.place = (g.origin, g.row)
        if entity.key != g.key and g.patronymic and not entity.patronymic:
            entity.surname, entity.name, entity.patronymic = g.surname, g.name, g.patronymic
            entity.key = g.key
            entity.dirty = True
            self._bare -= 1  # now indexed as one with a patronymic
            self.add(entity)
        if g.phone and entity.phone != g.phone:
            entity.phone = g.phone
            entity.dirty = True


def _index(index: dict[str, Any], key: str, entity: GuardianEntity) -> None:
    # One entity per key, a list only for the rare namesakes (saves memory at 100,000).
    found = index.setdefault(key, entity)
    if found is not entity:
        if isinstance(found, list):
            if entity not in found:
                found.append(entity)
        else:
            index[key] = [found, entity]


def _members(index: dict[str, Any], key: str) -> Iterator[GuardianEntity]:
    found = index.get(key)
    if found is None:
        return iter(())
    return iter(found) if isinstance(found, list) else iter((found,))


def short_keys(records: Iterable[GuardianRecord]) -> set[str]:
    """Surname and name alone of the guardians written with a patronymic."""
    return {_short_key(g) for g in records if g.patronymic}
