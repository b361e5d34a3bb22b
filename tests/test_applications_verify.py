"""Verifying applications: every decision and reason code, twins, look-alikes, privacy,
indexed matching, the reviewer's decision."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import event, select

from diaryadmin import audit
from diaryadmin.applications.matching import REASON_CODES, compare_names, swapped
from diaryadmin.applications.store import (
    decide_application,
    import_applications,
    list_applications,
)
from diaryadmin.applications.verify import verify_applications
from diaryadmin.errors import NotFound, Refused
from diaryadmin.models import Application
from helpers.applications import CORPUS, ROSTER, build_roster, write_xlsx

NOW = datetime(2026, 9, 10, 12, 0)


@pytest.fixture
def corpus(sessions, settings, tmp_path):
    """The roster and the corpus imported; returns the file path."""
    path = write_xlsx(tmp_path / "portal.xlsx", [row for row, *_ in CORPUS])
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
        report = import_applications(session, settings, [path], operator="secretary", now=NOW)
    assert report.created == len(CORPUS)
    return path


def test_every_case_of_the_corpus_gets_its_decision_and_exact_reasons(corpus, sessions):
    with sessions() as session, session.begin():
        result = verify_applications(session, operator="secretary", now=NOW)
    with sessions() as session:
        rows = list_applications(session)
    assert [r["external_id"] for r in rows] == [row["Номер заявления"] for row, *_ in CORPUS]
    failures = []
    for (_, status, codes, what), got in zip(CORPUS, rows, strict=True):
        got_codes = {r["code"] for r in got["reasons"]}
        if (got["status"], got_codes) != (status, codes):
            failures.append(f"{got['external_id']} {what}: {got['status']} {sorted(got_codes)}")
    assert failures == []
    expected = {s: sum(1 for _, st, *_ in CORPUS if st == s) for s in ("approved", "review")}
    assert result.approved == expected["approved"]
    assert result.review == expected["review"]
    assert result.rejected == len(CORPUS) - expected["approved"] - expected["review"]


def test_the_corpus_covers_every_reason_code():
    covered = set().union(*(codes for _, _, codes, _ in CORPUS))
    assert covered == set(REASON_CODES)


def test_decisions_are_stored_with_who_and_when_and_audited(corpus, sessions):
    with sessions() as session, session.begin():
        verify_applications(session, operator="secretary", now=NOW)
    with sessions() as session:
        apps = session.scalars(select(Application).order_by(Application.id)).all()
        assert {a.decided_by for a in apps} == {"secretary"}
        assert {a.decided_at for a in apps} == {NOW}
        assert all(a.student_id is not None for a in apps if a.status == "approved")
        events = audit.list_events(session, action="applications.verify")
    assert len(events) == 1
    details = events[0]["details"]
    assert details["approved"] == sum(1 for a in apps if a.status == "approved")
    assert sorted(details["ids"]["rejected"]) == [a.id for a in apps if a.status == "rejected"]


def test_messages_never_reveal_a_stored_value(corpus, sessions):
    with sessions() as session, session.begin():
        verify_applications(session, operator="secretary", now=NOW)
    with sessions() as session:
        text = json.dumps(list_applications(session), ensure_ascii=False)
    messages = json.dumps([r["reasons"] for r in json.loads(text)], ensure_ascii=False).casefold()
    for kid in ROSTER:
        if kid.certificate:
            assert kid.certificate.split(" ")[1] not in messages
        assert kid.birth_date.strftime("%d.%m.%Y") not in messages
        assert kid.birth_date.isoformat() not in messages
        assert kid.surname.casefold() not in messages
    assert "example.ru" not in messages and "+7912" not in messages


def test_verify_only_decides_pending_and_is_idempotent(corpus, sessions):
    with sessions() as session, session.begin():
        first = verify_applications(session, operator="a", now=NOW)
    with sessions() as session, session.begin():
        again = verify_applications(session, operator="b", now=NOW)
    assert len(first.decided_ids) == len(CORPUS)
    assert again.to_dict() == {"approved": 0, "review": 0, "rejected": 0}
    with sessions() as session:
        assert set(session.scalars(select(Application.decided_by))) == {"a"}


def test_matching_is_indexed_a_few_queries_per_batch_not_per_application(corpus, sessions, engine):
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with sessions() as session, session.begin():
            verify_applications(session, operator="secretary", now=NOW)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # approved pairs, the batch, certificates, names, birth dates, guardians, the empty next
    # batch: constant, whatever the number of applications in the batch
    assert len(selects) <= 8, selects
    assert len(CORPUS) > 8


def test_twins_the_certificate_decides(corpus, sessions):
    with sessions() as session, session.begin():
        verify_applications(session, operator="secretary", now=NOW)
    with sessions() as session:
        alina = session.scalar(select(Application).where(Application.external_id == "A-0006"))
        artur = session.scalar(select(Application).where(Application.external_id == "A-0007"))
        assert alina.status == "approved"
        assert artur.status == "rejected"
        assert alina.student_id != artur.student_id  # each named child, not the certificate's


def test_compare_names_and_swapped_dates():
    from datetime import date

    from diaryadmin.applications.matching import Candidate

    student = Candidate(1, 1, "Иванов", "Пётр", "Сергеевич", "", date(2015, 3, 4), None, True)

    class App:
        child_surname, child_name, child_patronymic = "ИВАНОВ", "петр", "Сергеевич"

    assert compare_names(App, student) == ("exact", None)
    App.child_name = "Пётор"
    assert compare_names(App, student) == ("near", "name")
    App.child_name, App.child_patronymic = "Пётр", None
    assert compare_names(App, student) == ("patronymic_missing", None)
    App.child_surname = "Иваов"
    assert compare_names(App, student) == ("patronymic_missing_near", "surname")
    App.child_surname, App.child_name = "Сидоров", "Пётр"
    assert compare_names(App, student) == ("different", None)
    assert swapped(date(2015, 3, 4)) == date(2015, 4, 3)
    assert swapped(date(2015, 3, 3)) is None
    assert swapped(date(2015, 3, 14)) is None


def test_reviewer_decides_with_a_reason_and_it_is_audited(corpus, sessions):
    with sessions() as session, session.begin():
        verify_applications(session, operator="secretary", now=NOW)
    with sessions() as session, session.begin():
        row = decide_application(
            session, "A-0011", approve=True, reason="Фамилия проверена по свидетельству",
            operator="deputy", now=NOW,
        )  # fmt: skip
    assert row["status"] == "approved"
    assert [r["code"] for r in row["reasons"]] == ["name_near_miss", "reviewer"]
    assert row["reasons"][-1]["message"] == "Фамилия проверена по свидетельству"
    with sessions() as session:
        app = session.scalar(select(Application).where(Application.external_id == "A-0011"))
        assert (app.decided_by, app.decided_at) == ("deputy", NOW)
        events = audit.list_events(session, action="applications.decide")
    assert events[0]["details"] == {
        "from": "review",
        "to": "approved",
        "reason": "Фамилия проверена по свидетельству",
    }
    assert events[0]["target"] == f"application:{app.id}"


def test_reviewer_decision_refusals(corpus, sessions):
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(Refused, match="has not been verified yet"),
    ):
        decide_application(session, "A-0001", approve=True, reason="x", operator="d")
    with sessions() as session, session.begin():
        verify_applications(session, operator="secretary", now=NOW)
    with (
        sessions() as session,
        session.begin(),
        pytest.raises(Refused, match="names no pupil on the roster"),
    ):
        decide_application(session, "A-0020", approve=True, reason="x", operator="d")
    with sessions() as session, session.begin():
        with pytest.raises(NotFound, match="no application 'A-9999'"):
            decide_application(session, "A-9999", approve=True, reason="x", operator="d")
        with pytest.raises(Refused, match="reason"):
            decide_application(session, "A-0001", approve=True, reason="  ", operator="d")
        app = session.scalar(select(Application).where(Application.external_id == "A-0001"))
        app.guardianship_id = None
        row = decide_application(
            session, str(app.id), approve=False, reason="no", operator="d", by_id=True
        )
        assert row["status"] == "rejected"


def test_generated_batches_get_the_decisions_they_were_made_for(sessions, settings, tmp_path):
    """The sample generator (demo, benchmark) against a roster made with the factories."""
    import random

    from diaryadmin.samples.application_files import write_batch
    from diaryadmin.samples.applications import (
        KINDS,
        Child,
        Parent,
        make_batch,
        random_certificate,
    )
    from helpers import factories

    rng = random.Random(5)
    surnames = ["Петров", "Сидоров", "Кузнецов", "Новиков", "Морозов", "Волков", "Зайцев", "Орлов"]
    first = ["Иван", "Глеб", "Фёдор", "Артём", "Тимур", "Семён", "Роман", "Марат", "Денис", "Егор"]
    children = []
    with sessions() as session, session.begin():
        for i in range(80):
            kid = Child(
                surnames[i % 8],
                first[i // 8],
                "Олегович",
                date(2014, 1 + i % 12, 1 + i % 27),
                random_certificate(rng, roman=["IV", "XII", "XIV", "II"]),
                active=i % 19 != 3,
            )
            student = factories.student(
                session, kid.surname, kid.name, kid.patronymic, kid.birth_date,
                certificate=kid.certificate, secret=settings.require_secret_key(),
                active=kid.active,
            )  # fmt: skip
            if i % 4 == 0:
                email, phone = f"a{i}@example.ru", f"+7912000{i:04d}"
                parent = Parent(kid.surname + "а", "Анна", "Ивановна", "mother", email, phone)
                factories.guardian(
                    session, student, surname=parent.surname, name=parent.name,
                    patronymic=parent.patronymic, email=parent.email, phone=parent.phone,
                )  # fmt: skip
                kid.guardians.append(parent)
            children.append(kid)
    batch = make_batch(children, 60, seed=9)
    assert {a.kind for a in batch} >= set(KINDS) - {"duplicate"}
    for suffix in (".xlsx", ".csv"):
        path = write_batch(tmp_path / f"batch{suffix}", batch)
        with sessions() as session, session.begin():
            import_applications(session, settings, [path], operator="t", now=NOW)
    with sessions() as session, session.begin():
        verify_applications(session, operator="t", now=NOW)
        rows = list_applications(session)
    assert len(rows) == len(batch)  # the CSV repeats the xlsx: nothing imported twice
    wrong = [
        (a.kind, a.expected, a.code, row["status"], [r["code"] for r in row["reasons"]])
        for a, row in zip(batch, rows, strict=True)
        if row["status"] != a.expected
        or (a.code and a.code not in {r["code"] for r in row["reasons"]})
    ]
    assert wrong == []


def test_two_verifies_at_once_decide_each_application_once(corpus, sessions):
    import threading
    import time

    first = sessions()
    first.begin()
    try:
        decided_first = verify_applications(first, operator="first", now=NOW)
        outcome = {}

        def second() -> None:
            with sessions() as session, session.begin():
                outcome["result"] = verify_applications(session, operator="second", now=NOW)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second run now waits for the first one's locks
        assert "result" not in outcome
        first.commit()
    finally:
        first.close()
    thread.join(timeout=60)
    assert len(decided_first.decided_ids) == len(CORPUS)
    assert outcome["result"].decided_ids == []
    with sessions() as session:
        assert set(session.scalars(select(Application.decided_by))) == {"first"}
