"""Roster cases: import-xlsx, import-csv, reimport, and district (PostgreSQL against SQLite).

The roster is `diaryadmin.samples.roster.generate_school` written with 8 columns and one
guardian a row (the mother), as an xlsx sheet and as the cp1251 `;` CSV Russian Excel saves.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from benchmarks.suite import Row, Run, judge, opened

HEADER = ["Личный номер", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс",
          "ФИО матери", "Телефон матери"]  # fmt: skip
FLAT_GROWTH = 1.25  # "flat": the peak at 10× the rows is at most a quarter higher


def _rows(rows: int):
    from diaryadmin.samples.roster import generate_school

    for s in generate_school(rows, seed=100, classes_per_grade=5):
        mother = s.guardians[0]
        yield [s.external_id, s.messy_surname or s.surname, s.name, s.patronymic, s.birth_date,
               s.messy_class or s.class_name, mother.full_name, mother.phone]  # fmt: skip


def make_files(clock, folder: str, rows: int) -> dict:
    """Write roster-ROWS.xlsx and roster-ROWS.csv into `folder` unless they are there."""
    import csv

    import xlsxwriter

    xlsx = Path(folder) / f"roster-{rows}.xlsx"
    csv_path = Path(folder) / f"roster-{rows}.csv"
    if xlsx.exists() and csv_path.exists():
        return {"xlsx": str(xlsx), "csv": str(csv_path)}
    data = list(_rows(rows))
    workbook = xlsxwriter.Workbook(str(xlsx), {"constant_memory": True})
    dates = workbook.add_format({"num_format": "dd.mm.yyyy"})
    sheet = workbook.add_worksheet("Ученики")
    sheet.write_row(0, 0, HEADER)
    for r, values in enumerate(data, 1):
        for c, value in enumerate(values):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write_string(r, c, value)
    workbook.close()
    with csv_path.open("w", encoding="cp1251", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for values in data:
            writer.writerow(v.strftime("%d.%m.%Y") if isinstance(v, date) else v for v in values)
    return {"xlsx": str(xlsx), "csv": str(csv_path)}


def openpyxl_read(clock, path: str) -> dict:
    """The reference of import-xlsx: openpyxl read-only, values only, every row."""
    import openpyxl

    with clock:
        workbook = openpyxl.load_workbook(path, read_only=True)
        rows = sum(1 for sheet in workbook.worksheets for _ in sheet.iter_rows(values_only=True))
        workbook.close()
    return {"rows": rows}


def calamine_read(clock, path: str) -> dict:
    """For comparison: python-calamine's whole-sheet read of the same file."""
    from python_calamine import CalamineWorkbook

    with clock:
        workbook = CalamineWorkbook.from_path(path)
        rows = sum(len(workbook.get_sheet_by_name(n).to_python()) for n in workbook.sheet_names)
    return {"rows": rows}


def csv_read(clock, path: str) -> dict:
    """The reference of import-csv: csv.reader over the decoded file."""
    import csv

    with clock, open(path, encoding="cp1251", newline="") as stream:
        rows = sum(1 for _ in csv.reader(stream, delimiter=";"))
    return {"rows": rows}


def import_file(clock, url: str, path: str) -> dict:
    """`import_roster` of one file in one transaction, as `roster import` runs it."""
    from diaryadmin.roster.importing import import_roster

    with opened(url) as (settings, sessions), clock, sessions.begin() as session:
        report = import_roster(session, [path], settings=settings, operator="bench")
    return {k: v for k, v in report.to_dict().items() if k != "warnings"}


# --- cases --------------------------------------------------------------------------------------


def _files(run: Run, rows: int) -> dict:
    return run.once(
        ("roster files", rows),
        lambda: (run.step("roster:make_files", folder=str(run.folder), rows=rows), None),
    )[0].facts


def _first_import(run: Run, backend: str, kind: str, rows: int):
    """(measurement, database URL) of importing the ROWS-row file into a new database."""

    def make():
        url = run.database(backend, f"{kind}-{rows}")
        return run.step("roster:import_file", url=url, path=_files(run, rows)[kind]), url

    return run.once(("import", backend, kind, rows), make)


def _rows_size(run: Run) -> int:
    return run.size(100_000, 5_000)


def import_xlsx(run: Run, backend: str) -> Row:
    rows = _rows_size(run)
    small = rows // 10
    reference = run.once(
        ("openpyxl", rows),
        lambda: (run.step("roster:openpyxl_read", path=_files(run, rows)["xlsx"]), None),
    )[0]
    calamine = run.once(
        ("calamine", rows),
        lambda: (run.step("roster:calamine_read", path=_files(run, rows)["xlsx"]), None),
    )[0]
    measured, _ = _first_import(run, backend, "xlsx", rows)
    smaller, _ = _first_import(run, backend, "xlsx", small)
    ratio = measured.wall / reference.wall
    growth = measured.peak_mb / smaller.peak_mb
    return Row(
        "import-xlsx", backend, f"{rows:,} rows", measured.wall, measured.cpu, measured.peak_mb,
        "openpyxl read-only", reference.wall, ratio, "≤ 0.40×, ≤ 250 MB, flat",
        judge(("ratio", ratio <= 0.40), ("memory", measured.peak_mb <= 250),
              ("flat", growth <= FLAT_GROWTH),
              ("created", measured.facts.get("created") == rows)),
        [f"peak {smaller.peak_mb:.0f} MB at {small:,} rows, {measured.peak_mb:.0f} MB at "
         f"{rows:,} ({growth:.2f}×; flat means ≤ {FLAT_GROWTH}×)",
         f"python-calamine reads the file in {calamine.wall:.2f} s "
         f"({calamine.wall / reference.wall:.2f}× openpyxl)"],
        ref_cpu=reference.cpu,
    )  # fmt: skip


def import_csv(run: Run, backend: str) -> Row:
    rows = _rows_size(run)
    path = _files(run, rows)["csv"]
    reference = run.once(
        ("csv.reader", rows), lambda: (run.step("roster:csv_read", path=path), None)
    )[0]
    measured, _ = _first_import(run, backend, "csv", rows)
    ratio = measured.wall / reference.wall
    return Row(
        "import-csv", backend, f"{rows:,} rows", measured.wall, measured.cpu, measured.peak_mb,
        "csv.reader, cp1251", reference.wall, ratio, "≤ 6×",
        judge(("ratio", ratio <= 6), ("created", measured.facts.get("created") == rows)),
        ref_cpu=reference.cpu,
    )  # fmt: skip


def reimport(run: Run, backend: str) -> Row:
    rows = _rows_size(run)
    reference, url = _first_import(run, backend, "xlsx", rows)
    measured = run.once(
        ("reimport", backend, rows),
        lambda: (run.step("roster:import_file", url=url, path=_files(run, rows)["xlsx"]), url),
    )[0]
    ratio = measured.wall / reference.wall
    unchanged = measured.facts.get("unchanged")
    return Row(
        "reimport", backend, f"{rows:,} rows", measured.wall, measured.cpu, measured.peak_mb,
        "the first import", reference.wall, ratio, "≤ 0.5×",
        judge(("ratio", ratio <= 0.5), ("unchanged", unchanged == rows)),
        [] if unchanged == rows else [f"{unchanged} of {rows} rows unchanged"],
        ref_cpu=reference.cpu,
    )  # fmt: skip


def _district_part(run: Run, backend: str, rows: int, credentials: int):
    imported, url = _first_import(run, backend, "xlsx", rows)
    issued = run.once(
        ("district issue", backend, rows, credentials),
        lambda: (run.step("credentials:issue_all", url=url, count=credentials), url),
    )[0]
    return imported, issued


def district(run: Run, backend: str) -> Row:
    rows = _rows_size(run)
    credentials = run.size(20_000, 500)
    size = f"{rows:,} rows + {credentials:,} credentials"
    if not run.pg_url:
        note = "PostgreSQL only: set DIARYADMIN_TEST_DATABASE_URL to run it"
        return Row("district", "postgresql", size, verdict="skipped", notes=[note])
    pg_import, pg_issue = _district_part(run, "postgresql", rows, credentials)
    lite_import, lite_issue = _district_part(run, "sqlite", rows, credentials)
    wall = pg_import.wall + pg_issue.wall
    reference = lite_import.wall + lite_issue.wall
    ratio = wall / reference
    issued = pg_issue.facts.get("issued") == credentials
    return Row(
        "district", "postgresql", size, wall, pg_import.cpu + pg_issue.cpu,
        max(pg_import.peak_mb, pg_issue.peak_mb), "the same on SQLite", reference, ratio,
        "≤ 1.5×", judge(("ratio", ratio <= 1.5), ("issued", issued)),
        [f"import {pg_import.wall:.1f} s vs {lite_import.wall:.1f} s on SQLite; issue "
         f"{pg_issue.wall:.1f} s vs {lite_issue.wall:.1f} s"],
        ref_cpu=lite_import.cpu + lite_issue.cpu,
    )  # fmt: skip
