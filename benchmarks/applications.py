"""The verify case: 10,000 applications against 100,000 students, and 1,000 × 10 as reference.

The roster is `samples.roster.generate_school` inserted set-based (students with certificate
fingerprints, a mother for every tenth child, one child in a hundred inactive); the batches are
`samples.applications.make_batch` written as the portal's cp1251 CSV and imported untimed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from benchmarks.suite import Row, Run, judge, opened


def _children(students: int):
    from diaryadmin.samples.applications import Child, Parent
    from diaryadmin.samples.roster import generate_school

    children = []
    for i, s in enumerate(generate_school(students, seed=11, classes_per_grade=5, messy=False)):
        child = Child(s.surname, s.name, s.patronymic, s.birth_date, s.certificate,
                      active=i % 100 != 99)  # fmt: skip
        if i % 10 == 0:
            m = s.guardians[0]
            child.guardians.append(Parent(m.surname, m.name, m.patronymic, "mother", m.email,
                                          m.phone))  # fmt: skip
        children.append((s.class_name, child))
    return children


def insert_roster(clock, url: str, students: int, children_file: str) -> dict:
    """The roster straight into the tables; the children (plain certificates) to a pickle."""
    from sqlalchemy import insert

    from diaryadmin.models import Guardian, Guardianship, School, SchoolClass, Student
    from diaryadmin.people.documents import fingerprint
    from diaryadmin.people.names import name_key

    children = _children(students)
    with opened(url) as (settings, sessions), sessions.begin() as session:
        key = settings.require_secret_key()
        school_id = session.scalar(
            insert(School).values(code="bench", name="Школа", portal_url="x").returning(School.id)
        )
        names = sorted({name for name, _ in children})
        class_ids = dict(zip(names, session.scalars(
            insert(SchoolClass).returning(SchoolClass.id, sort_by_parameter_order=True),
            [{"school_id": school_id, "school_year": 2026, "name": n, "grade": int(n[:-1])}
             for n in names],
        ), strict=True))  # fmt: skip
        rows = [
            {"school_id": school_id, "external_id": f"S{i:07d}", "surname": c.surname,
             "name": c.name, "patronymic": c.patronymic,
             "name_key": name_key(c.surname, c.name, c.patronymic), "birth_date": c.birth_date,
             "class_id": class_ids[name], "active": c.active,
             "certificate_fp": fingerprint("certificate", c.certificate, key)}
            for i, (name, c) in enumerate(children)
        ]  # fmt: skip
        student_ids = []
        for start in range(0, len(rows), 5000):
            student_ids += session.scalars(
                insert(Student).returning(Student.id, sort_by_parameter_order=True),
                rows[start : start + 5000],
            ).all()
        parents = [(sid, c.guardians[0]) for sid, (_, c) in zip(student_ids, children, strict=True)
                   if c.guardians]  # fmt: skip
        guardian_ids = session.scalars(
            insert(Guardian).returning(Guardian.id, sort_by_parameter_order=True),
            [{"surname": p.surname, "name": p.name, "patronymic": p.patronymic,
              "name_key": name_key(p.surname, p.name, p.patronymic), "email": p.email,
              "phone": p.phone} for _, p in parents],
        ).all()  # fmt: skip
        session.execute(
            insert(Guardianship),
            [{"guardian_id": gid, "student_id": sid, "relation": "mother", "trusted": False}
             for gid, (sid, _) in zip(guardian_ids, parents, strict=True)],
        )  # fmt: skip
    Path(children_file).write_bytes(pickle.dumps([c for _, c in children]))
    return {"students": len(rows)}


def verify_batch(clock, url: str, children_file: str, folder: str, size: int) -> dict:
    """Clear the applications, import a batch of `size` (untimed), then time verify."""
    from sqlalchemy import delete

    from diaryadmin.applications.store import import_applications
    from diaryadmin.applications.verify import verify_applications
    from diaryadmin.models import Application
    from diaryadmin.samples.application_files import write_batch
    from diaryadmin.samples.applications import make_batch

    children = pickle.loads(Path(children_file).read_bytes())
    batch = make_batch(children, size, seed=size)
    path = write_batch(Path(folder) / f"applications-{size}.csv", batch)
    del children
    with opened(url) as (settings, sessions):
        with sessions.begin() as session:
            session.execute(delete(Application))
        with sessions.begin() as session:
            import_applications(session, settings, [path], operator="bench")
        with clock, sessions.begin() as session:
            result = verify_applications(session, operator="bench")
    expected = sum(1 for a in batch if a.expected == "approved")
    return {**result.to_dict(), "expected_approved": expected}


def verify(run: Run, backend: str) -> Row:
    students = run.size(100_000, 10_000)
    size = run.size(10_000, 1_000)
    url = run.database(backend, f"verify-{students}")
    children = str(run.folder / f"children-{backend}-{students}.pickle")
    run.step("applications:insert_roster", url=url, students=students, children_file=children)
    common = {"url": url, "children_file": children, "folder": str(run.folder)}
    reference = run.step("applications:verify_batch", size=size // 10, **common)
    measured = run.step("applications:verify_batch", size=size, **common)
    ratio = measured.wall / (10 * reference.wall)
    facts = measured.facts
    return Row(
        "verify", backend, f"{size:,} applications, {students:,} students", measured.wall,
        measured.cpu, measured.peak_mb, f"{size // 10:,} applications × 10",
        10 * reference.wall, ratio, "≤ 1.3×, ≤ 10 s",
        judge(("ratio", ratio <= 1.3), ("time", measured.wall <= 10)),
        [f"approved {facts['approved']} (generator expects {facts['expected_approved']}), "
         f"review {facts['review']}, rejected {facts['rejected']}"],
        ref_cpu=10 * reference.cpu,
    )  # fmt: skip
