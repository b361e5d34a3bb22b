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

from .models import Credential
from .names import clean_spaces, fix_lookalikes, transliterate

PART_MAX = 20
LOGIN_RE = re.compile(r"^[a-z][a-z0-9.-]*$")
_NOT_LOGIN = re.compile(r"[^a-z-]+")
_STEM_BATCH = 200


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


def existing_logins(session: Session, stems: Iterable[str]) -> set[str]:
    """Every stored login that is one of `stems`, with or without a number, in few queries."""
    unique = sorted(set(stems))
    found: set[str] = set()
    for start in range(0, len(unique), _STEM_BATCH):
        chunk = unique[start : start + _STEM_BATCH]
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
