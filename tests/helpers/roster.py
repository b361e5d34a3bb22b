"""Writers of real roster files for the roster tests (openpyxl for xlsx, bytes for CSV)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from diaryadmin.config import Settings
from diaryadmin.models import Enrolment, Guardian, Guardianship, Student
from diaryadmin.roster.importing import import_roster, read_roster

NOW = datetime(2026, 10, 1, 9, 30)  # school year 2026/27
SECRET = "test-secret-key-0123456789abcdef"

HEADER = ["ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс"]


def write_xlsx(
    path: Path,
    rows: list[list],
    *,
    sheet: str = "Лист1",
    title: str | None = None,
    more: dict[str, list[list]] | None = None,
) -> Path:
    """An xlsx with `rows` (header first) on `sheet`, below a title and a blank row if given."""
    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    if title:
        ws.append([title])
        ws.append([])
    for row in rows:
        ws.append(row)
    for name, other in (more or {}).items():
        extra = workbook.create_sheet(name)
        for row in other:
            extra.append(row)
    workbook.save(path)
    return path


def write_csv(
    path: Path,
    rows: list[list],
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
    newline: str = "\r\n",
) -> Path:
    """CSV as real bytes in `encoding` (values are not quoted: tests keep them simple)."""
    text = newline.join(delimiter.join("" if v is None else str(v) for v in row) for row in rows)
    path.write_bytes((text + newline).encode(encoding))
    return path


def do_import(sessions, paths, now: datetime = NOW, **options):
    """Import through the core function in one transaction, as the CLI does."""
    settings = Settings(secret_key=SECRET)
    with sessions() as session, session.begin():
        return import_roster(
            session,
            [Path(p) for p in paths],
            settings=settings,
            operator="test",
            now=now,
            **options,
        )


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Student, Guardian, Guardianship, Enrolment)
        }


def students(sessions) -> dict[str, Student]:
    """Students by 'Surname Name'."""
    with sessions() as session:
        return {f"{s.surname} {s.name}": s for s in session.scalars(select(Student))}


def parse(paths, now: datetime = NOW, **options):
    """Read roster files into records without a database (most parsing tests need none)."""
    return read_roster(
        [Path(p) for p in paths], settings=Settings(secret_key=SECRET), now=now, **options
    )


def parsed_one(paths, **options):
    """The only student record of a file that must parse cleanly."""
    result = parse(paths, **options)
    assert result.errors == []
    [record] = result.students
    return record
