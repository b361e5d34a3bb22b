"""Issuing credentials in tests: fast hashes, a small roster, reading slips back."""

from __future__ import annotations

import re
import statistics
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.credentials import issue as credentials
from diaryadmin.credentials import scope as credential_scope
from diaryadmin.models import Credential
from helpers import factories as f

FAST = {"argon2_time_cost": 1, "argon2_memory_kib": 64, "argon2_parallelism": 1}


FAST_ENV = {
    "DIARYADMIN_ARGON2_TIME_COST": "1",
    "DIARYADMIN_ARGON2_MEMORY_KIB": "64",
    "DIARYADMIN_ALLOW_WEAK_HASHES": "1",
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.example",
}


NOW = datetime(2026, 9, 1, 9, 0)


PASSWORD_RE = re.compile(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}")


def make_roster(session: Session) -> dict:
    """5А: Пётр Иванов with mother and father, his sister Анна (same mother) in 7Б;
    5А: Юлия Щукина with a mother without e-mail; an inactive student in 5А."""
    petr = f.student(session)
    mother = f.guardian(session, petr)
    father = f.guardian(
        session, petr, surname="Иванов", name="Сергей", patronymic="Петрович",
        relation="father", email="sergei@example.org", phone=None,
    )  # fmt: skip
    anna = f.student(
        session,
        surname="Иванова",
        name="Анна",
        patronymic="Сергеевна",
        class_name="7Б",
        birth_date=petr.birth_date.replace(2013),
    )
    sister = f.guardian(session, anna, existing=mother.guardian)
    julia = f.student(session, surname="Щукина", name="Юлия", patronymic="Андреевна")
    julia_mother = f.guardian(
        session, julia, surname="Щукина", name="Ольга", patronymic=None, email=None, phone=None
    )
    gone = f.student(session, surname="Ушедший", name="Олег", active=False)
    f.guardian(session, gone, surname="Ушедшая", name="Вера", email="vera@example.org")
    return {
        "petr": petr.id,
        "anna": anna.id,
        "julia": julia.id,
        "mother": mother.id,
        "father": father.id,
        "sister": sister.id,
        "julia_mother": julia_mother.id,
    }


def issue(sessions, settings, *, reissue=False, now=NOW, **scope):
    with sessions.begin() as session:
        ids = credential_scope.select_guardianships(session, **scope)
        return credentials.issue_credentials(
            session, settings, ids, reissue=reissue, operator="test", now=now
        )


def login_of(sessions, guardianship_id):
    with sessions() as session:
        return session.scalar(
            select(Credential.login).where(Credential.guardianship_id == guardianship_id)
        )


def read_slips(path: Path) -> list[dict[str, str]]:
    """Login, password and the rest of each slip, read back from the html."""
    text = path.read_text(encoding="utf-8")
    slips = []
    for block in text.split('<article class="slip">')[1:]:
        cells = dict(re.findall(r'<td class="k">([^<]+)</td><td[^>]*>(.*?)</td>', block))
        slips.append(
            {
                "login": re.sub("<[^>]+>", "", cells["Логин"]),
                "password": cells["Временный пароль"],
                "student": cells.get("Ученик") or cells["Ученица"],
                "guardian": cells["Кому выдан"],
                "expires": re.sub("<[^>]+>", "", cells["Действует до"]),
                "url": cells["Адрес входа"],
                "head": block.split("</div>")[0],
            }
        )
    return slips


def credential(session, login) -> Credential:
    return session.scalar(select(Credential).where(Credential.login == login))


def assert_same_time(known, unknown, pairs: int, bound: float) -> None:
    """Time `known()` and `unknown()` back to back `pairs` times (after a few warm-ups): the
    median gap within pairs, which see the same load on a shared machine, stays under `bound`
    of the unknown one's median."""
    for _ in range(5):
        known(), unknown()
    times = [(known(), unknown()) for _ in range(pairs)]
    gap = statistics.median(k - u for k, u in times)
    base = statistics.median(u for _, u in times)
    assert abs(gap) / base < bound, f"known {gap * 1000:+.2f} ms on {base * 1000:.2f} ms"


def issue_all(sessions, settings) -> dict:
    """The test roster with every login issued: {"ids": roster ids, login: password, ...}."""
    with sessions.begin() as session:
        ids = make_roster(session)
    result = issue(sessions, settings, all_=True)
    return {"ids": ids, **{c.login: c.password for c in result.issued}}
