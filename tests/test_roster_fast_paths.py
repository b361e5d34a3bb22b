"""The roster import's fast paths give what the general code gives: a cell that looks plain
is passed through without the per-character checks, and guardians are looked up by key."""

from __future__ import annotations

from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from diaryadmin.errors import InvalidValue
from diaryadmin.io.cells import cell_text
from diaryadmin.models import Guardian, Guardianship, School, Student
from diaryadmin.people import text as people_text
from diaryadmin.people.text import clean_text
from diaryadmin.roster.normalise import ID_MAX, Normaliser, clean_cell
from helpers.roster import HEADER, do_import, write_xlsx

# Plain letters and the characters that take the slow path: spaces of every kind, controls,
# invisible and bidirectional characters, a combining accent (not NFC), a surrogate.
_CELL_CHARACTERS = st.sampled_from(
    list("Иванёв-' aZ09.'=") + [" ", "\t", "\n", "\r", "\u00a0", "\u2007", "\u202f", "\u2003",
                                "\u200b", "\ufeff", "\u00ad", "\u202e", "\x07", "\x85", "\u2028",
                                "\u0306", "\ud800", "\ufffe"]
)  # fmt: skip


def _outcome(call, *args, **kwargs):
    try:
        return ("text", call(*args, **kwargs))
    except (ValueError, InvalidValue) as exc:
        return ("refused", str(exc))


@given(st.text(_CELL_CHARACTERS, max_size=30), st.booleans(), st.integers(0, 25))
@example("Иванова  Мария ", False, 25)
@example(" Ёлкин\u00a0 Иван", True, 25)
@example("Иванова Мария", False, 5)
def test_clean_text_gives_what_the_character_checks_give(text, multiline, limit):
    fast = _outcome(clean_text, text, "", limit, multiline=multiline)
    assert fast == _outcome(people_text._clean_slowly, text, "", limit, multiline)


@given(st.text(_CELL_CHARACTERS, max_size=70))
@example("S000001 ")
@example("'=S1")
@example("S1  2")
def test_a_plain_student_id_is_tidied_as_any_other(text):
    normaliser = Normaliser(b"k" * 32, date(2026, 10, 1), 2026)
    expected = _outcome(lambda: clean_cell(cell_text(text) or "", ID_MAX) or None)
    assert _outcome(normaliser.student_id, text) == expected


def test_a_guardian_of_another_school_is_never_reused(tmp_path, sessions):
    """The guardians a chunk may be are looked up by name first and then by their links:
    a namesake with the same phone at another school stays another person."""
    rows = [[*HEADER, "ФИО матери", "Телефон матери"],
            ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А",
             "Иванова Мария Петровна", "+79161234567"]]  # fmt: skip
    path = write_xlsx(tmp_path / "r.xlsx", rows)
    first = do_import(sessions, [path], school_code="A")
    second = do_import(sessions, [path], school_code="B")
    assert (first.guardians_created, second.guardians_created) == (1, 1)
    with sessions() as session:
        pairs = session.execute(
            select(School.code, Guardian.id)
            .join(Student, Student.school_id == School.id)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
            .order_by(School.code)
        ).all()
    assert [code for code, _ in pairs] == ["A", "B"]
    assert pairs[0][1] != pairs[1][1]
    again = do_import(sessions, [path], school_code="B")
    assert (again.unchanged, again.guardians_created) == (1, 0)
