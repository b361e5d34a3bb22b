"""Roster imports of one school at the same time: they serialise, nothing is duplicated.

Each round starts two imports in threads, each with its own engine and connection, released
together by a barrier so that their transactions overlap; PostgreSQL runs them in parallel
(SQLite's BEGIN IMMEDIATE queues the second writer, which must then see the first's rows:
there the threads meet at the barrier just before they begin).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from diaryadmin import db
from diaryadmin.config import Settings
from diaryadmin.models import Guardian, Guardianship, School, Student
from diaryadmin.roster.importing import import_roster
from helpers.roster import HEADER, NOW, SECRET, write_csv

ROUNDS = 6
# The longer runs behind the `slow` marker (pytest -m slow): twenty times the rounds.
LENGTHS = [ROUNDS, pytest.param(20 * ROUNDS, marks=pytest.mark.slow)]
PARENTS = ["ФИО матери", "Телефон матери", "ФИО отца"]
SURNAMES = ["Волков", "Зайцев", "Лебедев", "Соколов", "Морозов", "Новиков", "Козлов", "Попов"]


def _tag(round_: int) -> str:
    """Letters of its own for each round (а, б, …, я, then бa, бб, …): new names each round."""
    letter = chr(0x430 + round_ % 32)
    return letter if round_ < 32 else chr(0x430 + round_ // 32) + letter


def _family_rows(round_: int, klass: str, grade_offset: int) -> list[list]:
    """One child of each family of the round in `klass`; siblings share the same parents."""
    rows = [[*HEADER, *PARENTS]]
    for n, surname in enumerate(SURNAMES):
        tag = _tag(round_)  # a distinct given name per round: new pupils each round
        born = date(2015 - grade_offset, 1 + n, 1 + round_ % 28)
        child = "Иван" + tag if grade_offset == 0 else "Павел" + tag
        rows.append(
            [
                None, surname, child, "Олегович", born.strftime("%d.%m.%Y"), klass,
                f"{surname}а Анна{tag} Петровна", f"891200{round_:03d}{n:02d}",
                f"{surname} Олег{tag} Иванович",
            ]
        )  # fmt: skip
    return rows


def _import_together(
    database_url: str, paths: list[Path], school_code: str | None = None
) -> list[BaseException | None]:
    """Import each file in its own thread and transaction, all starting at once."""
    barrier = threading.Barrier(len(paths))
    outcome: list[BaseException | None] = [None] * len(paths)
    settings = Settings(secret_key=SECRET)
    sqlite = database_url.startswith("sqlite")

    def work(index: int, path: Path) -> None:
        engine = db.make_engine(database_url)
        try:
            sessions = db.make_sessionmaker(engine)
            if sqlite:  # BEGIN IMMEDIATE would wait for the other, which waits at the barrier
                barrier.wait(timeout=30)
            with sessions() as session, session.begin():
                session.connection()  # the transaction has begun before the others start
                if not sqlite:
                    barrier.wait(timeout=30)
                import_roster(
                    session,
                    [path],
                    settings=settings,
                    operator="test",
                    now=NOW,
                    school_code=school_code,
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome[index] = exc
        finally:
            engine.dispose()

    threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(paths)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcome


def _seed(tmp_path: Path, database_url: str) -> int:
    """A school with one pupil, so each round races on pupils and parents alone."""
    path = write_csv(tmp_path / "1a.csv", [HEADER, [None, "Ким", "Ли", None, "01.02.2019", "1А"]])
    assert _import_together(database_url, [path]) == [None]
    return 1


def _count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("rounds", LENGTHS)
def test_the_same_file_twice_at_once_imports_every_pupil_once(
    tmp_path, database_url, sessions, rounds
):
    seeded = _seed(tmp_path, database_url)
    for round_ in range(rounds):
        path = write_csv(tmp_path / f"5a-{round_}.csv", _family_rows(round_, "5А", 0))
        outcome = _import_together(database_url, [path, path])
        assert outcome == [None, None], outcome
        pupils = (round_ + 1) * len(SURNAMES)
        assert _count(sessions, Student) == seeded + pupils, f"round {round_}"
        assert _count(sessions, Guardian) == 2 * pupils, f"round {round_}"
        assert _count(sessions, Guardianship) == 2 * pupils, f"round {round_}"
        assert _count(sessions, School) == 1


@pytest.mark.parametrize("rounds", LENGTHS)
def test_two_classes_at_once_share_the_siblings_parents(tmp_path, database_url, sessions, rounds):
    seeded = _seed(tmp_path, database_url)
    for round_ in range(rounds):
        younger = write_csv(tmp_path / f"5a-{round_}.csv", _family_rows(round_, "5А", 0))
        elder = write_csv(tmp_path / f"8b-{round_}.csv", _family_rows(round_, "8Б", 3))
        outcome = _import_together(database_url, [younger, elder])
        assert outcome == [None, None], outcome
        families = (round_ + 1) * len(SURNAMES)
        assert _count(sessions, Student) == seeded + 2 * families, f"round {round_}"
        assert _count(sessions, Guardian) == 2 * families, f"round {round_}"  # not 4 per family
        assert _count(sessions, Guardianship) == 4 * families, f"round {round_}"


@pytest.mark.parametrize("rounds", LENGTHS)
def test_two_first_imports_of_a_new_school_at_once_make_one_school(
    tmp_path, database_url, sessions, rounds
):
    for round_ in range(rounds):
        path = write_csv(tmp_path / f"5a-{round_}.csv", _family_rows(round_, "5А", 0))
        outcome = _import_together(database_url, [path, path], school_code=f"s{round_}")
        assert outcome == [None, None], outcome
        with sessions() as session:
            codes = session.scalars(select(School.code).order_by(School.code)).all()
            assert codes == sorted(f"s{n}" for n in range(round_ + 1))  # s10 before s2
        assert _count(sessions, Student) == (round_ + 1) * len(SURNAMES), f"round {round_}"


def test_a_lost_race_is_a_clear_message_without_row_data(tmp_path, sessions, monkeypatch):
    from diaryadmin.errors import Refused
    from diaryadmin.roster import write as roster_write
    from helpers.roster import do_import

    path = write_csv(tmp_path / "5a.csv", _family_rows(0, "5А", 0))
    do_import(sessions, [path])
    # As if another writer, outside the school's lock, committed these pupils a moment ago.
    monkeypatch.setattr(roster_write, "load_students", lambda bulk, school_id, chunk: {})
    with_ids = [[*HEADER, *PARENTS]] + [
        [f"S{n}", *row[1:]] for n, row in enumerate(_family_rows(1, "5А", 0)[1:])
    ]
    do_import(sessions, [write_csv(tmp_path / "ids.csv", with_ids)])
    with pytest.raises(Refused) as caught:
        do_import(sessions, [write_csv(tmp_path / "again.csv", with_ids)])
    message = str(caught.value)
    assert message.startswith("Another import of this school is running or has just finished")
    assert "Волков" not in message and "INSERT" not in message
    assert _count(sessions, Student) == 2 * len(SURNAMES)


def _journal_rows(round_: int, day: int) -> list[list]:
    """One lesson of a subject and teacher new in this round, with one mark."""
    header = ["Дата", "№ урока", "Класс", "Предмет", "Учитель", "ID ученика", "Отметка"]
    subject, teacher = f"Кружок {round_}", f"Учителева{_tag(round_)} Ольга Петровна"
    number = 1 + round_ % 12  # a lesson is its subject's: the numbers may repeat
    return [header, [f"{day:02d}.09.2026", number, "5А", subject, teacher, "A1", 5]]


@pytest.mark.parametrize("rounds", LENGTHS)
def test_two_journal_imports_of_one_school_at_once_create_each_teacher_once(
    tmp_path, database_url, sessions, rounds
):
    from diaryadmin.journal.importing import import_journal
    from diaryadmin.models import Lesson, Subject, Teacher
    from helpers.journal import build_journal

    with sessions() as session, session.begin():
        build_journal(session)
    teachers, subjects = _count(sessions, Teacher), _count(sessions, Subject)
    barrier = threading.Barrier(2)
    sqlite = database_url.startswith("sqlite")

    def work(path: Path, outcome: list) -> None:
        engine = db.make_engine(database_url)
        try:
            if sqlite:
                barrier.wait(timeout=30)
            with db.make_sessionmaker(engine)() as session, session.begin():
                school = session.scalar(select(School))
                if not sqlite:
                    barrier.wait(timeout=30)
                import_journal(session, school, path, "test")
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome.append(exc)
        finally:
            engine.dispose()

    for round_ in range(rounds):
        paths = [
            write_csv(tmp_path / f"j{round_}-{day}.csv", _journal_rows(round_, day))
            for day in (15, 16)
        ]
        outcome: list = []
        threads = [threading.Thread(target=work, args=(p, outcome)) for p in paths]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert outcome == [], outcome
        assert _count(sessions, Teacher) == teachers + round_ + 1, f"round {round_}"
        assert _count(sessions, Subject) == subjects + round_ + 1, f"round {round_}"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Lesson)) >= 2 * rounds
