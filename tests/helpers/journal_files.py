"""Journal files for import tests: a long-form xlsx writer and row counts."""

from __future__ import annotations

from openpyxl import Workbook
from sqlalchemy import func, select

from diaryadmin.models import Absence, Lesson, Mark

HEADER = [
    "Дата", "№ урока", "Класс", "Предмет", "Учитель", "Тема", "ДЗ", "ID ученика", "ФИО ученика",
    "Отметка", "Вес", "Вид работы", "Пропуск", "Комментарий",
]  # fmt: skip


def write_xlsx(path, rows, header=HEADER, title_rows=()):
    book = Workbook()
    sheet = book.active
    sheet.title = "Оценки"
    for row in title_rows:
        sheet.append(row)
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def counts(session):
    return (
        session.scalar(select(func.count(Lesson.id))),
        session.scalar(select(func.count(Mark.id))),
        session.scalar(select(func.count(Absence.id))),
    )
