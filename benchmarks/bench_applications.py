"""Applications verify speed: 10,000 applications against a 100,000-student roster.

    python benchmarks/bench_applications.py [--students 100000]
        [--sizes 2500,5000,10000] [--database-url URL] [--keep DIR]

Inserts the roster directly (set-based: schools, classes, students with certificate
fingerprints, a guardian for every tenth child), then for each batch size: clears the
applications, writes a generated batch as a cp1251 CSV, imports it (timed), and times
`verify_applications` on it (the target: ≤ 10 s for 10,000 on 2 cores, growing linearly).
Prints one line per size and the seconds per 1,000 applications; `--json` for a machine.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

SECRET = "benchmark-secret-key-0123456789"

SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
]  # fmt: skip
BOYS = ["Александр", "Максим", "Иван", "Артём", "Дмитрий", "Никита", "Михаил", "Даниил",
        "Егор", "Андрей", "Кирилл", "Илья", "Матвей", "Тимофей", "Роман", "Лев"]  # fmt: skip
GIRLS = ["Анастасия", "Мария", "Анна", "Виктория", "Екатерина", "Наталья", "Дарья", "Алина",
         "Полина", "Софья", "Ксения", "Варвара", "Вероника", "Алиса", "Ева", "Милана"]  # fmt: skip
FATHERS = [
    ("Александрович", "Александровна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна"),
    ("Дмитриевич", "Дмитриевна"), ("Игоревич", "Игоревна"), ("Олегович", "Олеговна"),
    ("Владимирович", "Владимировна"), ("Николаевич", "Николаевна"), ("Павлович", "Павловна"),
    ("Юрьевич", "Юрьевна"),
]  # fmt: skip


def make_roster(students: int, seed: int = 11):
    """Children (with plain certificates, for the generator) and unique certificates."""
    from diaryadmin.samples.applications import Child, Parent, random_certificate

    rng = random.Random(seed)
    seen: set[str] = set()
    children = []
    start = date(2008, 9, 1)
    for i in range(students):
        boy = rng.random() < 0.5
        surname = rng.choice(SURNAMES)
        if not boy:
            surname = surname + "а"
        patronymic = rng.choice(FATHERS)[0 if boy else 1]
        certificate = random_certificate(rng)
        while certificate in seen:
            certificate = random_certificate(rng)
        seen.add(certificate)
        child = Child(
            surname,
            rng.choice(BOYS if boy else GIRLS),
            patronymic,
            start + timedelta(days=rng.randrange(11 * 365)),
            certificate,
            active=rng.random() > 0.01,
        )
        if i % 10 == 0:
            child.guardians.append(
                Parent(
                    surname if not boy else surname + "а",
                    rng.choice(GIRLS),
                    "Ивановна",
                    "mother",
                    f"mother{i}@example.ru",
                    f"+79{i:09d}",
                )
            )
        children.append(child)
    return children


def insert_roster(engine, settings, children) -> float:
    """The roster straight into the tables with executemany inserts; returns seconds."""
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
    from diaryadmin.people.documents import fingerprint
    from diaryadmin.people.names import name_key

    key = settings.require_secret_key()
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        school_id = session.scalar(
            insert(School).values(code="bench", name="Школа", portal_url="x").returning(School.id)
        )
        class_ids = session.scalars(
            insert(SchoolClass).returning(SchoolClass.id),
            [
                {"school_id": school_id, "school_year": 2026, "name": f"{g}{letter}", "grade": g}
                for g in range(1, 12)
                for letter in "АБВГДЕЖИК"
            ],
        ).all()
        rows = [
            {
                "school_id": school_id,
                "external_id": f"S{i:07d}",
                "surname": c.surname,
                "name": c.name,
                "patronymic": c.patronymic,
                "name_key": name_key(c.surname, c.name, c.patronymic),
                "birth_date": c.birth_date,
                "class_id": class_ids[i % len(class_ids)],
                "active": c.active,
                "certificate_fp": fingerprint("certificate", c.certificate, key),
            }
            for i, c in enumerate(children)
        ]
        student_ids = []
        for start in range(0, len(rows), 5000):
            student_ids.extend(
                session.scalars(insert(Student).returning(Student.id), rows[start : start + 5000])
            )
        parents = [
            (sid, c.guardians[0])
            for sid, c in zip(student_ids, children, strict=True)
            if c.guardians
        ]
        guardian_ids = session.scalars(
            insert(Guardian).returning(Guardian.id),
            [
                {
                    "surname": p.surname,
                    "name": p.name,
                    "patronymic": p.patronymic,
                    "name_key": name_key(p.surname, p.name, p.patronymic),
                    "email": p.email,
                    "phone": p.phone,
                }
                for _, p in parents
            ],
        ).all()
        session.execute(
            insert(Guardianship),
            [
                {"guardian_id": gid, "student_id": sid, "relation": "mother", "trusted": False}
                for gid, (sid, _) in zip(guardian_ids, parents, strict=True)
            ],
        )
    return time.perf_counter() - started


def run(args) -> list[dict]:
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from diaryadmin import db
    from diaryadmin.applications.store import import_applications
    from diaryadmin.applications.verify import verify_applications
    from diaryadmin.config import Settings
    from diaryadmin.models import Application
    from diaryadmin.samples.applications import make_batch, write_batch

    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-applications-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
    settings = Settings(database_url=url, secret_key=SECRET)
    engine = db.make_engine(url)
    db.upgrade(engine)
    children = make_roster(args.students)
    seconds = insert_roster(engine, settings, children)
    print(f"roster: {args.students:,} students inserted in {seconds:.1f} s ({url.split(':')[0]})")
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        with Session(engine) as session, session.begin():
            session.execute(delete(Application))
        batch = make_batch(children, size, seed=size)
        path = write_batch(folder / f"applications-{size}.csv", batch)
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            import_applications(session, settings, [path], operator="bench")
        imported = time.perf_counter() - started
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            result = verify_applications(session, operator="bench")
        verified = time.perf_counter() - started
        expected = {s: sum(1 for a in batch if a.expected == s) for s in ("approved", "review")}
        row = {
            "applications": size,
            "import_s": round(imported, 2),
            "verify_s": round(verified, 2),
            "verify_s_per_1000": round(verified / size * 1000, 3),
            **result.to_dict(),
            "expected_approved": expected["approved"],
            "expected_review": expected["review"],
        }
        results.append(row)
        print(
            f"{size:>6,} applications: import {imported:6.2f} s, verify {verified:6.2f} s "
            f"({row['verify_s_per_1000']:.3f} s per 1,000); approved {result.approved} "
            f"(expected {expected['approved']}), review {result.review} "
            f"(expected {expected['review']}), rejected {result.rejected}"
        )
    engine.dispose()
    if len(results) > 1:
        first, last = results[0], results[-1]
        growth = last["verify_s"] / first["verify_s"] if first["verify_s"] else float("nan")
        size_ratio = last["applications"] / first["applications"]
        print(f"verify time grew {growth:.2f}x for {size_ratio:.0f}x the applications")
    target = next((r for r in results if r["applications"] == 10_000), None)
    if target is not None:
        verdict = "OK" if target["verify_s"] <= 10 else "OVER TARGET"
        print(f"target: 10,000 applications verify in <= 10 s: {target['verify_s']} s {verdict}")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--sizes", default="2500,5000,10000")
    parser.add_argument("--database-url", help="Default: a new SQLite file in the folder.")
    parser.add_argument("--keep", help="Folder for the database and files (default: temp).")
    parser.add_argument("--json", action="store_true", help="Print the results as JSON too.")
    args = parser.parse_args(argv)
    results = run(args)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
