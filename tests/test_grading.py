"""Weighted averages, half-up rounding and counts, against hand-computed examples."""

from __future__ import annotations

import pytest

from diaryadmin.journal import grading


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        ([(5, 1), (4, 2), (4, 1)], 4.25),  # (5 + 8 + 4) / 4
        ([(5, 1), (4, 1), (4, 1)], 4.33),  # 13 / 3 = 4.333…
        ([(5, 1), (5, 1), (4, 1)], 4.67),  # 14 / 3 = 4.666…
        ([(5, 2), (2, 1)], 4.0),  # 12 / 3
        ([(5, 1.5), (3, 1)], 4.2),  # 10.5 / 2.5
        ([(4, 0.1), (5, 0.2)], 4.67),  # 1.4 / 0.3 = 4.666…, decimal weights
        ([(2, 1), (3, 1), (3, 1), (3, 1)], 2.75),
        ([(3, 1), (4, 0)], 3.0),  # a zero weight counts for nothing
    ],
)
def test_weighted_average_by_hand(marks, expected):
    assert grading.weighted_average(marks) == expected


def test_weighted_average_of_nothing_is_none():
    assert grading.weighted_average([]) is None
    assert grading.weighted_average([(5, 0)]) is None


def test_average_rounds_half_up_not_to_even():
    # 3.125 and 3.375 are exact in binary: round() would give 3.12 and 3.38 (to even).
    assert grading.weighted_average([(3, 7), (4, 1)]) == 3.13  # 25 / 8 = 3.125
    assert grading.weighted_average([(3, 5), (4, 3)]) == 3.38  # 27 / 8 = 3.375
    assert grading.round_average(2.675) == 2.68  # float 2.675 is 2.67499…; decimal is half-up


@pytest.mark.parametrize(
    ("average", "grade"),
    [
        (3.5, 4),
        (2.5, 3),
        (4.5, 5),
        (3.49, 3),
        (3.495, 4),  # shown as 3.50, so 4
        (4.25, 4),
        (1.0, 1),
        (None, None),
    ],
)
def test_suggested_grade_rounds_x5_up(average, grade):
    assert grading.suggested_grade(average) == grade


def test_counts_and_missed_lessons():
    codes = ["Н", "Б", "Б", "ОП", "УП", "Н"]
    assert grading.count_codes(codes) == {"Н": 2, "Б": 2, "УП": 1, "ОП": 1}
    assert grading.count_codes([]) == {"Н": 0, "Б": 0, "УП": 0, "ОП": 0}
    assert grading.missed(codes) == 5  # a late arrival is not a missed lesson


@pytest.mark.parametrize(
    ("text", "code"),
    [("Н", "Н"), ("н", "Н"), ("H", "Н"), ("б", "Б"), ("уп", "УП"), ("ОП", "ОП"), ("нб", "Н")],
)
def test_absence_codes_forgive_case_and_latin(text, code):
    assert grading.parse_absence_code(text) == code


@pytest.mark.parametrize("text", ["X", "П", "болел", ""])
def test_unknown_absence_code(text):
    with pytest.raises(ValueError, match="unknown attendance code"):
        grading.parse_absence_code(text)


@pytest.mark.parametrize("value", [0, 6, 4.5, "5+", "отл"])
def test_marks_outside_1_to_5_are_refused(value):
    with pytest.raises(ValueError):
        grading.parse_mark(value)


def test_marks_and_kinds():
    assert grading.parse_mark("5") == 5
    assert grading.parse_mark(4.0) == 4
    assert grading.weight_for_kind("Контрольная  работа") == 2.0
    assert grading.weight_for_kind("самостоятельная работа") == 1.5
    assert grading.weight_for_kind("что-то своё") == 1.0
    assert grading.weight_for_kind(None) == 1.0


def test_at_risk():
    assert grading.at_risk(2.99, None)
    assert grading.at_risk(4.0, 2)
    assert not grading.at_risk(3.0, 3)
    assert not grading.at_risk(None, None)
