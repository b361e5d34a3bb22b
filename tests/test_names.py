import pytest
from hypothesis import given
from hypothesis import strategies as st

from diaryadmin.people.names import (
    LOOKALIKES,
    canonical_class,
    class_grade,
    clean_spaces,
    edit_distance,
    fix_lookalikes,
    fold,
    name_key,
    split_full_name,
    title_case_name,
    transliterate,
    within_one_edit,
)


def test_lookalike_table_maps_latin_to_cyrillic():
    assert len(LOOKALIKES) == 19
    for latin, cyrillic in LOOKALIKES.items():
        assert latin.isascii() and "\u0400" <= cyrillic <= "\u04ff"


@pytest.mark.parametrize(
    ("text", "expected", "changed"),
    [
        ("Ивaнов", "Иванов", True),  # Latin a
        ("ПЕTPOB", "ПЕТРОВ", True),
        ("Римская-Kорсакова", "Римская-Корсакова", True),
        ("Smith-Иванова", "Smith-Иванова", False),  # the Latin part has no Cyrillic letter
        ("Maria Ивaнова", "Maria Иванова", True),
        ("Иванов", "Иванов", False),
        ("Pop", "Pop", False),
    ],
)
def test_fix_lookalikes(text, expected, changed):
    assert fix_lookalikes(text) == (expected, changed)


def test_clean_spaces():
    assert clean_spaces("  Римская - Корсакова\u00a0 Анна\t") == "Римская-Корсакова Анна"
    assert clean_spaces("Римская -Корсакова") == "Римская-Корсакова"
    assert clean_spaces("Римская– Корсакова") == "Римская-Корсакова"
    assert clean_spaces("a\u200bb  \n c") == "ab c"


def test_fold_and_name_key():
    assert fold(" ПЁТР ") == "петр"
    assert fold("Сeмёнов") == fold("семенов")
    assert name_key("Иванова", "Алёна", None) == "иванова алена"
    assert name_key("Иванова", "Алёна", "  ") == "иванова алена"
    assert name_key("ИВAНОВА", "Алена", "Петровна") == name_key("иванова", "алёна", "петровна")
    assert name_key("Римская - Корсакова", "Анна") == "римская-корсакова анна"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов Иван", ("Иванов", "Иван", None)),
        ("  Иванов  Иван Иванович ", ("Иванов", "Иван", "Иванович")),
        ("Римская - Корсакова Анна Петровна", ("Римская-Корсакова", "Анна", "Петровна")),
        ("Мамедов Эльчин Рашид оглы", ("Мамедов", "Эльчин", "Рашид оглы")),
        ("Алиева Лейла Рашид КЫЗЫ", ("Алиева", "Лейла", "Рашид КЫЗЫ")),
    ],
)
def test_split_full_name(text, expected):
    assert split_full_name(text) == expected


@pytest.mark.parametrize("text", ["", "  ", "Иванов", "Иванов Иван Иванович Петрович"])
def test_split_full_name_refuses(text):
    with pytest.raises(ValueError):
        split_full_name(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5А", "5А"),
        ("5 А", "5А"),
        ("5-а", "5А"),
        ("5«А»", "5А"),
        ('5"А"', "5А"),
        ("5'а'", "5А"),
        ("10 б", "10Б"),
        ("5A", "5А"),  # Latin A
        ("5a", "5А"),  # Latin a
        ("11Б", "11Б"),
        ("1 в", "1В"),
        (" 9  Г ", "9Г"),
    ],
)
def test_canonical_class(text, expected):
    assert canonical_class(text) == expected


@pytest.mark.parametrize("text", ["0А", "12А", "5", "5АБ", "А", "5b", "5 1", "", "5Q"])
def test_canonical_class_refuses(text):
    with pytest.raises(ValueError):
        canonical_class(text)


def test_class_grade():
    assert class_grade("10-б") == 10
    assert class_grade("5А") == 5


def test_transliterate_icao():
    assert transliterate("Щукина Юлия") == "Shchukina Iuliia"
    assert transliterate("Ёлкин") == "Elkin"


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("иванов", "иванов", 0),
        ("иванов", "иваноф", 1),
        ("иванов", "иванова", 1),
        ("иванова", "иванов", 1),
        ("иванов", "ианов", 1),
        ("иванов", "ивнаов", 2),
        ("", "а", 1),
        ("", "", 0),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance
    assert within_one_edit(a, b) is (distance <= 1)


@given(st.text(alphabet="абвгд", max_size=8), st.text(alphabet="абвгд", max_size=8))
def test_within_one_edit_agrees_with_edit_distance(a, b):
    assert within_one_edit(a, b) is (edit_distance(a, b) <= 1)


def test_title_case_name():
    assert title_case_name("ИВАНОВА") == "Иванова"
    assert title_case_name("римская-корсакова") == "Римская-Корсакова"
    assert title_case_name("МАМЕДОВ ЭЛЬЧИН РАШИД ОГЛЫ") == "Мамедов Эльчин Рашид оглы"
