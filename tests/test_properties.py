"""Property tests (hypothesis): normalising is idempotent, logins are ASCII, stable and unique,
document parsing refuses any text only with its own ValueError, and clean_text leaves no
control or bidirectional character behind."""

from __future__ import annotations

import contextlib
import os
import string
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from diaryadmin.credentials.logins import (
    LOGIN_RE,
    PART_MAX,
    allocate,
    login_part,
    login_stem,
    normalise_login,
)
from diaryadmin.errors import InvalidValue
from diaryadmin.people import documents, names
from diaryadmin.people.text import BIDI_CONTROLS, clean_text
from diaryadmin.roster.normalise import Normaliser

KEY = b"property-test-key"
PROPERTY = settings(
    max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Text as it arrives from spreadsheets: Cyrillic and Latin letters (look-alikes included),
# digits, every kind of space, hyphen and dash, and the characters that hide or break text.
_NASTY = (
    " \t\n\r\u00a0\u2007\u202f\u2028\u2029\x85\u200b\u200c\u200d\u2060\ufeff\u00ad"
    "-\u2010\u2011\u2012\u2013\u2014'’.,;№«»\"\x00\x07\x1b\x7f\x9b\u0306\u0301\ufffe\uffff"
    + "".join(sorted(BIDI_CONTROLS))
)
_ALPHABET = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
    + string.ascii_letters
    + string.digits
    + "ІӀіÀéßİıǅ"
    + _NASTY
)
messy = st.text(alphabet=_ALPHABET, max_size=40)
anything = st.one_of(messy, st.text(max_size=40))  # and any code point at all
cyrillic_word = st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя", min_size=1, max_size=12)
name_word = st.builds(lambda w, cap: w.capitalize() if cap else w, cyrillic_word, st.booleans())


# --- names: every matching form is a fixed point ----------------------------------------------


@PROPERTY
@given(anything)
@example("Римская - Корсакова")
@example("a\u00ad-b")
@example("а -\u200b б")
def test_clean_spaces_is_idempotent(text):
    once = names.clean_spaces(text)
    assert names.clean_spaces(once) == once


@PROPERTY
@given(anything)
def test_fix_lookalikes_is_idempotent(text):
    once, _ = names.fix_lookalikes(text)
    again, changed = names.fix_lookalikes(once)
    assert again == once and not changed


@PROPERTY
@given(anything)
@example("ǅ")
@example("İ")
@example("ß")
def test_fold_is_idempotent(text):
    once = names.fold(text)
    assert names.fold(once) == once


@PROPERTY
@given(name_word, name_word, st.one_of(st.none(), name_word))
def test_name_key_of_a_key_is_the_key(surname, name, patronymic):
    key = names.name_key(surname, name, patronymic)
    assert names.fold(key) == key
    assert names.name_key(*key.split(" ")) == key  # Cyrillic words: one word per part
    assert key == names.name_key(surname.upper(), name.upper(), patronymic and patronymic.upper())


@PROPERTY
@given(anything)
@example("5 «А»")
@example("11-б кл.")
def test_canonical_class_is_idempotent(text):
    try:
        once = names.canonical_class(text)
    except ValueError:
        return
    assert names.canonical_class(once) == once
    assert 1 <= names.class_grade(once) <= 11


@PROPERTY
@given(anything)
def test_split_full_name_of_its_own_parts_gives_them_back(text):
    try:
        parts = names.split_full_name(text)
    except ValueError:
        return
    assert names.split_full_name(names.full_name(*parts)) == parts


def _normaliser() -> Normaliser:
    return Normaliser(KEY, date(2026, 9, 1), 2026)


@PROPERTY
@given(anything)
@example("Иванов\u202e")
@example("Ива\x00нов")
def test_roster_name_is_idempotent_and_refuses_only_with_invalid_value(text):
    try:
        fixed, folded, _ = _normaliser().name(text)
    except InvalidValue:
        return
    again, folded_again, changed = _normaliser().name(fixed)
    assert (again, folded_again, changed) == (fixed, folded, False)
    assert folded == names.fold(fixed)
    assert not any(c in BIDI_CONTROLS or unicodedata.category(c) == "Cc" for c in fixed)


@PROPERTY
@given(anything)
@example("Иванов Пётр Рашид оглы")
@example("Римская - Корсакова Анна")
def test_roster_full_name_is_idempotent_and_matches_name_key(text):
    try:
        surname, name, patronymic, _, key = _normaliser().full_name(text)
    except InvalidValue:
        return
    assert key == names.name_key(surname, name, patronymic)
    again = _normaliser().full_name(names.full_name(surname, name, patronymic))
    assert again == (surname, name, patronymic, False, key)


# --- logins: ASCII, stable, unique -------------------------------------------------------------


@PROPERTY
@given(anything)
@example("Юлия")
@example("Ъ")
@example("Римская - Корсакова")
def test_login_part_is_short_lower_ascii_and_stable(text):
    part = login_part(text)
    assert part == login_part(text)  # the same name always gives the same part
    assert part.isascii() and len(part) <= PART_MAX
    assert part == "" or (part[0] != "-" and part[-1] != "-" and "--" not in part)
    assert set(part) <= set(string.ascii_lowercase + "-")
    assert login_part(part) == part  # a Latin part transliterates to itself


@PROPERTY
@given(anything, anything, st.one_of(st.none(), anything))
def test_login_stem_is_a_valid_login(child_name, child_surname, guardian_name):
    stem = login_stem(child_name, child_surname, guardian_name)
    assert LOGIN_RE.fullmatch(stem), stem
    assert normalise_login(stem) == stem
    assert stem == login_stem(child_name, child_surname, guardian_name)


@PROPERTY
@given(st.lists(name_word, min_size=2, max_size=2, unique=True))
def test_distinct_cyrillic_words_give_distinct_parts(words):
    # Lower-case Cyrillic words (no ъ/ь, which ICAO leaves out) transliterate one to one.
    a, b = (w.lower().replace("ё", "е") for w in words)
    if a == b or "ъ" in a + b or "ь" in a + b:
        return
    # ICAO spells some letter pairs alike (`ц` = ts, `тс` = ts; `х`/`кх`; `и`+`е`...): only
    # words that differ in the transliteration as a whole can be held to it.
    if names.transliterate(a).lower() == names.transliterate(b).lower():
        return
    if max(len(names.transliterate(a)), len(names.transliterate(b))) > PART_MAX:
        return
    assert login_part(a) != login_part(b)


login_stems = st.builds(
    login_stem,
    st.sampled_from(["Пётр", "Анна", "Юлия", "Петр", "Pyotr", ""]),
    st.sampled_from(["Иванов", "Иванова", "Ivanov", "Щукин"]),
    st.one_of(st.none(), st.sampled_from(["Мария", "Олег"])),
)


@PROPERTY
@given(
    st.lists(login_stems, max_size=60),
    st.sets(
        st.one_of(
            login_stems,
            st.builds(lambda s, n: f"{s}{n}", login_stems, st.integers(0, 120)),
        ),
        max_size=40,
    ),
)
def test_allocate_hands_out_unique_free_logins_in_order(stems, taken):
    before = set(taken)
    logins = allocate(stems, taken)
    assert len(logins) == len(stems)
    assert len(set(logins)) == len(logins)  # no two guardians share one login
    assert not set(logins) & before  # never one already issued
    assert taken == before | set(logins)
    for stem, login in zip(stems, logins, strict=True):
        assert (
            login.startswith(stem) and login[len(stem) :] in ("",) or login[len(stem) :].isdigit()
        )
        assert LOGIN_RE.fullmatch(login)


# --- documents: any text refused with ValueError only; canonical forms are fixed points ------

document_text = st.one_of(
    anything,
    st.text(alphabet="IVXLCDMХСМІӀ1ivxАБВГДЕМЮЯмюяABCEHKMOPTXY-№ 0123456789.", max_size=20),
    st.builds(
        lambda s, n: f"{s}-{n}",
        st.sampled_from(["IV-МЮ", "ХІІ-ЯЯ", "I-AB"]),
        st.text(alphabet=string.digits, max_size=8),
    ),  # fmt: skip
    st.text(alphabet=string.digits + " -", max_size=16),
)


@pytest.mark.parametrize(
    "normalise",
    [documents.normalise_certificate, documents.normalise_passport, documents.normalise_snils],
)
@PROPERTY
@given(document_text)
@example("IV-МЮ 123456")
@example("ⅠⅤ-МЮ 123456")
@example("IV-МЮ ١٢٣٤٥٦")  # Arabic-Indic digits are digits to str.isdigit
@example("²²²²²²²²²²²")  # superscripts too
@example("4508 ١٢٣٤٥٦")
def test_document_parsing_refuses_only_with_value_error_and_is_idempotent(normalise, text):
    try:
        canonical = normalise(text)
    except ValueError:
        return
    assert normalise(canonical) == canonical
    assert canonical.isascii() or normalise is documents.normalise_certificate
    assert all(c in "0123456789 -" or c.isalpha() for c in canonical)
    kind = {
        documents.normalise_certificate: "certificate",
        documents.normalise_passport: "passport",
        documents.normalise_snils: "snils",
    }[normalise]
    assert documents.fingerprint(kind, text, KEY) == documents.fingerprint(kind, canonical, KEY)


@PROPERTY
@given(st.one_of(document_text, st.integers(), st.floats(), st.none(), st.booleans()))
def test_document_cells_of_any_type_refuse_with_value_error(value):
    for normalise in (
        documents.normalise_certificate,
        documents.normalise_passport,
        documents.normalise_snils,
    ):
        with contextlib.suppress(ValueError):
            normalise(value)


@PROPERTY
@given(document_text, st.one_of(st.none(), document_text))
@example("IV-МЮ", "١٢٣٤٥٦")
@example("IV-МЮ ١٢٣٤٥٦", None)
def test_roster_certificate_fingerprints_equal_the_shared_ones(series, number):
    try:
        mine = _normaliser().certificate_fp(series, number)
    except InvalidValue:
        with pytest.raises(ValueError):
            documents.normalise_certificate(series, number)
        return
    canonical = documents.normalise_certificate(series, number)
    assert mine == documents.fingerprint("certificate", canonical, KEY)


@PROPERTY
@given(document_text)
@example("112-233-445 95")
@example("١١٢-٢٣٣-٤٤٥ ٩٥")  # SNILS in Arabic-Indic digits: the same number
@example("١١٢٢٣٣٤٤٥")
@example("²²²²²²²²²²²")
def test_roster_snils_fingerprints_equal_the_shared_ones(value):
    # A text cell of 9 or 10 digits lost its leading zeros in a number cell saved as CSV.
    lost_zeros = 9 <= len(value) < 11 and value.isascii() and value.isdigit()
    padded = value.zfill(11) if lost_zeros else value
    try:
        mine = _normaliser().snils_fp(value)
    except InvalidValue:
        with pytest.raises(ValueError):
            documents.normalise_snils(padded)
        return
    assert mine == documents.fingerprint("snils", padded, KEY)


# --- clean_text ---------------------------------------------------------------------------------


@PROPERTY
@given(anything, st.booleans())
@example("a\u0306\u0301", False)
@example("\u1100\u1161\u11a8", False)  # Hangul jamo compose under NFC
@example("x\u200b\u0306", False)  # a combining mark after an invisible character
@example("a\r\n \nb", True)
def test_clean_text_is_idempotent_and_leaves_nothing_that_hides_text(text, multiline):
    try:
        once = clean_text(text, "field", 1000, multiline=multiline)
    except ValueError as error:
        assert str(error).startswith("field ")
        return
    assert clean_text(once, "field", 1000, multiline=multiline) == once
    assert once == once.strip()
    for char in once:
        assert char not in BIDI_CONTROLS
        assert char == "\n" and multiline or unicodedata.category(char) != "Cc"
        assert char not in "\u200b\u2060\ufeff\u00ad"


@PROPERTY
@given(st.text(max_size=30), st.integers(0, 30))
def test_clean_text_never_returns_more_than_the_limit(text, limit):
    with contextlib.suppress(ValueError):
        assert len(clean_text(text, "field", limit)) <= limit
