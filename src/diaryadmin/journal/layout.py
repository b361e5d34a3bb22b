"""The layout of the journal workbooks: what `journal export` writes and the import reads back.

Sheet names, the labels of the head rows, the columns of the lesson lists and the lines of a
mark's cell note. The writer (`journal.export`) and the reader (`journal.read`) both import
these; neither imports the other.
"""

from __future__ import annotations

SUMMARY_SHEET = "Сводка"
LESSONS_SUFFIX = " (темы)"
LABEL_CLASS = "Класс"
LABEL_SUBJECT = "Предмет"
LABEL_PERIOD = "Период"
LABEL_YEAR = "Учебный год"
LABEL_COLUMN_WIDTH = 8.5  # column A: the № of students, and the labels above the table
HEADER_ROW = 3  # 0-based: dates
SEQ_ROW = 4  # 0-based: lesson numbers in the lesson list
FIRST_STUDENT_ROW = 5
FIRST_LESSON_COL = 3
COL_AVERAGE = "Средний балл"
COL_MISSED = "Пропущено уроков"
COL_PERIOD_GRADE = "Оценка за период"
LESSON_COLUMNS = (
    "№",
    "Дата",
    "Урок",
    "Класс",
    "Предмет",
    "Учитель",
    "Тема",
    "Домашнее задание",
    "Вид работы",
    "Вес",
)
NOTE_WEIGHT = "Вес"
NOTE_KIND = "Вид работы"
NOTE_TEACHER = "Учитель"
NOTE_COMMENT = "Комментарий"
# A mark without a kind of work, as its cell note writes it.
NO_KIND = "—"
