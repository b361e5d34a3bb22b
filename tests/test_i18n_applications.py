"""Applications, journals and periods in Russian and English: messages, plurals, reasons shown
in the reader's language, the report in the school's; `applications decide` by the number
staff see; the report and the journal summary as they print."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from diaryadmin import i18n
from diaryadmin.applications.reasons import reason_text, shown
from diaryadmin.i18n import ngettext
from diaryadmin.journal import export as journal_export
from diaryadmin.journal.periods import resolve_range
from diaryadmin.journal.sheets import column_pixels, page_breaks
from diaryadmin.models import AcademicPeriod, Application, Subject
from helpers import factories
from helpers.applications import CORPUS, build_roster, write_xlsx
from helpers.journal import enrol, lesson, mark

RU = {"DIARYADMIN_LANG": "ru"}
EN = {"DIARYADMIN_LANG": "en"}


@pytest.fixture
def imported(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    result = run_cli("applications", "import", str(path), env=RU)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def verified(run_cli, imported):
    assert run_cli("applications", "verify").exit_code == 0
    return imported


# -- plurals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "problems", "journals"),
    [
        (1, "Найдена 1 ошибка", "Выгружен 1 классный журнал"),
        (2, "Найдено 2 ошибки", "Выгружено 2 классных журнала"),
        (5, "Найдено 5 ошибок", "Выгружено 5 классных журналов"),
        (11, "Найдено 11 ошибок", "Выгружено 11 классных журналов"),
        (21, "Найдена 21 ошибка", "Выгружен 21 классный журнал"),
    ],
)
def test_russian_plurals_follow_the_number(n, problems, journals):
    with i18n.using("ru"):
        found = ngettext(
            "{count} problem found; nothing was imported.",
            "{count} problems found; nothing was imported.",
            n,
        ).format(count=n)
        exported = ngettext(
            "Exported {count} class journal for {period}.",
            "Exported {count} class journals for {period}.",
            n,
        ).format(count=n, period="Q1")
    assert found == f"{problems}; ничего не импортировано."
    assert exported == f"{journals} за Q1."


def test_a_russian_import_counts_applications_in_russian(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    rows = [row for row, *_ in CORPUS]
    one = write_xlsx(workdir / "one.xlsx", rows[:1])
    two = write_xlsx(workdir / "two.xlsx", rows[1:3])
    five = write_xlsx(workdir / "five.xlsx", rows[3:8])
    said = [run_cli("applications", "import", str(p), env=RU).stderr for p in (one, two, five)]
    assert "импортировано 1 заявление (0 с ошибкой в документе); 0 уже импортировано" in said[0]
    assert "импортировано 2 заявления (" in said[1]
    assert "импортировано 5 заявлений (" in said[2]
    english = run_cli("applications", "import", str(one), env=EN)
    assert "imported 0 applications (0 with a malformed document); 1 already imported." in (
        english.stderr
    )


def test_a_broken_import_is_refused_in_russian(run_cli, workdir):
    rows = [dict(row, **{"Дата рождения ребёнка": "31.02.2015"}) for row, *_ in CORPUS[:2]]
    path = write_xlsx(workdir / "broken.xlsx", rows)
    result = run_cli("applications", "import", str(path), env=RU)
    assert result.exit_code == 1
    assert "Найдено 2 ошибки; ничего не импортировано." in result.stderr
    english = run_cli("applications", "import", str(path), env=EN)
    assert "2 problems found; nothing was imported." in english.stderr


# -- reasons: in the reader's language, codes stay English --------------------------------------


def test_reasons_are_shown_in_the_readers_language(run_cli, verified):
    ru = run_cli("--format", "json", "applications", "show", "A-0012", env=RU)
    en = run_cli("--format", "json", "applications", "show", "A-0012", env=EN)
    assert ru.exit_code == en.exit_code == 0, ru.output
    assert json.loads(ru.stdout)["reasons"] == [
        {
            "code": "date_swapped",
            "message": "Дата рождения совпадает с данными школы, только если поменять местами "
            "день и месяц.",
        }
    ]
    assert json.loads(en.stdout)["reasons"] == [
        {
            "code": "date_swapped",
            "message": "The date of birth matches our records only with the day and month swapped.",
        }
    ]
    table = run_cli("applications", "show", "A-0012", env=RU)
    assert "Причины:" in table.stdout
    assert "1. Дата рождения совпадает с данными школы" in table.stdout
    assert "(date_swapped)" in table.stdout
    listed = run_cli("--format", "json", "applications", "list", "--status", "rejected", env=RU)
    messages = [r["message"] for row in json.loads(listed.stdout) for r in row["reasons"]]
    assert "Не дано согласие на обработку персональных данных." in messages
    assert not any(m.startswith(("The ", "No ")) for m in messages)


def test_a_contact_conflict_names_the_contacts_in_the_readers_language():
    stored = {
        "code": "contact_conflict",
        "message": "The applicant's name matches a guardian of this child on our roster, but "
        "with a different e-mail, phone number.",
        "contacts": ["email", "phone"],
    }
    with i18n.using("en"):
        assert reason_text(stored) == stored["message"]
    with i18n.using("ru"):
        assert reason_text(stored) == (
            "ФИО заявителя совпадает с ФИО родителя (законного представителя) этого ребёнка в "
            "списках школы, но отличаются данные: адрес электронной почты, номер телефона."
        )
        # The reviewer's note is the reviewer's own words; an unknown text is kept as stored.
        assert shown([{"code": "reviewer", "message": "Проверено"}, {"message": "Old."}]) == [
            {"code": "reviewer", "message": "Проверено"},
            {"code": "", "message": "Old."},
        ]


# -- decide: the number staff see, the id only with --id ----------------------------------------


def test_decide_means_the_application_number_and_the_id_only_with_id(run_cli, verified, sessions):
    with sessions() as session, session.begin():
        fifth = session.get(Application, 5)
        fifth.external_id = "2"  # the number of the fifth row is the id of the second
        second = session.get(Application, 2).external_id
        seventh = session.get(Application, 7).status
    by_number = run_cli("--format", "json", "applications", "decide", "2", "--reject",
                        "--reason", "Не родитель")  # fmt: skip
    assert by_number.exit_code == 0, by_number.output
    assert json.loads(by_number.stdout)["id"] == 5
    assert "Application 2 is now rejected." in by_number.stderr
    by_id = run_cli("--format", "json", "applications", "decide", "2", "--id", "--reject",
                    "--reason", "Повтор", env=RU)  # fmt: skip
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(by_id.stdout)["external_id"] == second
    assert f"Заявление {second} отклонено." in by_id.stderr
    with sessions() as session:
        assert session.get(Application, 5).status == "rejected"
        assert session.get(Application, 2).status == "rejected"
        assert session.get(Application, 7).status == seventh  # an id is not a number
    an_id = run_cli("applications", "decide", "7", "--approve", "--reason", "x")
    assert an_id.exit_code == 1
    assert "There is no application '7'; the application with the id 7 is A-0007" in (an_id.stderr)
    russian = run_cli("applications", "decide", "7", "--approve", "--reason", "x", env=RU)
    assert "Заявления № «7» нет; у заявления A-0007 внутренний ID 7" in russian.stderr
    missing = run_cli("applications", "decide", "999", "--id", "--reject", "--reason", "x")
    assert missing.exit_code == 1 and "There is no application with the id 999." in missing.stderr


def test_decide_speaks_russian(run_cli, verified):
    choose = run_cli("applications", "decide", "A-0001", "--reason", "x", env=RU)
    assert choose.exit_code == 2 and "Выберите --approve или --reject." in choose.output
    pending = run_cli("applications", "decide", "A-0020", "--approve", "--reason", "x", env=RU)
    assert pending.exit_code == 1
    assert "В заявлении A-0020 указан ребёнок, которого нет среди обучающихся" in pending.stderr
    english = run_cli("applications", "decide", "A-0020", "--approve", "--reason", "x", env=EN)
    assert "Application A-0020 names no pupil on the roster" in english.stderr


def test_help_is_russian_with_the_examples_kept(run_cli):
    ru = run_cli("applications", "decide", "--help", env=RU)
    en = run_cli("applications", "decide", "--help", env=EN)
    assert "Одобрить или отклонить одно заявление после проверки." in ru.output
    assert "diaryadmin applications decide 17 --id --reject" in ru.output  # \b kept the lines
    assert "Approve or reject one application after review." in en.output
    assert "Одобрить" not in en.output
    periods = run_cli("periods", "add", "--help", env=RU)
    assert "Добавить учебный период" in periods.output
    assert "  diaryadmin periods add Q1 01.09.2026 27.10.2026" in periods.output


# -- the report: the school's language, and it prints -------------------------------------------


def test_the_report_is_russian_for_an_english_user_and_prints(run_cli, imported, workdir):
    report = workdir / "decisions.xlsx"
    result = run_cli("applications", "verify", "--report", str(report), env=EN)
    assert result.exit_code == 0, result.output
    assert f"Wrote the report to {report}." in result.stderr
    book = load_workbook(report)
    assert book.sheetnames == ["Заявления", "Письма об отказе"]
    sheet, letters = book["Заявления"], book["Письма об отказе"]
    rows = list(sheet.iter_rows(values_only=True))
    by_number = {row[1]: row for row in rows[1:]}
    assert by_number["A-0012"][7:11] == (
        "требует проверки",
        "review",
        "date_swapped",
        "Дата рождения совпадает с данными школы, только если поменять местами день и месяц.",
    )
    # Printing: landscape A4, two pages wide with ID and number and the header on every page.
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (
        "landscape", 9, 2, 0
    )  # fmt: skip
    assert sheet.print_title_rows == "$1:$1" and sheet.print_title_cols == "$A:$B"
    assert sheet.print_area == "'Заявления'!$A$1:$M$1048576"  # not the letters' column
    # Dates are dates wide enough to show (no ###); long text wraps and its row is tall enough.
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJKLM"}
    assert widths["C"] >= 10.5 and widths["G"] >= 10.5 and widths["M"] >= 16
    several = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "A-0024")
    assert several[2].number_format == "DD.MM.YYYY"
    assert several[12].number_format == "DD.MM.YYYY HH:MM"
    assert several[10].alignment.wrap_text and several[3].alignment.wrap_text
    assert sheet.row_dimensions[several[0].row].height >= 3 * 15  # three reasons, three lines
    # Each refusal letter on its own page: a break after every letter but the last.
    rejected = [row for row in rows[1:] if row[8] == "rejected"]
    starts = [c.row for c in letters["A"] if c.value == "Школа"]
    assert len(starts) == len(rejected) > 1
    assert [b.id for b in letters.row_breaks.brk] == [s - 1 for s in starts[1:]]
    assert letters.page_setup.orientation == "portrait"
    assert not letters.sheet_properties.pageSetUpPr or not (
        letters.sheet_properties.pageSetUpPr.fitToPage
    )  # "fit to page" would drop the breaks


def test_a_report_without_rejections_says_there_are_no_letters(
    run_cli, workdir, sessions, settings
):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    path = write_xlsx(workdir / "ok.xlsx", [CORPUS[0][0]])
    assert run_cli("applications", "import", str(path)).exit_code == 0
    report = workdir / "r.xlsx"
    assert run_cli("applications", "verify", "--report", str(report)).exit_code == 0
    letters = load_workbook(report)["Письма об отказе"]
    assert letters["A1"].value == "Отклонённых заявлений нет, писем об отказе тоже нет."


# -- periods and journals -----------------------------------------------------------------------


def test_periods_and_journal_messages_in_russian(run_cli, sessions):
    with sessions() as session, session.begin():
        factories.school(session)
    added = run_cli("periods", "add", "Q1", "01.09.2026", "24.10.2026", env=RU)
    assert added.exit_code == 0, added.output
    assert "Добавлен период Q1: 01.09.2026 – 24.10.2026 (2026/27)." in added.stderr
    again = run_cli("periods", "add", "Q1", "01.09.2026", "24.10.2026", env=RU)
    assert again.exit_code == 1
    assert "В 2026/27 учебном году уже есть период Q1." in again.stderr
    backwards = run_cli("periods", "add", "Q2", "28.12.2026", "05.11.2026", env=EN)
    assert "The period Q2 ends (05.11.2026) before it starts." in backwards.stderr
    unknown = run_cli("journal", "report", "grades", "--class", "5А", "--period", "Q9", env=RU)
    assert "Периода «Q9» нет (есть: Q1); добавьте его командой 'diaryadmin periods add'." in (
        unknown.stderr
    )
    neither = run_cli("journal", "export", "--out", "x.xlsx", env=RU)
    assert neither.exit_code == 2
    assert "Укажите классы в --class или используйте --all." in neither.output


LONG_SUBJECTS = [
    "Русский язык", "Литература", "Математика", "Английский язык", "История",
    "Обществознание", "География", "Биология", "Физика", "Химия", "Информатика",
    "Основы безопасности жизнедеятельности", "Основы безопасности дорожного движения",
    "Изобразительное искусство и художественный труд", "Физическая культура",
]  # fmt: skip


@pytest.fixture
def fifteen_subjects(sessions, tmp_path):
    with sessions() as session, session.begin():
        school = factories.school(session)
        klass = factories.school_class(session, "7Б")
        students = [
            factories.student(session, f"Ученикова{k}", "Мария", "Ивановна", class_name="7Б")
            for k in range(3)
        ]
        for student in students:
            enrol(session, student, "7Б", date(2026, 9, 1))
        session.add(
            AcademicPeriod(
                school_id=school.id,
                school_year=2026,
                name="Q1",
                starts_on=date(2026, 9, 1),
                ends_on=date(2026, 10, 24),
            )
        )
        for k, name in enumerate(LONG_SUBJECTS):
            subject = Subject(school_id=school.id, name=name)
            session.add(subject)
            session.flush()
            taught = lesson(session, klass, subject, date(2026, 9, 2 + k % 5), k % 7 + 1)
            for n, student in enumerate(students):
                mark(session, student, taught, 3 + (n + k) % 3)
        session.flush()
        dates = resolve_range(session, school, "Q1")
        journal_export.export_journals(
            session, school, [klass], dates, tmp_path / "7Б.xlsx", folder=False, operator="op"
        )
    return tmp_path / "7Б.xlsx"


def test_the_summary_of_fifteen_subjects_prints_at_full_size_across_pages(fifteen_subjects):
    book = load_workbook(fifteen_subjects)
    summary = book["Сводка"]
    setup = summary.page_setup
    assert setup.orientation == "landscape" and setup.paperSize == 9
    # Not shrunk onto one page: full size, pages broken between subjects.
    assert not (
        summary.sheet_properties.pageSetUpPr and summary.sheet_properties.pageSetUpPr.fitToPage
    )
    assert setup.scale in (None, 100)
    assert summary.print_title_rows == "$4:$5" and summary.print_title_cols == "$A:$B"
    breaks = [b.id for b in summary.col_breaks.brk]
    assert len(breaks) >= 3
    codes_column = 2 + 2 * len(LONG_SUBJECTS)  # 0-based: the first absence column
    # A break comes before a subject's first column (0-based 2, 4, ...) or the absences: a
    # subject's average and grade never print on different pages.
    assert all(b % 2 == 0 and 2 < b <= codes_column for b in breaks)
    # Each subject's name spans its two columns.
    merged = {str(r) for r in summary.merged_cells.ranges}
    assert {"C4:D4", "E4:F4"} <= merged
    assert summary.oddFooter.center.text == "&P / &N"


def test_sheet_names_keep_whole_words_and_stay_unique(fifteen_subjects):
    names = load_workbook(fifteen_subjects).sheetnames
    assert len(names) == len(set(n.casefold() for n in names)) == 1 + 2 * len(LONG_SUBJECTS)
    for name in names[1:]:
        assert len(name) <= 31
        base = name.removesuffix(" (темы)").split("~")[0]
        subject = next(s for s in LONG_SUBJECTS if s.startswith(base))
        assert len(base) == len(subject) or subject[len(base)] == " ", name
    assert {"Основы безопасности", "Основы безопасности дорожного"} <= set(names)
    assert "Основы безопасности~2 (темы)" in names  # the tag before the suffix
    assert "Изобразительное искусство" in names  # not "… искусство и"


def test_page_breaks_fill_pages_and_never_split_a_group():
    widths = [8.5, 20.0] + [8.5] * 30 + [12.0] * 7
    groups = [*range(2, 32, 2), 32]
    breaks = page_breaks(widths, 2, groups)
    assert breaks and all(b in groups for b in breaks)
    room = 770 - column_pixels(8.5) - column_pixels(20.0)
    bounds = [2, *breaks, len(widths)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        alone = [start] == [g for g in groups if start <= g < end]  # a group wider than a page
        assert alone or sum(column_pixels(w) for w in widths[start:end]) <= room
    assert page_breaks([8.5, 20.0, 8.5, 8.5], 2, [2]) == []  # one subject: one page


def test_english_applications_stay_english(run_cli, verified, sessions):
    with sessions() as session:
        stored = session.scalars(select(Application.reasons)).all()
    # The database keeps the English source text; only showing it translates.
    messages = [r["message"] for reasons in stored for r in reasons or ()]
    assert "No consent to the processing of personal data was given." in messages
    listed = run_cli("--format", "json", "applications", "list", "--status", "rejected", env=EN)
    english = [r["message"] for row in json.loads(listed.stdout) for r in row["reasons"]]
    assert "No consent to the processing of personal data was given." in english
