"""The sample school written as the files schools send, and the demo's roster step.

Two layouts: the hand-typed xlsx (a title row, a blank row, then XLSX_HEADER; optionally one
sheet per grade) and the other system's CSV (CSV_HEADER, cp1251, `;`). The students come from
`samples.roster.generate_school`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from diaryadmin.i18n import _
from diaryadmin.people.names import full_name
from diaryadmin.people.relations import relation_word
from diaryadmin.samples.roster import SampleGuardian, SampleStudent, generate_school

XLSX_HEADER = [
    "№ п/п", "Личный номер", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс",
    "Серия и номер свидетельства", "СНИЛС", "ФИО матери", "Телефон матери", "E-mail матери",
    "ФИО отца", "Телефон отца", "E-mail отца",
]  # fmt: skip
CSV_HEADER = [
    "ID", "ФИО ученика", "Дата рождения", "Класс", "Свидетельство о рождении", "СНИЛС",
    "Родитель 1", "Кем приходится 1", "Телефон родителя 1", "E-mail родителя 1",
    "Родитель 2", "Кем приходится 2", "Телефон родителя 2", "E-mail родителя 2",
]  # fmt: skip


def _class_cell(student: SampleStudent) -> str:
    return student.messy_class or student.class_name


def _date_cell(student: SampleStudent) -> date | str:
    return student.birth_date.strftime("%d.%m.%Y") if student.date_as_text else student.birth_date


def _guardian_by(student: SampleStudent, relation: str) -> SampleGuardian | None:
    return next((g for g in student.guardians if g.relation == relation), None)


def xlsx_rows(students: list[SampleStudent]):
    """Rows of the hand-typed xlsx layout (XLSX_HEADER), one per student."""
    for number, s in enumerate(students, 1):
        mother, father = _guardian_by(s, "mother"), _guardian_by(s, "father")
        yield [
            number,
            s.external_id,
            s.messy_surname or s.surname,
            s.name,
            s.patronymic,
            _date_cell(s),
            _class_cell(s),
            s.certificate,
            f"{s.snils[:3]}-{s.snils[3:6]}-{s.snils[6:9]} {s.snils[9:]}",
            mother.full_name if mother else None,
            mother.phone if mother else None,
            mother.email if mother else None,
            father.full_name if father else None,
            father.phone if father else None,
            father.email if father else None,
        ]


def write_roster_xlsx(
    path: str | Path,
    students: list[SampleStudent],
    *,
    title: str | None = "Список обучающихся",
    sheet_per_grade: bool = False,
) -> Path:
    """Write students as a hand-made xlsx: a title row, a blank row, then the header.

    With `sheet_per_grade`, one sheet per grade (`1 классы`, `2 классы`, ...).
    """
    import xlsxwriter

    path = Path(path)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    bold = workbook.add_format({"bold": True})
    if sheet_per_grade:
        groups: dict[str, list[SampleStudent]] = {}
        for s in sorted(students, key=lambda s: int(s.class_name[:-1])):
            groups.setdefault(f"{s.class_name[:-1]} классы", []).append(s)
    else:
        groups = {"Ученики": students}
    for sheet_name, group in groups.items():
        sheet = workbook.add_worksheet(sheet_name)
        row = 0
        if title:
            sheet.write_string(0, 0, title, bold)
            row = 2
        for column, text in enumerate(XLSX_HEADER):
            sheet.write_string(row, column, text, bold)
        for values in xlsx_rows(group):
            row += 1
            for column, value in enumerate(values):
                if value is None:
                    continue
                if isinstance(value, date):
                    sheet.write_datetime(row, column, value, date_format)
                elif isinstance(value, int):
                    sheet.write_number(row, column, value)
                else:
                    sheet.write_string(row, column, value)
    workbook.close()
    return path


def csv_rows(students: list[SampleStudent]):
    """Rows of the other-system CSV layout (CSV_HEADER): full names, parents 1 and 2."""
    for s in students:
        written_name = full_name(s.messy_surname or s.surname, s.name, s.patronymic)
        values = [
            s.external_id,
            written_name,
            s.birth_date.strftime("%d.%m.%Y"),
            _class_cell(s),
            s.certificate.replace("-", " ") if s.date_as_text else s.certificate,
            s.snils,
        ]
        for index in range(2):
            if index < len(s.guardians):
                g = s.guardians[index]
                values += [g.full_name, relation_word(g.relation), g.phone or "", g.email or ""]
            else:
                values += ["", "", "", ""]
        yield values


def write_roster_csv(
    path: str | Path,
    students: list[SampleStudent],
    *,
    encoding: str = "cp1251",
    delimiter: str = ";",
) -> Path:
    """Write students as CSV the way Russian-locale Excel saves it (cp1251, `;`)."""
    import csv

    path = Path(path)
    with path.open("w", encoding=encoding, newline="") as stream:
        writer = csv.writer(stream, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(csv_rows(students))
    return path


def demo_step(demo) -> None:
    """Generate a school into demo.folder (xlsx for grades 1–9, cp1251 CSV for 10–11) and
    import both, then import them again to show that nothing changes."""
    from diaryadmin.roster.importing import import_roster

    students = generate_school(400, seed=2026)
    lower = [s for s in students if int(s.class_name[:-1]) <= 9]
    upper = [s for s in students if int(s.class_name[:-1]) > 9]
    xlsx = write_roster_xlsx(demo.folder / "roster.xlsx", lower, sheet_per_grade=True)
    csv_path = write_roster_csv(demo.folder / "roster-10-11.csv", upper)
    demo.files["roster_xlsx"] = xlsx
    demo.files["roster_csv"] = csv_path
    demo.say(
        _(
            "Wrote a sample school: {xlsx} ({lower} pupils, grades 1–9, one sheet per grade) "
            "and {csv} ({upper} pupils, cp1251, ';')."
        ).format(xlsx=xlsx.name, lower=len(lower), csv=csv_path.name, upper=len(upper))
    )
    for attempt in ("Imported", "Imported again"):
        with demo.sessions() as session, session.begin():
            report = import_roster(
                session, [xlsx, csv_path], settings=demo.settings, operator=demo.operator
            )
        text = (
            _(
                "Imported: {created} created, {updated} updated, {moved} moved, "
                "{unchanged} unchanged, {warnings} warnings."
            )
            if attempt == "Imported"
            else _(
                "Imported again: {created} created, {updated} updated, {moved} moved, "
                "{unchanged} unchanged, {warnings} warnings."
            )
        )
        demo.say(
            text.format(
                created=report.created,
                updated=report.updated,
                moved=report.moved,
                unchanged=report.unchanged,
                warnings=len(report.warnings),
            )
        )
        if attempt == "Imported":
            for warning in report.warnings[:3]:
                demo.say("  " + _("e.g. {warning}").format(warning=warning))
