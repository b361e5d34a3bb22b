from datetime import date, datetime, time

import pytest

from diaryadmin.io.cells import cell_text, parse_bool, parse_date, parse_float, parse_int

TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  \u00a0 ", None),
        ("  Иванов ", "Иванов"),
        (123.0, "123"),
        (79123456789.0, "79123456789"),
        (4.5, "4.5"),
        (5, "5"),
        ("'=SUM(A1)", "=SUM(A1)"),
        ("'+79123456789", "+79123456789"),
        ("'-5", "-5"),
        ("'@home", "@home"),
        ("'quoted'", "'quoted'"),
        ("'abc'=x", "'abc'=x"),
        (date(2015, 3, 1), "01.03.2015"),
        (datetime(2015, 3, 1), "01.03.2015"),
        (datetime(2015, 3, 1, 8, 30), "01.03.2015 08:30"),
        (time(8, 30), "08:30:00"),
        (True, "TRUE"),
    ],
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2015, 3, 1), date(2015, 3, 1)),
        (datetime(2015, 3, 1, 12, 0), date(2015, 3, 1)),
        (45000, date(2023, 3, 15)),
        (45000.75, date(2023, 3, 15)),
        (1, date(1900, 1, 1)),
        (59, date(1900, 2, 28)),
        (61, date(1900, 3, 1)),
        ("01.03.2015", date(2015, 3, 1)),
        ("1.3.2015", date(2015, 3, 1)),
        (" 01.03.2015 ", date(2015, 3, 1)),
        ("01.03.15", date(2015, 3, 1)),
        ("01.03.95", date(1995, 3, 1)),
        ("28.11.26", date(2026, 11, 28)),
        ("29.11.26", date(1926, 11, 29)),  # 2026-11-29 would be tomorrow
        ("2015-03-01", date(2015, 3, 1)),
        ("01/03/2015", date(2015, 3, 1)),
        ("01-03-2015", date(2015, 3, 1)),
        ("01.03.2015 0:00:00", date(2015, 3, 1)),
        ("2015-03-01 00:00:00", date(2015, 3, 1)),
        ("01.03.2015 г.", date(2015, 3, 1)),
        ("29.02.2016", date(2016, 2, 29)),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize("value", ["31.02.2015", "29.02.2015", "00.01.2015", "01.13.2015", 60])
def test_parse_date_impossible(value):
    with pytest.raises(ValueError, match="not a real date"):
        parse_date(value, today=TODAY)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "завтра",
        "2015",
        "01.03",
        "01.03/2015",
        0,
        -5,
        0.5,
        10**9,
        float("nan"),
        True,
        None,
        time(8, 0),
        "01.03.2015 abc",
    ],
)
def test_parse_date_refuses(value):
    with pytest.raises(ValueError):
        parse_date(value, today=TODAY)


@pytest.mark.parametrize(
    "value",
    [
        "да",
        "Да",
        "ДА.",
        "yes",
        "Y",
        "true",
        "TRUE",
        "1",
        "+",
        "д",
        "согласен",
        "Согласна",
        1,
        1.0,
        True,
        date(2026, 9, 1),
        datetime(2026, 9, 1, 10, 0),
        "01.09.2026",
    ],
)
def test_parse_bool_true(value):
    assert parse_bool(value) is True


@pytest.mark.parametrize(
    "value",
    ["нет", "Нет", "no", "N", "false", "0", "-", "н", "не согласен", "Не  согласна", 0, 0.0, False],
)
def test_parse_bool_false(value):
    assert parse_bool(value) is False


@pytest.mark.parametrize("value", [None, "", "может быть", 2, "31.02.2015"])
def test_parse_bool_refuses(value):
    with pytest.raises(ValueError):
        parse_bool(value)


def test_parse_numbers():
    assert parse_int("5") == 5
    assert parse_int(5.0) == 5
    assert parse_int(" 5,0 ") == 5
    assert parse_int("1 200") == 1200
    assert parse_float("4,5") == 4.5
    assert parse_float("4.5") == 4.5
    assert parse_float(4) == 4.0
    assert parse_float("-1,25") == -1.25
    for bad in ["", None, "abc", "4,5,6", True, "nan", "inf"]:
        with pytest.raises(ValueError):
            parse_float(bad)
    for bad in ["4,5", 4.5, "пять", None, False]:
        with pytest.raises(ValueError):
            parse_int(bad)
