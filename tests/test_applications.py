"""Importing applications: real xlsx and CSV files, all or nothing, flags, re-import."""

from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from diaryadmin import audit
from diaryadmin.models import Application
from helpers.applications import CORPUS, SMIRNOV, application, write_xlsx

CSV_HEADER = (
    "№ заявления;ФИО заявителя;Степень родства;Серия паспорта;Номер паспорта;Эл. почта;"
    "Телефон;ФИО ребёнка;Дата рождения;Серия свидетельства;Номер свидетельства;"
    "Согласие на обработку ПДн;Дата подачи"
)


def csv_bytes(lines: list[str], encoding: str = "cp1251") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_csv_in_cp1251_with_full_names_split_columns_and_a_title_row(run_cli, workdir, sessions):
    path = workdir / "office.csv"
    path.write_bytes(
        csv_bytes(
            [
                "Заявления на доступ к электронному дневнику;;;",
                "",
                CSV_HEADER,
                "П-17;Смирнова Елена Игоревна;Мать;45 08;123456;Elena@Example.RU;"
                "8 (912) 000-00-01;Смирнов Артём Олегович;14.03.2015;XIV МЮ;123456;"
                "01.09.2026;02.09.2026",
                "П-18;Мамедов Рашид Алиевич;отец;4508;12345;;+7 912 000 00 03;"
                "Мамедова Лейла Рашид кызы;2016-05-07;iv-мю;№ 654321;нет;02.09.2026",
            ]
        )
    )
    result = run_cli("--format", "json", "applications", "import", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "created": 2,
        "unchanged": 0,
        "flagged": 1,
        "dry_run": False,
        "warnings": [],
        "errors": [],
    }
    with sessions() as session:
        first, second = session.scalars(select(Application).order_by(Application.id)).all()
        assert (first.applicant_surname, first.applicant_name, first.applicant_patronymic) == (
            "Смирнова",
            "Елена",
            "Игоревна",
        )
        assert first.relation == "mother"
        assert first.email == "Elena@example.ru"
        assert first.phone == "+79120000001"
        assert first.consent is True  # a date in the consent column means it was given
        assert first.applied_on == date(2026, 9, 2)
        assert first.child_birth_date == date(2015, 3, 14)
        assert first.child_name_key == "смирнов артем олегович"
        assert len(first.certificate_fp) == 64 and len(first.passport_fp) == 64
        assert first.document_flags == {}
        assert first.status == "pending" and first.source == "office.csv"
        assert second.child_patronymic == "Рашид кызы"
        assert second.consent is False
        assert second.document_flags == {"passport": "malformed"}
        assert second.passport_fp is None
        assert second.snils_fp is None


def test_no_document_number_is_stored_in_plain_text(run_cli, workdir, db_snapshot):
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    result = run_cli("applications", "import", str(path))
    assert result.exit_code == 0, result.output
    dump = json.dumps(db_snapshot(), ensure_ascii=False)
    for number in ("123456", "4508", "112-233-445", "11223344595", "555555", "444444"):
        assert number not in dump


def test_reimport_changes_nothing_and_says_so(run_cli, workdir, db_snapshot):
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS])
    first = run_cli("applications", "import", str(path))
    assert first.exit_code == 0, first.output
    before = db_snapshot()
    again = run_cli("--format", "json", "applications", "import", str(path))
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["created"], report["unchanged"]) == (0, len(CORPUS))
    after = db_snapshot()
    assert after["applications"] == before["applications"]
    # the same file under another name, without application numbers: still no duplicates
    rows = [dict(row, **{"Номер заявления": None}) for row, *_ in CORPUS[:3]]
    bare = write_xlsx(workdir / "bare.xlsx", rows)
    assert run_cli("applications", "import", str(bare)).exit_code == 0
    assert run_cli("applications", "import", str(bare)).exit_code == 0
    assert len(db_snapshot()["applications"]) == len(CORPUS) + 3


def test_the_same_application_twice_in_one_file_is_imported_once(run_cli, workdir, sessions):
    row = application(1, SMIRNOV)
    path = write_xlsx(workdir / "twice.xlsx", [row, row])
    result = run_cli("--format", "json", "applications", "import", str(path))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["created"] == 1
    assert report["warnings"][0]["row"] == 4
    assert "the same application as at sheet 'Заявления', row 3" in report["warnings"][0]["message"]


def test_every_broken_row_is_reported_and_nothing_is_written(run_cli, workdir, db_snapshot):
    rows = [
        application(1, SMIRNOV),
        application(2, SMIRNOV, birth_date="31.02.2015"),  # not a real date
        dict(application(3, SMIRNOV), **{"Имя ребёнка": None}),
        dict(application(4, SMIRNOV), **{"E-mail": "mama@"}),
        dict(application(5, SMIRNOV), **{"Кем приходится": "сосед"}),
        dict(application(6, SMIRNOV), **{"Согласие на обработку персональных данных": "может"}),
        application(7, SMIRNOV, passport="12", snils="1", certificate="??"),  # flags only
    ]
    path = write_xlsx(workdir / "broken.xlsx", rows)
    before = db_snapshot()
    result = run_cli("--format", "json", "applications", "import", str(path))
    assert result.exit_code == 1
    errors = json.loads(result.stdout)["errors"]
    found = {(e["row"], e["column"], e["value"]) for e in errors}
    assert found == {
        (4, "Дата рождения ребёнка", "31.02.2015"),
        (5, "Имя ребёнка", None),
        (6, "E-mail", "mama@"),
        (7, "Кем приходится", "сосед"),
        (8, "Согласие на обработку персональных данных", "может"),
    }
    assert all(e["file"] == str(path) and e["sheet"] == "Заявления" for e in errors)
    assert "5 problems found; nothing was imported." in result.stderr
    assert "row 4, column 'Дата рождения ребёнка' ('31.02.2015'): not a real date" in result.stderr
    assert db_snapshot() == before


def test_missing_required_columns_are_named(run_cli, workdir, db_snapshot):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ФИО заявителя", "Кем приходится", "ФИО ребёнка", "Дата рождения"])
    sheet.append(["Смирнова Елена Игоревна", "мать", "Смирнов Артём Олегович", "14.03.2015"])
    path = workdir / "short.xlsx"
    workbook.save(path)
    before = db_snapshot()
    result = run_cli("applications", "import", str(path))
    assert result.exit_code == 1
    assert (
        "missing required column(s): Свидетельство о рождении, "
        "Согласие на обработку персональных данных"
    ) in result.stderr
    assert db_snapshot() == before


def test_not_a_spreadsheet_and_empty_file_are_refused(run_cli, workdir, db_snapshot):
    fake = workdir / "fake.xlsx"
    fake.write_bytes(b"this is not a zip")
    empty = workdir / "empty.csv"
    empty.write_bytes(b"")
    before = db_snapshot()
    for path, message in ((fake, "is not a readable spreadsheet"), (empty, "is empty")):
        result = run_cli("applications", "import", str(path))
        assert result.exit_code == 1
        assert message in result.stderr
        assert "Traceback" not in result.output
    assert db_snapshot() == before


def test_a_number_already_imported_with_other_content_is_an_error(run_cli, workdir, db_snapshot):
    first = write_xlsx(workdir / "first.xlsx", [application(1, SMIRNOV)])
    assert run_cli("applications", "import", str(first)).exit_code == 0
    before = db_snapshot()
    changed = write_xlsx(workdir / "changed.xlsx", [application(1, SMIRNOV, consent="нет")])
    result = run_cli("applications", "import", str(changed))
    assert result.exit_code == 1
    assert "application number 'A-0001' was already imported with different content" in (
        result.stderr
    )
    assert db_snapshot() == before


def test_dry_run_reports_and_writes_nothing(run_cli, workdir, db_snapshot):
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS[:5]])
    before = db_snapshot()
    result = run_cli("--format", "json", "applications", "import", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 5
    assert json.loads(result.stdout)["dry_run"] is True
    assert db_snapshot() == before


def test_import_is_audited_without_document_numbers(run_cli, workdir, sessions):
    path = write_xlsx(workdir / "portal.xlsx", [row for row, *_ in CORPUS[:4]])
    assert run_cli("--operator", "secretary", "applications", "import", str(path)).exit_code == 0
    with sessions() as session:
        events = audit.list_events(session, action="applications.import")
    assert len(events) == 1
    assert events[0]["operator"] == "secretary"
    assert events[0]["details"] == {"created": 4, "unchanged": 0, "flagged": 0}


def test_look_alike_letters_in_names_are_fixed_with_a_warning(run_cli, workdir, sessions):
    row = application(1, SMIRNOV, child_name=("Cмирнов", "Артём", "Олегович"))  # Latin C
    path = write_xlsx(workdir / "portal.xlsx", [row])
    result = run_cli("--format", "json", "applications", "import", str(path))
    assert result.exit_code == 0, result.output
    warning = json.loads(result.stdout)["warnings"][0]
    assert (warning["row"], warning["column"], warning["value"]) == (
        3,
        "Фамилия ребёнка",
        "Cмирнов",
    )
    with sessions() as session:
        assert session.scalar(select(Application.child_surname)) == "Смирнов"


def test_one_number_twice_with_different_content_names_both_rows(run_cli, workdir, db_snapshot):
    rows = [application(1, SMIRNOV), application(1, SMIRNOV, consent="нет")]
    path = write_xlsx(workdir / "twice.xlsx", rows)
    before = db_snapshot()
    result = run_cli("--format", "json", "applications", "import", str(path))
    assert result.exit_code == 1
    [error] = json.loads(result.stdout)["errors"]
    assert (error["row"], error["column"], error["value"]) == (4, "Номер заявления", "A-0001")
    assert error["message"] == (
        "application number 'A-0001' appears twice with different content "
        "(first at sheet 'Заявления', row 3)"
    )
    assert db_snapshot() == before


def _read_one_sheet(workdir, settings, header: list[str], rows: list[list]):
    from diaryadmin.applications.read import read_applications

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = workdir / "office.xlsx"
    book.save(path)
    return read_applications([path], settings, today=date(2026, 9, 10))


SHORT_HEADER = [
    "ФИО заявителя",
    "Кем приходится",
    "Серия паспорта",
    "Номер паспорта",
    "Эл. почта",
    "ФИО ребёнка",
    "Дата рождения",
    "Серия свидетельства",
    "Номер свидетельства",
    "Согласие",
]


def _short_row(applicant="Смирнова Елена Игоревна", relation="мать", series="4508", number="123456",
               email=None, cert_number="123456"):  # fmt: skip
    return [applicant, relation, series, number, email, "Смирнов Артём Олегович",
            "14.03.2015", "XIV-МЮ", cert_number, "да"]  # fmt: skip


def test_grandparents_and_a_parent_of_either_sex_are_understood(workdir, settings):
    rows = [
        _short_row(relation="бабушка"),
        _short_row("Смирнов Пётр Ильич", relation="Дедушка"),
        _short_row(relation="Родитель (законный представитель)"),
        _short_row("Смирнов Олег Петрович", relation="родитель"),
        _short_row("Смирнов Олег", relation="родитель"),
        _short_row(relation="Мать ребёнка", number="654321"),
        _short_row("Смирнов Олег Петрович", relation="отец ребенка", number="654321"),
    ]
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows)
    assert report.errors == []
    assert [p.values["relation"] for p in parsed] == [
        "trusted",
        "trusted",
        "mother",
        "father",
        "guardian",
        "mother",
        "father",
    ]


def test_numbers_that_lost_their_leading_zeros_in_excel_are_padded(workdir, settings):
    from diaryadmin.people.documents import fingerprint

    key = settings.require_secret_key()
    rows = [_short_row(series=512, number=23456, cert_number=12345)]
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows)
    assert report.errors == []
    [item] = parsed
    assert item.values["document_flags"] == {}
    assert item.values["passport_fp"] == fingerprint("passport", "0512 023456", key)
    assert item.values["certificate_fp"] == fingerprint("certificate", "XIV-МЮ 012345", key)
    # Typed as text, a short number stays malformed: nobody knows which digit is missing.
    rows = [_short_row(series="512", number="23456", cert_number="12345")]
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows)
    assert parsed[0].values["document_flags"] == {
        "passport": "malformed",
        "certificate": "malformed",
    }


def test_spaces_around_the_at_sign_of_an_e_mail_are_dropped_with_a_warning(workdir, settings):
    rows = [_short_row(email="elena @ mail .ru"), _short_row(email="elena petrova@mail.ru")]
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows[:1])
    assert report.errors == []
    assert parsed[0].values["email"] == "elena@mail.ru"
    [warning] = report.warnings
    assert (warning.row, warning.column, warning.value) == (2, "Эл. почта", "elena @ mail .ru")
    # A space inside a part of the address is not guessed away.
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows[1:])
    [error] = report.errors
    assert (error.row, error.column, error.message) == (
        2,
        "Эл. почта",
        "an e-mail address has no spaces",
    )


def test_pre_numbered_empty_rows_and_a_totals_row_are_not_applications(workdir, settings):
    header = ["№ п/п", *SHORT_HEADER]
    rows = [
        [1, *_short_row()],
        [2],
        [3],
        [None, "Итого: 1 заявление"],
        [None, "Всего заявлений:", 1],
    ]
    parsed, report = _read_one_sheet(workdir, settings, header, rows)
    assert report.errors == []
    assert len(parsed) == 1
    assert [(w.row, w.value) for w in report.warnings] == [
        (1, None),  # № п/п: unknown column, ignored
        (5, "Итого: 1 заявление"),
        (6, "Всего заявлений:"),
    ]
    assert report.warnings[1].message == "a totals row, not an application: skipped"


@pytest.mark.parametrize(
    ("typed", "consent"),
    [
        ("Подписано", True),
        ("имеется", True),
        ("Получено", True),
        ("Дано", True),
        ("Да, согласен", True),
        ("Согласие дано", True),
        ("не подписано", False),
        ("Отсутствует", False),
        ("Не дано", False),
        ("да", True),
        ("Нет", False),
    ],
)
def test_consent_as_an_office_writes_it(workdir, settings, typed, consent):
    row = _short_row()
    row[-1] = typed
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, [row])
    assert report.errors == []
    assert parsed[0].values["consent"] is consent


@pytest.mark.parametrize(
    "applicant", ["Иванова А. П.", "Иванова А.П.", "Иванова Анна П.", "Попов Дмитрий Ив."]
)
def test_initials_instead_of_a_name_are_an_error(workdir, settings, applicant):
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, [_short_row(applicant)])
    assert parsed == []
    [error] = report.errors
    assert (error.row, error.column) == (2, "ФИО заявителя")
    assert error.message == "initials instead of the name in full"


def test_a_dash_or_net_in_the_patronymic_column_means_none(workdir, settings):
    header = [
        "Фамилия заявителя",
        "Имя заявителя",
        "Отчество заявителя",
        "Кем приходится",
        "Фамилия ребёнка",
        "Имя ребёнка",
        "Отчество ребёнка",
        "Дата рождения",
        "Свидетельство о рождении",
        "Согласие",
    ]
    rows = [
        ["Соколова", "Вера", "-", "мать", "Соколов", "Иван", "—", "09.05.2012", "I-ЕР 555666", 1],
        ["Ли", "Вера", "нет", "мать", "Ли", "Иван", "Отсутствует", "09.05.2012", "I-ЕР 555667", 1],
        ["Ким", "Вера", "", "мать", "Ким", "Иван", "–", "09.05.2012", "I-ЕР 555668", 1],
    ]
    parsed, report = _read_one_sheet(workdir, settings, header, rows)
    assert report.errors == []
    assert [(p.values["applicant_patronymic"], p.values["child_patronymic"]) for p in parsed] == [
        (None, None)
    ] * 3
    assert parsed[0].values["child_name_key"] == "соколов иван"


def test_two_phone_numbers_in_one_cell_keep_the_first_with_a_warning(workdir, settings):
    header = [*SHORT_HEADER, "Телефон"]
    rows = [
        [*_short_row(), "8 900 123-45-67, 8 (912) 000-00-00"],
        [*_short_row(number="654321"), "+7 900 1234568; рабочий 8 912 0000001"],
        [*_short_row(number="654322"), "8 900 123"],
    ]
    parsed, report = _read_one_sheet(workdir, settings, header, rows)
    [error] = report.errors
    assert (error.row, error.column, error.value) == (4, "Телефон", "8 900 123")
    assert [p.values["phone"] for p in parsed] == ["+79001234567", "+79001234568"]
    assert [(w.row, w.message) for w in report.warnings] == [
        (2, "several phone numbers: the first one kept"),
        (3, "several phone numbers: the first one kept"),
    ]


def test_headers_with_a_hint_in_brackets_are_recognised(workdir, settings):
    header = [
        "ФИО заявителя",
        "Кем приходится (мать/отец/опекун)",
        "Паспорт (серия и номер)",
        "ФИО ребёнка",
        "Дата рождения (дд.мм.гггг)",
        "Свидетельство о рождении",
        "Согласие на обработку ПДн (да/нет)",
        "Телефон (с кодом)",
    ]
    row = ["Морозова Ирина Глебовна", "мать", "4516 666666", "Морозов Глеб Ильич",
           "04.04.2010", "XIV ВС 121212", "да", "8 900 111-22-33"]  # fmt: skip
    parsed, report = _read_one_sheet(workdir, settings, header, [row])
    assert report.errors == []
    [item] = parsed
    assert (item.values["relation"], item.values["consent"], item.values["phone"]) == (
        "mother",
        True,
        "+79001112233",
    )
    assert item.values["child_birth_date"] == date(2010, 4, 4)


def test_the_applicants_birth_date_column_is_not_taken_for_the_childs(workdir, settings):
    header = ["ФИО заявителя", "Дата рождения", "Кем приходится", "ФИО ребёнка",
              "Дата рождения ребёнка", "Свидетельство о рождении", "Согласие", "СНИЛС",
              "СНИЛС ребёнка"]  # fmt: skip
    row = ["Морозова Ирина Глебовна", "01.02.1985", "мать", "Морозов Глеб Ильич",
           "04.04.2010", "XIV ВС 121212", "да", "112-233-445 95", "000-000-000 00"]  # fmt: skip
    parsed, report = _read_one_sheet(workdir, settings, header, [row])
    assert report.errors == []
    assert parsed[0].values["child_birth_date"] == date(2010, 4, 4)
    assert parsed[0].values["document_flags"] == {"passport": "missing"}


def test_unknown_columns_are_named_in_warnings_as_the_roster_does(workdir, settings):
    header = [*SHORT_HEADER, "Статус в ЕПГУ", "Emial", "Дата рождения"]
    row = [*_short_row(), "Новое", "elena@mail.ru", "01.02.1985"]
    parsed, report = _read_one_sheet(workdir, settings, header, [row])
    assert report.errors == [] and len(parsed) == 1
    assert [(w.row, w.column, w.message) for w in report.warnings] == [
        (1, "Статус в ЕПГУ", "unknown column, ignored"),
        (1, "Emial", "unknown column, ignored"),
        (1, "Дата рождения", "unknown column, ignored"),
    ]


def test_documents_typed_with_the_words_series_and_number_and_commas(workdir, settings):
    from diaryadmin.people.documents import fingerprint

    key = settings.require_secret_key()
    header = ["ФИО заявителя", "Кем приходится", "Паспорт", "ФИО ребёнка", "Дата рождения",
              "Свидетельство о рождении", "Согласие"]  # fmt: skip
    rows = [
        ["Смирнова Елена Игоревна", "мать", "серия 4508 номер 123456", "Смирнов Артём Олегович",
         "14.03.2015", "серия XIV-МЮ № 123456", "да"],
        ["Смирнов Олег Петрович", "отец", "Сер. 4508, № 123457", "Смирнов Артём Олегович",
         "14.03.2015", "XIV-МЮ, 123456", "да"],
    ]  # fmt: skip
    parsed, report = _read_one_sheet(workdir, settings, header, rows)
    assert report.errors == []
    first, second = parsed
    assert first.values["document_flags"] == {} == second.values["document_flags"]
    certificate = fingerprint("certificate", "XIV-МЮ 123456", key)
    assert first.values["certificate_fp"] == certificate == second.values["certificate_fp"]
    assert first.values["passport_fp"] == fingerprint("passport", "4508 123456", key)
    assert second.values["passport_fp"] == fingerprint("passport", "4508 123457", key)


def test_a_lookup_sheet_beside_the_applications_is_passed_over(workdir, settings, run_cli):
    from diaryadmin.applications.read import read_applications

    book = Workbook()
    sheet = book.active
    sheet.title = "Заявления"
    sheet.append(SHORT_HEADER)
    sheet.append(_short_row())
    lists = book.create_sheet("Справочники")  # the form's drop-down lists
    lists.append(["Кем приходится", "Согласие"])
    lists.append(["мать", "да"])
    lists.append(["отец", "нет"])
    typo = book.create_sheet("Ещё")  # an application table with a column missing stays an error
    typo.append([h for h in SHORT_HEADER if h != "Дата рождения"])
    path = workdir / "form.xlsx"
    book.save(path)
    parsed, report = read_applications([path], settings, today=date(2026, 9, 10))
    assert len(parsed) == 1
    [error] = report.errors
    assert (error.sheet, error.message) == (
        "Ещё",
        "missing required column(s): Дата рождения ребёнка",
    )
    [warning] = [w for w in report.warnings if w.sheet == "Справочники"]
    assert (
        warning.message
        == "no application table on this sheet (no applicant or child names): skipped"
    )
    del book["Ещё"]
    book.save(path)
    parsed, report = read_applications([path], settings, today=date(2026, 9, 10))
    assert report.errors == [] and len(parsed) == 1


def test_an_unknown_relation_lists_what_is_understood(workdir, settings):
    # An aunt is a trusted person by DOMAIN.md (people.relations); a neighbour is no relation.
    parsed, report = _read_one_sheet(
        workdir, settings, SHORT_HEADER, [_short_row(relation="соседка")]
    )
    [error] = report.errors
    assert (error.row, error.column, error.value) == (2, "Кем приходится", "соседка")
    assert error.message == (
        "unknown relation; expected мать, отец, родитель, опекун (законный представитель), "
        "доверенное лицо (бабушка, дедушка)"
    )


def test_commas_between_the_parts_of_a_full_name_are_dropped(workdir, settings):
    row = _short_row("Смирнова, Елена, Игоревна")
    row[5] = "Смирнов, Артём Олегович;"
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, [row])
    assert report.errors == []
    values = parsed[0].values
    assert values["child_name_key"] == "смирнов артем олегович"
    assert (values["applicant_surname"], values["applicant_name"]) == ("Смирнова", "Елена")


def test_more_header_spellings_of_portals_and_offices(workdir, settings):
    header = ["Номер заявления ЕПГУ", "Дата регистрации заявления", "Ф.И.О. заявителя",
              "Кем является ребёнку", "Серия документа, удостоверяющего личность",
              "Номер документа, удостоверяющего личность", "Электронная почта заявителя",
              "Мобильный телефон", "Ф.И.О. ребёнка", "Дата рождения обучающегося",
              "Серия и номер свидетельства о рождении ребёнка",
              "Согласие на обработку персональных данных получено"]  # fmt: skip
    row = ["77-123", "02.09.2026", "Смирнова Елена Игоревна", "мать", "4508", "123456",
           "elena@mail.ru", "8 900 111-22-33", "Смирнов Артём Олегович", "14.03.2015",
           "XIV-МЮ 123456", "да"]  # fmt: skip
    parsed, report = _read_one_sheet(workdir, settings, header, [row])
    assert report.errors == [] and report.warnings == []
    values = parsed[0].values
    assert values["external_id"] == "77-123" and values["applied_on"] == date(2026, 9, 2)
    assert values["document_flags"] == {}
    assert (values["email"], values["phone"]) == ("elena@mail.ru", "+79001112233")


def test_a_relation_with_a_note_in_brackets_is_read_by_the_words_before_it(workdir, settings):
    rows = [
        _short_row(relation="Законный представитель (опекун)"),
        _short_row(relation="Опекун (попечитель)", number="654321"),
        _short_row(relation="Мать (по доверенности)", number="654322"),
    ]
    parsed, report = _read_one_sheet(workdir, settings, SHORT_HEADER, rows)
    assert report.errors == []
    assert [p.values["relation"] for p in parsed] == ["guardian", "guardian", "mother"]


def test_a_two_row_header_with_group_headings_over_the_name_columns(workdir, settings):
    book = Workbook()
    sheet = book.active
    sheet.append(["Журнал приёма заявлений"])
    sheet.append(["№", "Заявитель", None, None, "Кем приходится", "Паспорт", "Ребёнок", None,
                  None, None, "Свидетельство о рождении", "Согласие"])  # fmt: skip
    sheet.append([None, "Фамилия", "Имя", "Отчество", None, None, "Фамилия", "Имя", "Отчество",
                  "Дата рождения", None, None])  # fmt: skip
    for first, last in (("B2", "D2"), ("G2", "J2"), ("E2", "E3"), ("K2", "K3"), ("L2", "L3")):
        sheet.merge_cells(f"{first}:{last}")
    sheet.append([1, "Смирнова", "Елена", "Игоревна", "мать", "4508 123456", "Смирнов", "Артём",
                  "Олегович", "14.03.2015", "XIV-МЮ 123456", "да"])  # fmt: skip
    path = workdir / "journal.xlsx"
    book.save(path)
    from diaryadmin.applications.read import read_applications

    parsed, report = read_applications([path], settings, today=date(2026, 9, 10))
    assert report.errors == []
    [item] = parsed
    values = item.values
    assert (values["applicant_surname"], values["child_surname"]) == ("Смирнова", "Смирнов")
    assert values["child_name_key"] == "смирнов артем олегович"
    assert values["relation"] == "mother" and values["consent"] is True
    assert values["child_birth_date"] == date(2015, 3, 14)
    assert item.row.number == 4
