"""journal export: the workbook read back cell by cell, notes, print setup, charts, formula
injection, a class without lessons, a student who moved class, and the CLI."""

from __future__ import annotations

import csv
import json
import shutil
import stat
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from diaryadmin.errors import Refused
from diaryadmin.journal import export as journal_export
from diaryadmin.journal.data import load_class_journal
from diaryadmin.journal.periods import DateRange, resolve_range
from helpers import factories
from helpers.journal import INJECTED_NAME, INJECTED_SURNAME, build_journal


@pytest.fixture
def exported(sessions, tmp_path):
    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        report = journal_export.export_journals(
            session,
            built["school"],
            [built["a"]],
            dates,
            tmp_path / "5А.xlsx",
            folder=False,
            operator="op",
        )
    assert report["files"][0]["marks"] == 7  # every mark but Волков's 5 in 5Б
    return tmp_path / "5А.xlsx"


def values(sheet, rows, columns):
    return [[sheet.cell(r, c).value for c in range(1, columns + 1)] for r in rows]


def test_subject_sheet_cell_by_cell(exported):
    book = load_workbook(exported)
    assert book.sheetnames == [
        "Сводка",
        "Математика",
        "Математика (темы)",
        "Русский язык",
        "Русский язык (темы)",
    ]
    sheet = book["Математика"]
    assert values(sheet, [1, 2], 2) == [["Класс", "5А"], ["Предмет", "Математика"]]
    # Year and dates as text that runs on over the narrow columns (a date there shows ###).
    assert (sheet["C1"].value, sheet["D1"].value) == ("Учебный год 2026/27", None)
    assert sheet["B3"].value == "Q1"
    assert (sheet["C3"].value, sheet["D3"].value) == ("01.09.2026 – 24.10.2026", None)
    assert sheet.column_dimensions["A"].width >= len("Предмет") + 1
    # Lessons: 02.09 (1st and 3rd lesson of the day, two marks for one student), 09.09, 05.10
    # (ОП + 4): a day with two lessons of the subject shows their numbers.
    assert values(sheet, [4], 12) == [
        [
            "№",
            "Ученик",
            "ID",
            "02.09/1",
            None,
            "02.09/3",
            "09.09",
            "05.10",
            None,
            "Средний балл",
            "Пропущено уроков",
            "Оценка за период",
        ]
    ]
    assert values(sheet, [5], 9)[0][3:] == [1, 1, 2, 3, 4, 4]
    assert values(sheet, range(6, 10), 12) == [
        [1, f"{INJECTED_SURNAME} {INJECTED_NAME}", "E3", None, None, "Б", None, None, None,
         None, 1, None],
        [2, "Алексеева Анна", "A1", 5, 4, None, 4, None, None, 4.25, 0, 4],
        [3, "Борисов Борис", "B2", 2, None, None, "Н", "ОП", 4, 3, 1, 2],
        [4, "Волков Василий", "V4", 4, None, None, None, None, None, 4, 0, None],
    ]  # fmt: skip
    assert sheet.max_row == 9
    # Marks are numbers, codes and names text; nothing is a formula.
    assert sheet["D7"].data_type == "n" and sheet["G8"].data_type == "s"
    assert sheet["B6"].data_type == "s"
    assert sheet["J7"].number_format == "0.00"
    assert sheet["E7"].comment.text == (
        "Вес: 2\nВид работы: контрольная работа\nКомментарий: =молодец\nвторая строка"
    )
    assert sheet["I8"].comment.text == "Комментарий: опоздал, но ответил"
    assert sheet["D7"].comment is None
    # Colour for 2s and absences.
    assert sheet["D8"].fill.fgColor.rgb.endswith("F8CBAD")
    assert sheet["G8"].fill.fgColor.rgb.endswith("FFF2CC")
    assert sheet["D7"].fill.fgColor.rgb in (None, "00000000")
    # Print setup and frozen panes.
    assert sheet.freeze_panes == "D6"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth in (None, 1)  # 1 is the default, left unwritten
    assert sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$4:$5"
    assert sheet.column_dimensions["B"].width > 14


def test_lesson_list_and_teacher_note(exported):
    book = load_workbook(exported)
    topics = book["Русский язык (темы)"]
    assert values(topics, [1], 8) == [
        ["№", "Дата", "Урок", "Класс", "Предмет", "Учитель", "Тема", "Домашнее задание"]
    ]
    rows = values(topics, [2, 3], 8)
    assert rows[0][1].date() == date(2026, 9, 3)
    assert rows[0][2:] == [2, "5А", "Русский язык", "Соколова Елена Викторовна",
                           "=cmd|' /C calc'!A0", "@SUM(1)"]  # fmt: skip
    assert rows[1][6:] == ["Орфограммы", "- повторить правила"]
    assert topics["G2"].data_type == "s"
    russian = book["Русский язык"]
    assert russian["D6"].value == 3
    assert russian["D6"].comment.text == "Учитель: Кузнецов Андрей Павлович"
    assert russian["D7"].value == "УП"
    maths_topics = book["Математика (темы)"]
    assert [r[6] for r in values(maths_topics, range(2, 6), 8)] == [
        "Натуральные числа",
        "Сложение",
        "Вычитание",
        "Контрольная работа",
    ]
    assert maths_topics.cell(3, 8).value is None  # a lesson without homework


def test_no_formula_anywhere(exported):
    with zipfile.ZipFile(exported) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 5
        for name in sheets:
            assert b"<f>" not in archive.read(name), name
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        bar, line = (archive.read(n) for n in sorted(charts))
        assert b"<c:barChart>" in bar and b"<c:lineChart>" in line


def test_summary_sheet(exported):
    sheet = load_workbook(exported)["Сводка"]
    assert values(sheet, [4], 13) == [
        ["№", "Ученик", "Математика", None, "Русский язык", None, "Н", "Б", "УП", "ОП",
         "Всего пропущено", "С первого урока", "С последнего урока"]
    ]  # fmt: skip
    assert values(sheet, [5], 6)[0][2:] == ["ср.", "итог", "ср.", "итог"]
    # Days: 02.09 lessons 1 and 3; 03.09 only lesson 2; 09.09 only lesson 2.
    assert values(sheet, range(6, 10), 13) == [
        [1, f"{INJECTED_SURNAME} {INJECTED_NAME}", None, None, 3, None, 0, 1, 0, 0, 1, 0, 1],
        [2, "Алексеева Анна", 4.25, 4, None, None, 0, 0, 1, 0, 1, 1, 1],
        [3, "Борисов Борис", 3, 2, None, None, 1, 0, 0, 1, 1, 1, 1],
        [4, "Волков Василий", 4, None, None, None, 0, 0, 0, 0, 0, 0, 0],
    ]  # fmt: skip
    # Class average over every mark: maths (5 + 8 + 4 + 2 + 4 + 4) / 7 = 27/7 = 3.857…
    assert values(sheet, [10], 5) == [[None, "Средний по классу", 3.86, None, 3]]
    assert values(sheet, [12, 13, 14], 3) == [
        [None, "Предмет", "Средний балл"],
        [None, "Математика", 3.86],
        [None, "Русский язык", 3],
    ]
    assert sheet["B16"].value == "Неделя (с понедельника)"
    weeks = [(r[1].date(), r[2]) for r in values(sheet, range(17, 20), 3)]
    # Week of 31.08: 5, 4×2, 2, 4 (02.09) and 3 (03.09) → 22/6; of 07.09: 4; of 05.10: 4.
    assert weeks == [(date(2026, 8, 31), 3.67), (date(2026, 9, 7), 4), (date(2026, 10, 5), 4)]


def test_moved_student_keeps_marks_with_the_class_they_were_in(sessions, tmp_path):
    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        journal_b = load_class_journal(session, built["b"], dates)
        assert [s.label for s in journal_b.students] == ["Волков Василий"]
        journal_export.export_journals(
            session, built["school"], [built["b"]], dates, tmp_path / "b.xlsx",
            folder=False, operator="op",
        )  # fmt: skip
        # Before the move only: 5Б has a lesson but Волков was not yet in it and has no marks.
        sept = DateRange(date(2026, 9, 1), date(2026, 9, 30))
        assert load_class_journal(session, built["b"], sept).students == []
    sheet = load_workbook(tmp_path / "b.xlsx")["Математика"]
    assert values(sheet, [6], 7) == [[1, "Волков Василий", "V4", 5, 5, 0, None]]


def test_class_without_lessons(sessions, tmp_path):
    with sessions() as session, session.begin():
        build_journal(session)
        empty = factories.school_class(session, "6В")
        factories.student(session, "Пустов", "Павел", class_name="6В", external_id="P9")
        school = factories.school(session)
        dates = resolve_range(session, school, "Q1")
        report = journal_export.export_journals(
            session, school, [empty], dates, tmp_path / "6В.xlsx", folder=False, operator="op"
        )
    assert report["files"][0]["lessons"] == 0 and report["files"][0]["students"] == 1
    book = load_workbook(tmp_path / "6В.xlsx")
    assert book.sheetnames == ["Сводка"]
    assert book["Сводка"]["A5"].value == "Нет уроков за период."


def test_refuses_to_overwrite(sessions, tmp_path, exported):
    with sessions() as session, session.begin():
        school = factories.school(session)
        klass = factories.school_class(session, "5А")
        dates = resolve_range(session, school, "Q1")
        with pytest.raises(Exception, match="already exists"):
            journal_export.export_journals(
                session, school, [klass], dates, exported, folder=False, operator="op"
            )


@pytest.mark.skipif(
    not (shutil.which("libreoffice") or shutil.which("soffice")),
    reason="LibreOffice is not installed",
)
def test_libreoffice_opens_it_without_repair_and_shows_the_values(exported, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    out = tmp_path / "csv"
    # Filter options: comma, double quote, UTF-8, ..., values as shown, -1 = every sheet.
    options = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    done = subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
         "--convert-to", options, "--outdir", str(out), str(exported)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    book = load_workbook(exported)
    compared = 0
    for sheet in book.worksheets:
        csv_path = out / f"{exported.stem}-{sheet.title}.csv"
        assert csv_path.exists(), f"LibreOffice did not convert sheet {sheet.title!r}"
        shown = list(csv.reader(csv_path.read_text(encoding="utf-8").splitlines()))
        for row in sheet.iter_rows():
            for cell in row:
                value = cell.value
                if value is None or isinstance(value, datetime | date):
                    continue
                text = shown[cell.row - 1][cell.column - 1]
                if isinstance(value, str):
                    assert text == value, (sheet.title, cell.coordinate)
                else:
                    assert float(text) == pytest.approx(value, abs=0.005), (
                        sheet.title,
                        cell.coordinate,
                    )
                compared += 1
    assert compared > 100
    every_text = "\n".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    assert INJECTED_SURNAME.replace('"', '""') in every_text  # text, not a formula


def test_cli_export_all_and_one(run_cli, sessions, workdir):
    with sessions() as session, session.begin():
        build_journal(session)
    one = run_cli("journal", "export", "--class", "5 а", "--period", "Q1", "--out", "j.xlsx")
    assert one.exit_code == 0, one.output
    assert (workdir / "j.xlsx").exists()
    assert "Exported 1 class journal for Q1, 01.09.2026 – 24.10.2026." in one.output
    every = run_cli(
        "journal", "export", "--all", "--from", "01.09.2026", "--to", "31.10.2026",
        "--out", "journals", "--format", "json",
    )  # fmt: skip
    assert every.exit_code == 0, every.output
    report = json.loads(every.stdout)
    assert [f["class"] for f in report["files"]] == ["5А", "5Б"]
    assert sorted(p.name for p in (workdir / "journals").iterdir()) == ["5А.xlsx", "5Б.xlsx"]
    grid = load_workbook(workdir / "journals" / "5А.xlsx")["Математика"]
    assert grid["B3"].value is None and grid["L4"].value == "Оценка за период"
    assert grid["L7"].value is None  # no period named, so no period grades
    again = run_cli("journal", "export", "--all", "--period", "Q1", "--out", "journals")
    assert again.exit_code == 1
    assert "already exist" in again.output
    forced = run_cli("journal", "export", "--all", "--period", "Q1", "--out", "journals", "--force")
    assert forced.exit_code == 0, forced.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--period", "Q1", "--out", "x.xlsx"], 2, "Name classes with --class, or use --all"),
        (["--class", "5А", "--out", "x.xlsx"], 1, "Name a period (--period Q1)"),
        (["--class", "9Я", "--period", "Q1", "--out", "x.xlsx"], 1, "There is no class 9Я"),
        (["--class", "5А", "--period", "Q5", "--out", "x.xlsx"], 1, "There is no period 'Q5'"),
        (["--class", "5А", "--class", "5Б", "--period", "Q1", "--out", "x.xlsx"], 1,
         "Several classes go into a folder"),
    ],
)  # fmt: skip
def test_cli_export_mistakes(run_cli, sessions, args, code, message):
    with sessions() as session, session.begin():
        build_journal(session)
    result = run_cli("journal", "export", *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not Path("x.xlsx").exists()


def test_worker_processes_write_the_same_workbooks(run_cli, sessions, workdir):
    with sessions() as session, session.begin():
        build_journal(session)
    for jobs in ("1", "2"):
        result = run_cli(
            "journal", "export", "--all", "--period", "Q1", "--out", f"jobs{jobs}", "--jobs", jobs
        )
        assert result.exit_code == 0, result.output

    def cells(path):
        book = load_workbook(path)
        return {
            (sheet.title, cell.coordinate): (cell.value, cell.comment and cell.comment.text)
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.value is not None
        }

    for name in ("5А.xlsx", "5Б.xlsx"):
        serial, parallel = cells(workdir / "jobs1" / name), cells(workdir / "jobs2" / name)
        assert serial == parallel and len(serial) > 20


# --- hostile text, leftovers of a killed export, two exports at once -----------------------------

HIDDEN = "\x01\x02\x03\x0b\x1b\x7f\x9b\u202a\u202e\u2066\u2069\u200b\ufeff"


def test_hostile_text_is_shown_clean_and_formulas_stay_text(sessions, tmp_path):
    from xml.dom import minidom

    from sqlalchemy import select

    from diaryadmin.models import Lesson, Mark, Student, Subject, Teacher

    with sessions() as session, session.begin():
        built = build_journal(session)
        maths = session.scalar(select(Subject).where(Subject.name == "Математика"))
        maths.name = "=Мате\x01матика\u202e[1]"
        student = session.scalar(select(Student).where(Student.surname == "Борисов"))
        student.surname, student.name = "Бори\u202eсов\x1b", "@Борис\u2066"
        lesson = session.scalar(select(Lesson).where(Lesson.subject_id == maths.id).limit(1))
        lesson.topic, lesson.homework = "=1+1 Нату\x02ральные\u202a числа", "№ 5\x0b, 6\r\n№ 7"
        teacher = session.get(Teacher, lesson.teacher_id)
        teacher.surname = "Кузне\x7fцов\u200b"
        mark = session.scalar(select(Mark).where(Mark.lesson_id == lesson.id).limit(1))
        mark.comment, mark.kind = "+устно\x03\u2069", "Сам\x9bостоятельная"
        session.flush()
        dates = resolve_range(session, built["school"], "Q1")
        journal_export.export_journals(
            session, built["school"], [built["a"]], dates, tmp_path / "5А.xlsx",
            folder=False, operator="op",
        )  # fmt: skip
    path = tmp_path / "5А.xlsx"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with zipfile.ZipFile(path) as archive:  # every part is well-formed XML
        for name in archive.namelist():
            if name.endswith((".xml", ".vml", ".rels")):
                minidom.parseString(archive.read(name))
    book = load_workbook(path)
    assert book.sheetnames[1:3] == ["=Математика_1_", "=Математика_1_ (темы)"]
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    texts += [c.comment.text for c in cells if c.comment]
    assert not [t for t in texts if any(ch in t for ch in HIDDEN + "\r")]
    by_text = {c.value: c for c in cells if isinstance(c.value, str)}
    for shown in ("=Математика[1]", "Борисов @Борис", "=1+1 Натуральные числа", "№ 5, 6\n№ 7"):
        assert by_text[shown].data_type == "s", shown  # text, never a formula
    assert "Кузнецов Андрей Павлович" in by_text
    notes = [c.comment.text for c in cells if c.comment]
    assert any("Вид работы: Самостоятельная\nКомментарий: +устно" in t for t in notes)


def _export_command(database_url: str, out: Path, *more: str) -> list[str]:
    from helpers import kill

    return kill.cli(
        database_url, "journal", "export", "--class", "5А", "--period", "Q1", "--out", str(out),
        *more,
    )  # fmt: skip


def test_a_second_export_into_the_folder_refuses_while_the_first_writes(
    database_url, sessions, tmp_path
):
    from helpers import kill

    with sessions() as session, session.begin():
        build_journal(session)
    out = tmp_path / "5А.xlsx"
    command = _export_command(database_url, out)
    first = kill.paused_at("before-commit", command, kill.cli_env(), tmp_path)
    try:
        pending = kill.hidden(tmp_path)
        assert len(pending) == 1 and pending[0].startswith(".5А.xlsx.") and not out.exists()
        env = kill.cli_env(DIARYADMIN_SQLITE_BUSY_SECONDS="1")
        second = kill.run([*command, "--force"], env, tmp_path)
        if database_url.startswith("sqlite"):
            # SQLite's write lock already keeps the second out: it waits, then gives up.
            assert second.returncode == 4 and "locked" in second.stderr, second.stderr
        else:
            assert second.returncode == 1, second.stderr
            assert f"Another export is writing into {tmp_path}; try again" in second.stderr
        assert kill.hidden(tmp_path) == pending and not out.exists()  # the first one's, untouched
    finally:
        first.kill()
        first.wait(10)
        first.stderr.close()
    # Killed before its commit: its file was never published; the next export removes it.
    third = kill.run(_export_command(database_url, out), kill.cli_env(), tmp_path)
    assert third.returncode == 0, third.stderr
    assert f"Removed {tmp_path / pending[0]}, left by an interrupted run" in third.stderr
    assert kill.hidden(tmp_path) == [] and load_workbook(out)["Сводка"]["B1"].value == "5А"


def test_files_appear_only_when_the_export_is_committed(sessions, tmp_path):
    with sessions() as session:
        with session.begin():
            built = build_journal(session)
        with session.begin():
            dates = resolve_range(session, built["school"], "Q1")
            journal_export.export_journals(
                session, built["school"], [built["a"], built["b"]], dates, tmp_path / "all",
                folder=True, operator="op",
            )  # fmt: skip
            staged = sorted(p.name for p in (tmp_path / "all").iterdir())
            assert len(staged) == 2 and all(".pending.xlsx" in name for name in staged)
            session.rollback()
        assert list((tmp_path / "all").iterdir()) == []  # rolled back: removed
        with session.begin():
            journal_export.export_journals(
                session, built["school"], [built["a"], built["b"]], dates, tmp_path / "all",
                folder=True, operator="op",
            )  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "all").iterdir()) == ["5А.xlsx", "5Б.xlsx"]


def test_an_export_into_a_locked_folder_refuses_and_leaves_it_alone(sessions, tmp_path):
    with sessions() as session, session.begin():
        built = build_journal(session)
        dates = resolve_range(session, built["school"], "Q1")
        out = tmp_path / "out"
        out.mkdir()
        with journal_export._folder_lock(out):  # as another export holds it
            with pytest.raises(Refused, match="^Another export is writing into .+; try again"):
                journal_export.export_journals(
                    session, built["school"], [built["a"]], dates, out / "5А.xlsx",
                    folder=False, operator="op", overwrite=True,
                )  # fmt: skip
            assert list(out.iterdir()) == []
        journal_export.export_journals(
            session, built["school"], [built["a"]], dates, out / "5А.xlsx",
            folder=False, operator="op",
        )  # fmt: skip
    assert [p.name for p in out.iterdir()] == ["5А.xlsx"]
