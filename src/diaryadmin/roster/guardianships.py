"""Guardians and guardianships of an import in the database: loading what a chunk's rows
may be, and writing what they change (Core statements, `roster.bulk`).

Who is who is decided by `roster.guardians`; this module only reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from diaryadmin.models import Guardian, Guardianship, Student
from diaryadmin.people.relations import is_trusted
from diaryadmin.roster.bulk import Bulk, allocate_ids
from diaryadmin.roster.guardians import (
    GuardianEntity,
    Guardians,
    SeenGuardians,
    short_key,
    short_keys,
)
from diaryadmin.roster.normalise import GuardianRecord

STUDENTS = Student.__table__
GUARDIANS = Guardian.__table__
GUARDIANSHIPS = Guardianship.__table__


class StoredLink(NamedTuple):
    id: int
    relation: str


class NewLink(NamedTuple):
    """A guardianship to create: for a stored student, or the chunk's `new_index`th new one."""

    guardian: GuardianEntity
    student_id: int | None
    new_index: int
    relation: str


class RelationUpdate(NamedTuple):
    relation: str
    link_id: int


@dataclass(slots=True)
class GuardianPlan:
    """What a chunk's rows do to guardians and guardianships."""

    registry: Guardians
    links: list[NewLink] = field(default_factory=list)
    relation_updates: list[RelationUpdate] = field(default_factory=list)

    def link(
        self,
        entity: GuardianEntity,
        student_id: int,
        relation: str,
        stored: dict[int, StoredLink],
    ) -> bool:
        """Link a guardian to a stored student, or correct the relation; whether it changed."""
        found = stored.get(entity.id << 32 | student_id) if entity.id is not None else None
        if found is None:
            self.links.append(NewLink(entity, student_id, -1, relation))
            return True
        if found.relation != relation and found.relation != "trusted":
            self.relation_updates.append(RelationUpdate(relation, found.id))
            return True
        return False


def load_guardians(
    bulk: Bulk,
    school_id: int | None,
    records: Iterable[GuardianRecord],
    seen: SeenGuardians,
) -> Guardians:
    """The school's guardians these guardians may be: by name (with and without a
    patronymic), and by e-mail or phone only for someone written without the patronymic
    the database has (contacts alone never make two people one)."""
    registry = Guardians()
    if school_id is None:
        return registry
    records = list(records)
    loaded: dict[int, tuple] = {}
    g, gs, s = GUARDIANS.c, GUARDIANSHIPS.c, STUDENTS.c
    query = select(g.id, g.surname, g.name, g.patronymic, g.name_key, g.email, g.phone)
    # SQLite runs the EXISTS guardian by guardian, on the links' index. PostgreSQL planned it
    # as a hash of every guardianship of the school, built again for each chunk (a fifth of
    # a 100,000-row import): there, the guardians by their index first, then the links of
    # those found by theirs, and the school checked here (a condition on it would let the
    # planner start from every student of the school again).
    in_school = query.where(
        exists().where(
            gs.guardian_id == g.id, s.id == gs.student_id, s.school_id == bindparam("school")
        )
    )
    schools_of = select(gs.guardian_id, s.school_id).join(STUDENTS, s.id == gs.student_id)

    def load(column, values) -> list[tuple]:
        name = f"guardians by {column.key}"
        if bulk.sqlite:
            return list(bulk.select_in(name, in_school, column, values, school=school_id))
        rows = list(bulk.select_in(name, query, column, values))
        if not rows:
            return rows
        kept = {
            guardian_id
            for guardian_id, school in bulk.select_in(
                "schools of guardians", schools_of, gs.guardian_id, {row[0] for row in rows}
            )
            if school == school_id
        }
        return [row for row in rows if row[0] in kept]

    for row in load(g.name_key, {r.key for r in records}):
        loaded.setdefault(row[0], tuple(row))
    # Written with a patronymic the database lacks: surname and name alone, asked only for
    # the rows no full name found (a re-import asks nothing more).
    found = {row[4] for row in loaded.values()}
    for row in load(g.name_key, short_keys(r for r in records if r.key not in found)):
        loaded.setdefault(row[0], tuple(row))
    short = {r.key for r in records if not r.patronymic}
    if short:
        emails = {e for r in records if r.email for e in (r.email, r.email.lower())}
        phones = {r.phone for r in records if r.phone}
        for column, values in ((g.email, emails), (g.phone, phones)):
            for row in load(column, values):
                if row[0] not in loaded and short_key(row[4], row[1], row[2]) in short:
                    loaded[row[0]] = tuple(row)
    for row in sorted(loaded.values()):  # by id: the oldest record wins among namesakes
        entity = GuardianEntity(*row)
        if entity.id in seen:
            entity.seen = True
            entity.place = seen.place(entity.id)
        registry.add(entity)
        registry.loaded.append(entity)
    return registry


def load_links(bulk: Bulk, student_ids: Iterable[int]) -> dict[int, StoredLink]:
    """Guardianships of these students: guardian id << 32 | student id -> the link."""
    c = GUARDIANSHIPS.c
    query = select(c.id, c.guardian_id, c.student_id, c.relation)
    return {
        guardian_id << 32 | student_id: StoredLink(link_id, relation)
        for link_id, guardian_id, student_id, relation in bulk.select_in(
            "guardianships by student", query, c.student_id, student_ids
        )
    }


def write_guardians(
    session: Session, bulk: Bulk, plan: GuardianPlan, new_ids: list[int], stamp: Any
) -> int:
    """Insert the new guardians and links, update the changed; how many guardians are new.
    `new_ids` are the ids of the chunk's new students, by their position."""
    registry = plan.registry
    if registry.new:
        ids = allocate_ids(session, GUARDIANS, len(registry.new))
        for entity, new_id in zip(registry.new, ids, strict=True):
            entity.id = new_id
        bulk.insert(
            GUARDIANS,
            ("id", "surname", "name", "patronymic", "name_key", "email", "phone",
             "created_at"),
            (
                (e.id, e.surname, e.name, e.patronymic, e.key, e.email, e.phone, stamp)
                for e in registry.new
            ),
        )  # fmt: skip
    dirty = [e for e in registry.loaded if e.dirty]
    if dirty:
        bulk.update(
            GUARDIANS,
            ("surname", "name", "patronymic", "name_key", "email", "phone"),
            [(e.surname, e.name, e.patronymic, e.key, e.email, e.phone, e.id) for e in dirty],
        )
    if plan.links:
        bulk.insert(
            GUARDIANSHIPS,
            ("guardian_id", "student_id", "relation", "trusted", "active", "created_at"),
            (
                (link.guardian.id,
                 link.student_id if link.student_id is not None else new_ids[link.new_index],
                 link.relation, is_trusted(link.relation), True, stamp)
                for link in plan.links
            ),
        )  # fmt: skip
    if plan.relation_updates:
        bulk.update(
            GUARDIANSHIPS,
            ("relation", "trusted"),
            [(u.relation, is_trusted(u.relation), u.link_id) for u in plan.relation_updates],
        )
    return len(registry.new)
