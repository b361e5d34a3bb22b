import pytest
from hypothesis import given
from hypothesis import strategies as st

from diaryadmin.people.documents import (
    fingerprint,
    format_snils,
    normalise_certificate,
    normalise_passport,
    normalise_snils,
    snils_check_number,
)

KEY = b"test-key"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IV-МЮ 123456", "IV-МЮ 123456"),
        ("XXI-ОВ 654321", "XXI-ОВ 654321"),
        ("iv мю 123456", "IV-МЮ 123456"),
        ("IVМЮ123456", "IV-МЮ 123456"),
        ("IV МЮ №123456", "IV-МЮ 123456"),
        ("IV-МЮ N 123456", "IV-МЮ 123456"),
        ("ХХI-ОВ 654321", "XXI-ОВ 654321"),  # Cyrillic Х
        ("XXІ-ОВ 654321", "XXI-ОВ 654321"),  # Ukrainian І
        ("1V-МЮ 123456", "IV-МЮ 123456"),  # digit one
        ("IV-MЮ 123456", "IV-МЮ 123456"),  # Latin M
        ("XXI-OB 654321", "XXI-ОВ 654321"),  # Latin O and B
        ("xxi-ob 654321", "XXI-ОВ 654321"),
        ("  II – ЖА   000123 ", "II-ЖА 000123"),
        ("XLIV-АА 111111", "XLIV-АА 111111"),
    ],
)
def test_normalise_certificate(text, expected):
    assert normalise_certificate(text) == expected


def test_normalise_certificate_with_separate_number():
    assert normalise_certificate("iv-мю", "№ 123456") == "IV-МЮ 123456"
    assert normalise_certificate("IV МЮ", "123 456") == "IV-МЮ 123456"


@pytest.mark.parametrize(
    "text",
    [
        "IIII-МЮ 123456",  # not a Roman numeral
        "VV-МЮ 123456",
        "AB-МЮ 123456",
        "IV-M1 123456",
        "IV-МЮ 12345",  # five digits
        "IV-МЮ 1234567",
        "IV-MU 123456",  # Ю has no Latin look-alike
        "-МЮ 123456",  # no Roman part
        "IV-Ю 123456",
        "IV-МЮ",  # no number
        "",
        "123456",
    ],
)
def test_normalise_certificate_refuses(text):
    with pytest.raises(ValueError):
        normalise_certificate(text)


def test_normalise_certificate_refuses_bad_separate_number():
    with pytest.raises(ValueError):
        normalise_certificate("IV-МЮ", "12345a")


_roman = st.sampled_from(["I", "IV", "IX", "XXI", "XIV", "LX", "XC", "CD", "MMXXIV"])
_pair = st.text(alphabet="АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЩЭЮЯ", min_size=2, max_size=2)
_number = st.text(alphabet="0123456789", min_size=6, max_size=6)


@given(_roman, _pair, _number, st.sampled_from(["{r}-{p} {n}", "{r}{p}{n}", "{r} {p} №{n}"]))
def test_certificate_canonical_is_idempotent_and_fingerprints_agree(roman, pair, number, form):
    typed = form.format(r=roman.lower(), p=pair.lower(), n=number)
    canonical = normalise_certificate(typed)
    assert canonical == f"{roman}-{pair} {number}"
    assert normalise_certificate(canonical) == canonical
    assert fingerprint("certificate", typed, KEY) == fingerprint("certificate", canonical, KEY)


@pytest.mark.parametrize("text", ["4508 123456", "45 08 123456", "4508123456", "45-08 №123456"])
def test_normalise_passport(text):
    assert normalise_passport(text) == "4508 123456"


def test_normalise_passport_numeric_cell():
    assert normalise_passport(4508123456) == "4508 123456"
    assert normalise_passport(4508123456.0) == "4508 123456"


@pytest.mark.parametrize("text", ["4508 12345", "4508 1234567", "45O8 123456", ""])
def test_normalise_passport_refuses(text):
    with pytest.raises(ValueError):
        normalise_passport(text)


def _check(first_nine: str) -> int:
    """The check number computed independently, straight from the rule in DOMAIN.md."""
    total = 0
    for position, digit in enumerate(first_nine):
        total += int(digit) * (9 - position)
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total - 101 * (total // 101)
    return 0 if remainder == 100 else remainder


def test_snils_domain_example():
    assert normalise_snils("112-233-445 95") == "11223344595"
    assert format_snils("11223344595") == "112-233-445 95"
    # 1*9 + 1*8 + 2*7 + 2*6 + 3*5 + 3*4 + 4*3 + 4*2 + 5*1 = 95
    assert _check("112233445") == 95


def test_snils_sum_below_100():
    # 0*9+0*8+2*7+0*6+0*5+0*4+0*3+0*2+5*1 = 19; 002-000-005 is above 001-001-998
    assert _check("002000005") == 19
    assert normalise_snils("002-000-005 19") == "00200000519"
    with pytest.raises(ValueError):
        normalise_snils("002-000-005 20")


def test_snils_sum_100_and_101_give_00():
    # 9*9+1*8+0+0+0+0+0+5*2+1*1 = 100
    assert _check("910000051") == 0 and 81 + 8 + 10 + 1 == 100
    assert normalise_snils("910-000-051 00") == "91000005100"
    # 9*9+1*8+0+0+0+0+0+5*2+2*1 = 101
    assert 81 + 8 + 10 + 2 == 101
    assert normalise_snils("910-000-052 00") == "91000005200"
    with pytest.raises(ValueError):
        normalise_snils("910-000-052 01")


def test_snils_sum_above_101_uses_mod_101():
    # 9*9+9*8+9*7+0+0+0+0+0+0 = 216; 216 mod 101 = 14
    assert 81 + 72 + 63 == 216 and 216 % 101 == 14
    assert normalise_snils("999-000-000 14") == "99900000014"
    # remainder 100 gives 00: 201 = 9*9+9*8+6*7+... 81+72+42 = 195, +6*1 = 201; 201 mod 101 = 100
    assert 81 + 72 + 42 + 6 == 201 and 201 % 101 == 100
    assert normalise_snils("996-000-006 00") == "99600000600"
    assert snils_check_number("996000006") == 0


def test_snils_small_numbers_not_checked():
    assert normalise_snils("001-001-998 00") == "00100199800"
    assert normalise_snils("000-000-001 42") == "00000000142"
    with pytest.raises(ValueError):
        normalise_snils("001-001-999 00")  # 1*7+... checked: 0+0+1*7+0+0+1*4+9*3+9*2+9 = 65


def test_snils_numeric_cell_keeps_leading_zeros():
    assert normalise_snils(200000519) == "00200000519"


@pytest.mark.parametrize("text", ["112-233-445 96", "112-233-445", "abc", "1122334459512"])
def test_snils_refuses(text):
    with pytest.raises(ValueError):
        normalise_snils(text)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_snils_check_number_matches_the_rule(first_nine):
    assert snils_check_number(first_nine) == _check(first_nine)
    digits = f"{first_nine}{_check(first_nine):02d}"
    assert normalise_snils(format_snils(digits)) == digits


def test_fingerprint():
    one = fingerprint("passport", "45 08 123456", KEY)
    assert one == fingerprint("passport", "4508 123456", KEY)
    assert len(one) == 64 and int(one, 16) >= 0
    assert one != fingerprint("passport", "4508 123456", b"other")
    assert fingerprint("snils", "112-233-445 95", KEY) == fingerprint("snils", "11223344595", KEY)
    with pytest.raises(ValueError):
        fingerprint("diploma", "1", KEY)
    with pytest.raises(ValueError):
        fingerprint("passport", "4508 123456", b"")
    with pytest.raises(ValueError):
        fingerprint("passport", "12", KEY)
