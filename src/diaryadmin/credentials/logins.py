"""Logins: Latin, lower case, short, readable aloud over the phone.

A login is the child's given name and surname transliterated by ICAO Doc 9303 (the Russian
passport scheme, through `names.transliterate`): `petr.ivanov`. When the child has more than one
guardian, the guardian's given name tells them apart: `petr.ivanov.mariia`. A number is added
only when that login is taken: `petr.ivanov2`. Once issued, a login never changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from diaryadmin.models import Credential
from diaryadmin.people.names import clean_spaces, fix_lookalikes, transliterate

PART_MAX = 20
LOGIN_RE = re.compile(r"^[a-z][a-z0-9.-]*$")
_NOT_LOGIN = re.compile(r"[^a-z-]+")
_STEM_BATCH = 200
_IN_BATCH = 500
_NUMBERS = range(2, 51)


def login_part(text: str | None) -> str:
    """One name as a login part: `Римская-Корсакова` → `rimskaia-korsakova`."""
    if not text:
        return ""
    fixed, _ = fix_lookalikes(clean_spaces(text))
    latin = transliterate(fixed).lower()
    part = _NOT_LOGIN.sub("", latin.replace(" ", "-")).strip("-")
    return re.sub(r"-{2,}", "-", part)[:PART_MAX].strip("-")


def login_stem(child_name: str, child_surname: str, guardian_name: str | None = None) -> str:
    """The login before any number: `petr.ivanov`, or `petr.ivanov.mariia` with a guardian."""
    parts = [login_part(child_name), login_part(child_surname)]
    if guardian_name:
        parts.append(login_part(guardian_name))
    stem = ".".join(p for p in parts if p)
    return stem or "parent"


def normalise_login(text: str) -> str:
    """What a typed login is compared as: trimmed, lower case."""
    return text.strip().lower()


def _numbered(stem: str) -> re.Pattern[str]:
    return re.compile(re.escape(stem) + r"(\d*)")


def _present(session: Session, candidates: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(candidates), _IN_BATCH):
        chunk = candidates[start : start + _IN_BATCH]
        found.update(session.scalars(select(Credential.login).where(Credential.login.in_(chunk))))
    return found


def existing_logins(session: Session, stems: Iterable[str]) -> set[str]:
    """Every stored login that is one of `stems`, with or without a number.

    Equality look-ups on the unique index (fast on any collation): first the stems, then
    `stem2`…`stem50` for the stems that are taken; only a stem with all of those taken is
    searched with LIKE.
    """
    unique = sorted(set(stems))
    found = _present(session, unique)
    taken = [stem for stem in unique if stem in found]
    if not taken:
        return found
    numbered = [f"{stem}{n}" for stem in taken for n in _NUMBERS]
    found |= _present(session, numbered)
    crowded = [stem for stem in taken if all(f"{stem}{n}" in found for n in _NUMBERS)]
    for start in range(0, len(crowded), _STEM_BATCH):
        chunk = crowded[start : start + _STEM_BATCH]
        conditions = [
            Credential.login.like(stem.replace("_", r"\_").replace("%", r"\%") + "%", escape="\\")
            for stem in chunk
        ]
        found.update(session.scalars(select(Credential.login).where(or_(*conditions))))
    return found


def allocate(stems: Iterable[str], taken: set[str]) -> list[str]:
    """A free login per stem, in order; the stem itself when free, else the next number.

    `taken` is updated with the logins handed out.
    """
    next_number: dict[str, int] = {}
    logins = []
    for stem in stems:
        if stem not in taken:
            login = stem
        else:
            if stem not in next_number:
                used = [
                    int(m.group(1))
                    for t in taken
                    if (m := _numbered(stem).fullmatch(t)) and m.group(1)
                ]
                next_number[stem] = max([1, *used]) + 1
            login = f"{stem}{next_number[stem]}"
            while login in taken:
                next_number[stem] += 1
                login = f"{stem}{next_number[stem]}"
            next_number[stem] += 1
        taken.add(login)
        logins.append(login)
    return logins
