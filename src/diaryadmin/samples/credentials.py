"""Sample data for credentials: a school of guardianships to issue for (benchmarks, tests) and
a million credential rows inserted directly in SQL (the expiry benchmark), plus the demo step."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from diaryadmin.i18n import _, ngettext
from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
from diaryadmin.people.names import name_key

SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
]  # fmt: skip
BOYS = ["Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Артём", "Илья",
        "Кирилл", "Михаил", "Никита", "Матвей", "Роман", "Егор", "Арсений", "Иван"]  # fmt: skip
GIRLS = ["Анастасия", "Мария", "Дарья", "Анна", "Елизавета", "Полина", "Виктория",
         "Екатерина", "София", "Алиса", "Ксения", "Юлия", "Варвара", "Вероника"]  # fmt: skip
FATHERS = ["Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Игорь", "Олег", "Павел"]
MOTHERS = ["Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Светлана", "Юлия", "Мария"]
LETTERS = "АБВГДЕЖИКЛМН"


def _feminine(surname: str) -> str:
    return surname + "а"


def populate(
    session: Session,
    *,
    guardianships: int = 2000,
    classes: int = 60,
    seed: int = 9303,
    school_year: int = 2026,
) -> int:
    """Bulk-insert one school with `classes` classes and students with two parents each, until
    there are `guardianships` guardianships. Deterministic for a seed. Returns the count."""
    rng = random.Random(seed)
    school = School(code=f"bench{seed}", name="МБОУ «Средняя школа № 7»", portal_url=None)
    session.add(school)
    session.flush()
    class_rows = [
        {
            "school_id": school.id,
            "school_year": school_year,
            "name": f"{1 + n % 11}{LETTERS[n // 11]}",
            "grade": 1 + n % 11,
        }
        for n in range(classes)
    ]
    class_ids = list(session.scalars(insert(SchoolClass).returning(SchoolClass.id), class_rows))
    students = (guardianships + 1) // 2
    student_rows, guardian_rows = [], []
    for n in range(students):
        surname = rng.choice(SURNAMES)
        girl = rng.random() < 0.5
        name = rng.choice(GIRLS if girl else BOYS)
        child_surname = _feminine(surname) if girl else surname
        patronymic = rng.choice(FATHERS) + ("овна" if girl else "ович")
        student_rows.append(
            {
                "school_id": school.id,
                "external_id": f"B{seed}-{n:06d}",
                "surname": child_surname,
                "name": name,
                "patronymic": patronymic,
                "name_key": name_key(child_surname, name, patronymic),
                "birth_date": date(2010, 1, 1) + timedelta(days=rng.randrange(3000)),
                "class_id": class_ids[n % classes],
                "active": True,
            }
        )
        for relation, first, last in (
            ("mother", rng.choice(MOTHERS), _feminine(surname)),
            ("father", rng.choice(FATHERS), surname),
        ):
            guardian_rows.append(
                {
                    "surname": last,
                    "name": first,
                    "patronymic": None,
                    "name_key": name_key(last, first),
                    "email": f"parent{seed}.{len(guardian_rows)}@example.org",
                    "relation": relation,
                }
            )
    student_ids = list(session.scalars(insert(Student).returning(Student.id), student_rows))
    relations = [g.pop("relation") for g in guardian_rows]
    guardian_ids = list(session.scalars(insert(Guardian).returning(Guardian.id), guardian_rows))
    links = [
        {
            "guardian_id": guardian_id,
            "student_id": student_ids[n // 2],
            "relation": relation,
            "trusted": False,
            "active": True,
        }
        for n, (guardian_id, relation) in enumerate(zip(guardian_ids, relations, strict=True))
    ][:guardianships]
    session.execute(insert(Guardianship), links)
    return len(links)


DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXlzYWx0$ZHVtbXloYXNoZHVtbXloYXNoZHVtbXloYXNo"


def insert_credential_rows(
    session: Session, count: int, *, due_share: float = 0.1, issued_at: datetime
) -> None:
    """Insert `count` guardianships and temporary credentials straight in SQL (no hashing):
    `due_share` of them issued 40 days before `issued_at`, the rest at `issued_at`.
    1,000 guardians × count/1000 students keep (guardian, student) unique."""
    side = 1000
    students = -(-count // side)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        series = "SELECT generate_series(1, :n) AS x"
    else:
        series = (
            "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < :n) "
            "SELECT x FROM s"
        )
    school = School(code="rows", name="rows", portal_url=None)
    session.add(school)
    session.flush()
    session.execute(
        text(
            f"INSERT INTO guardians (id, surname, name, name_key, created_at) "
            f"SELECT x + 1000000, 'Р', 'Р', 'р р', :at FROM ({series}) AS t"
        ),
        {"n": side, "at": issued_at},
    )
    session.execute(
        text(
            "INSERT INTO students (id, school_id, surname, name, name_key, birth_date, active, "
            "created_at, updated_at) "
            f"SELECT x + 1000000, :school, 'У', 'У', 'у у', :born, true, :at, :at "
            f"FROM ({series}) AS t"
        ),
        {"n": students, "school": school.id, "born": date(2015, 1, 1), "at": issued_at},
    )
    session.execute(
        text(
            "INSERT INTO guardianships (id, guardian_id, student_id, relation, trusted, active, "
            "created_at) "
            "SELECT x + 1000000, 1000001 + (x - 1) % 1000, 1000001 + (x - 1) / 1000, "
            f"'mother', false, true, :at FROM ({series}) AS t"
        ),
        {"n": count, "at": issued_at},
    )
    due_every = max(1, round(1 / due_share)) if due_share else count + 1
    old = issued_at - timedelta(days=40)
    session.execute(
        text(
            "INSERT INTO credentials (guardianship_id, login, password_hash, state, issued_at, "
            "expires_at, failed_attempts) "
            "SELECT x + 1000000, 'row' || x, :hash, 'temporary', "
            "CASE WHEN x % :every = 0 THEN :old ELSE :at END, "
            "CASE WHEN x % :every = 0 THEN :old_exp ELSE :exp END, 0 "
            f"FROM ({series}) AS t"
        ),
        {
            "n": count,
            "hash": DUMMY_HASH,
            "every": due_every,
            "old": old,
            "at": issued_at,
            "old_exp": old + timedelta(days=30),
            "exp": issued_at + timedelta(days=30),
        },
    )


def demo_step(demo) -> None:
    """Issue credentials for every class, write the slips (html) and the mail-merge file
    (xlsx) into the demo folder, then show `credentials status`."""
    from diaryadmin.credentials.issue import issue_credentials
    from diaryadmin.credentials.scope import select_guardianships
    from diaryadmin.credentials.status import credential_status
    from diaryadmin.letters import write_credentials_file
    from diaryadmin.output import render

    slips = demo.folder / "credentials-slips.html"
    merge = demo.folder / "credentials-mailmerge.xlsx"
    with demo.sessions() as session, session.begin():
        ids = select_guardianships(session, all_=True)
        demo.say(
            ngettext(
                "Issuing {count} parent login (argon2id on every core)...",
                "Issuing {count} parent logins (argon2id on every core)...",
                len(ids),
            ).format(count=len(ids))
        )
        result = issue_credentials(session, demo.settings, ids, operator=demo.operator)
        write_credentials_file(result.issued, slips, demo.settings)
        write_credentials_file(result.issued, merge, demo.settings)
    demo.files["credentials_slips"] = slips
    demo.files["credentials_mailmerge"] = merge
    demo.say(
        ngettext(
            "Issued {count} login; printable slips in {slips}, mail merge in {merge} "
            "(both mode 0600: they hold the only copy of the passwords).",
            "Issued {count} logins; printable slips in {slips}, mail merge in {merge} "
            "(both mode 0600: they hold the only copy of the passwords).",
            len(result.issued),
        ).format(count=len(result.issued), slips=slips.name, merge=merge.name)
    )
    if result.issued:
        first = result.issued[0]
        demo.say(
            "  "
            + _("e.g. {guardian} for {student}: login {login}").format(
                guardian=first.guardian, student=first.student, login=first.login
            )
        )
    with demo.sessions() as session:
        rows, missing = credential_status(session)
    demo.say("$ diaryadmin credentials status")
    columns = ["class", "temporary", "active", "expired", "locked", "revoked", "none"]
    demo.say(render(rows, columns))
    if missing:
        demo.say(
            ngettext(
                "{count} guardian without working access.",
                "{count} guardians without working access.",
                len(missing),
            ).format(count=len(missing))
        )
