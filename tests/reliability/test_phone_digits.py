"""Phones typed with digits of other scripts or odd spaces (text on import, property tests):
full-width `+７ ９１２ …`, Arabic-Indic `٨٩١٢…`, no-break and thin spaces give the same +7…
number as ASCII; characters str.isdigit calls digits that are no decimal digits (`²`, `①`) are
refused; whatever the text, the result is ASCII or a ValueError."""

from __future__ import annotations

import os
import unicodedata
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from diaryadmin.applications.store import import_applications, list_applications
from diaryadmin.applications.verify import verify_applications
from diaryadmin.models import Guardian
from diaryadmin.people.contacts import normalise_phone
from diaryadmin.roster.normalise import Normaliser
from helpers import factories as f
from helpers.applications import ANDREY, ORLOVA, application, write_xlsx

PROPERTY = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# The zero of each script whose digits people paste: ASCII, full-width, Arabic-Indic, Eastern
# Arabic-Indic (Persian), Devanagari, Bengali, mathematical bold.
ZEROS = [0x30, 0xFF10, 0x660, 0x6F0, 0x966, 0x9E6, 0x1D7CE]
SPACES = ["", " ", "\u00a0", "\u2009", "\u202f", "\u2007", "\u3000", "\u200b", "-", "\u2011"]
NOT_DECIMAL = "²³¹⁰⁴①⑨⓪❶₂"  # str.isdigit() is true for each; unicodedata.decimal is not
PREFIXES = ["8", "+7", "7", "+７", "＋７", "٨", "+٧", ""]


def written(digits: str, scripts: list[int], gaps: list[str]) -> str:
    """`digits` with each digit in a script of its own and a gap after it."""
    return "".join(
        chr(ZEROS[scripts[i] % len(ZEROS)] + int(d)) + gaps[i % len(gaps)]
        for i, d in enumerate(digits)
    )


subscriber = st.text(alphabet="0123456789", min_size=9, max_size=9).map(lambda s: "9" + s)
scripts = st.lists(st.integers(0, len(ZEROS) - 1), min_size=10, max_size=10)
gaps = st.lists(st.sampled_from(SPACES), min_size=1, max_size=10)


def test_the_scripts_are_decimal_digits_and_the_refused_ones_are_not():
    for zero in ZEROS:
        assert [unicodedata.decimal(chr(zero + d)) for d in range(10)] == list(range(10))
    for char in NOT_DECIMAL:
        assert char.isdigit() and unicodedata.decimal(char, None) is None


@PROPERTY
@given(subscriber, scripts, gaps, st.sampled_from(PREFIXES), st.sampled_from(SPACES))
@example("9123456789", [1] * 10, [" "], "+７", " ")  # +７ ９１２ …
@example("9123456789", [2] * 10, [""], "٨", "")  # ٨٩١٢…
@example("9123456789", [0] * 10, ["\u2009"], "8", "\u00a0")
def test_any_script_and_any_space_give_the_ascii_number(number, scripts, gaps, prefix, gap):
    typed = prefix + gap + written(number, scripts, gaps)
    assert normalise_phone(typed) == "+7" + number


@PROPERTY
@given(subscriber, scripts, gaps, st.sampled_from(NOT_DECIMAL))
def test_a_superscript_or_circled_digit_anywhere_is_refused(number, scripts, gaps, char):
    typed = written(number, scripts, gaps)
    for tampered in (typed + char, char + typed, "8" + typed.replace(typed[0], char, 1)):
        try:
            got = normalise_phone(tampered)
        except ValueError:
            continue
        raise AssertionError(f"{tampered!r} was read as {got}")


@PROPERTY
@given(st.text(max_size=30))
@example("+７９１２３４５６７８９")
@example("8912345678²")
def test_a_phone_is_ascii_or_refused_with_its_own_value_error(text):
    try:
        phone = normalise_phone(text)
    except ValueError:
        return
    assert phone.isascii() and phone[0] == "+" and phone[1:].isdigit()
    assert normalise_phone(phone) == phone


def test_a_roster_cell_in_full_width_digits_is_the_same_phone():
    normaliser = Normaliser(b"key", date(2026, 9, 1), 2026)
    cells = ("+７ ９１２ ３４５-６７-８９", "٨٩١٢٣٤٥٦٧٨٩", "8\u202f912\u2009345\u00a067\u00a089")
    for cell in cells:
        assert normaliser.phone(cell) == "+79123456789", cell


def test_an_application_with_the_guardians_phone_in_arabic_digits_confirms_him(
    sessions, settings, tmp_path
):
    """ANDREY is Ксения's father on file; his application gives no e-mail, only his phone
    (+79120000002) in Arabic-Indic digits: that is his phone, no contact conflict."""
    with sessions() as session, session.begin():
        child = f.student(
            session, ORLOVA.surname, ORLOVA.name, ORLOVA.patronymic, ORLOVA.birth_date,
            certificate=ORLOVA.certificate, secret=settings.require_secret_key(),
        )  # fmt: skip
        surname, name, patronymic, email, phone = ANDREY
        f.guardian(
            session, child, surname=surname, name=name, patronymic=patronymic,
            relation="father", email=email, phone=phone,
        )  # fmt: skip
    typed = "+٧ (٩١٢) ٠٠٠\u00a0٠٠\u00a0٠٢"
    row = application(1, ORLOVA, ANDREY[:3], email="", phone=typed)
    path = write_xlsx(tmp_path / "portal.xlsx", [row])
    with sessions() as session, session.begin():
        import_applications(session, settings, [path], operator="secretary")
        verify_applications(session, operator="secretary")
    with sessions() as session:
        (got,) = list_applications(session)
        assert session.scalars(select(Guardian.phone)).all() == [phone]
    assert (got["status"], [r["code"] for r in got["reasons"]]) == ("approved", [])
