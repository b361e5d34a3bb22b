"""Shared guardians in an import: one record per person, matched by e-mail, else phone, else
full name (when the e-mail and phone do not say it is someone else)."""

from __future__ import annotations

from typing import Any

from diaryadmin.errors import Problem
from diaryadmin.roster.normalise import GuardianRecord


class GuardianEntity:
    """One guardian as the import sees it: a database row (id set) or a new one."""

    __slots__ = (
        "id", "surname", "name", "patronymic", "key", "email", "phone", "dirty", "seen", "index",
    )  # fmt: skip

    def __init__(self, id_, surname, name, patronymic, key, email, phone) -> None:
        self.id = id_
        self.surname, self.name, self.patronymic = surname, name, patronymic
        self.key, self.email, self.phone = key, email, phone
        self.dirty = False
        self.seen = id_ is None  # described by a row of the files already
        self.index = -1  # position among new guardians


class Guardians:
    """Shared guardians, matched by e-mail, else phone, else full name (when not contradicted)."""

    def __init__(self) -> None:
        self.by_email: dict[str, GuardianEntity] = {}
        self.by_phone: dict[str, GuardianEntity] = {}
        self.by_key: dict[str, Any] = {}  # an entity, or a list of namesakes
        self.new: list[GuardianEntity] = []
        self.loaded: list[GuardianEntity] = []  # database rows, to write back those changed

    def add(self, entity: GuardianEntity) -> None:
        if entity.email:
            self.by_email.setdefault(entity.email.casefold(), entity)
        if entity.phone:
            self.by_phone.setdefault(entity.phone, entity)
        self._index_key(entity)

    def _index_key(self, entity: GuardianEntity) -> None:
        # One entity per key, a list only for the rare namesakes (saves memory at 100,000).
        found = self.by_key.setdefault(entity.key, entity)
        if found is not entity:
            if isinstance(found, list):
                found.append(entity)
            else:
                self.by_key[entity.key] = [found, entity]

    def resolve(self, g: GuardianRecord, warnings: list[Problem]) -> GuardianEntity:
        entity = None
        if g.email:
            entity = self.by_email.get(g.email.casefold())
        if entity is None and g.phone:
            found = self.by_phone.get(g.phone)
            if found is not None and not (found.email and g.email):
                entity = found
        if entity is None:
            candidates = self.by_key.get(g.key)
            if candidates is None:
                candidates = ()
            elif not isinstance(candidates, list):
                candidates = (candidates,)
            for found in candidates:
                if (found.email and g.email) or (
                    found.phone and g.phone and found.phone != g.phone
                ):
                    continue
                entity = found
                break
        if entity is None:
            entity = GuardianEntity(None, g.surname, g.name, g.patronymic, g.key, g.email, g.phone)
            entity.index = len(self.new)
            self.new.append(entity)
            self.add(entity)
            return entity
        if not entity.seen:
            # The first row naming a database guardian may correct the name and phone.
            entity.seen = True
            if entity.key != g.key:
                entity.surname, entity.name, entity.patronymic = g.surname, g.name, g.patronymic
                entity.key = g.key
                entity.dirty = True
                self._index_key(entity)
            if g.phone and entity.phone != g.phone:
                entity.phone = g.phone
                entity.dirty = True
                self.by_phone.setdefault(g.phone, entity)
        elif g.phone and entity.phone and entity.phone != g.phone:
            # Later rows never undo the first (that would flip on every re-import).
            warnings.append(
                Problem(
                    f"another phone for this guardian than in an earlier row ({entity.phone}); "
                    "the first is kept",
                    g.origin[0],
                    g.origin[1],
                    g.row,
                    value=g.phone,
                )
            )
        if g.email and not entity.email:
            entity.email = g.email
            entity.dirty = True
            self.by_email.setdefault(g.email.casefold(), entity)
        if g.phone and not entity.phone:
            entity.phone = g.phone
            entity.dirty = True
            self.by_phone.setdefault(g.phone, entity)
        return entity
