"""Partial imports (`--rejects`): the valid rows imported, the refused ones written back as
typed with their reasons, fixed there and imported again; and the read limits of the
settings reaching every reader."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import stat
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from diaryadmin.errors import InputError
from diaryadmin.models import Application, AuditEvent, Guardian, Guardianship, Student
from diaryadmin.samples.applications import HEADER as HEADER_APPLICATIONS
from helpers.applications import CORPUS, build_roster
from helpers.applications import write_xlsx as write_applications
from helpers.roster import HEADER, SECRET, write_csv, write_xlsx

GUARDIANS_HEADER = ["ID ученика", "ФИО", "Кем приходится", "Телефон", "E-mail"]
REASONS = "Причины отказа"
GARBLED = "гЩЗБОЛПЧ"  # «Щербаков» in KOI8-R read as cp1251


def school_roster(folder: Path) -> tuple[Path, Path]:
    """An xlsx with a class sheet and a guardians sheet, and a UTF-8 CSV: some rows bad."""
    xlsx = write_xlsx(
        folder / "school.xlsx",
        [
            HEADER,
            ["S1", "Иванов", "Пётр", "Сергеевич", datetime(2015, 3, 14), "5А"],
            ["S2", "Петрова", "Анна", "Игоревна", "31.02.2015", "5А"],  # no such date
            ["@S3", "Сидоров", None, None, datetime(2015, 1, 2), "5А"],  # no name
            ["S4", "Кузнецова", "Ольга", None, datetime(2015, 5, 6), "5А"],
        ],
        sheet="5А",
        more={
            "Родители": [
                GUARDIANS_HEADER,
                ["S1", "Иванова Мария Петровна", "мать", "8 912 345-67-89", None],
                ["S2", "Петров Игорь Олегович", "отец", None, "igor@example.org"],
                ["S9", "Никто Ничей", "отец", None, None],  # no such student
            ]
        },
    )
    csv = write_csv(
        folder / "6Б.csv",
        [
            ["ID", "Фамилия", "Имя", "Дата рождения", "Класс"],
            ["S5", "Орлов", "Денис", "01.09.2014", "6Б"],
            ["S6", GARBLED, "Иван", "02.09.2014", "6Б"],
        ],
        encoding="utf-8",
    )
    return xlsx, csv


def cells(path: Path) -> dict[str, list[list]]:
    workbook = openpyxl.load_workbook(path)
    return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in workbook}


def stored(sessions) -> dict[str, list[str]]:
    """Students by ID, with the names of their guardians."""
    with sessions() as session:
        found: dict[str, list[str]] = {s.external_id: [] for s in session.scalars(select(Student))}
        rows = session.execute(
            select(Student.external_id, Guardian.surname)
            .join(Guardianship, Guardianship.student_id == Student.id)
            .join(Guardian, Guardian.id == Guardianship.guardian_id)
        )
        for external_id, surname in rows:
            found[external_id].append(surname)
    return found


DATE_REASON = "column 'Дата рождения' ('31.02.2015'): birth date: not a real date"
NAME_REASON = "column 'Имя': the name is missing"
GARBLED_REASON = (
    f"column 'Фамилия' ('{GARBLED}'): the surname does not look like a name: the file may be "
    "read in the wrong encoding (give --encoding)"
)


def test_roster_rejects_cell_by_cell_then_the_fixed_file_imports(run_cli, workdir, sessions):
    xlsx, csv = school_roster(workdir)
    rejects = workdir / "to-fix.xlsx"
    result = run_cli(
        "--format", "json", "roster", "import", str(xlsx), str(csv), "--rejects", str(rejects)
    )
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"], data["rejects_file"]) == (3, 5, str(rejects))
    assert data["errors"] == []
    assert f"5 rows were rejected and written to {rejects}" in result.stderr
    assert stored(sessions) == {"S1": ["Иванова"], "S4": [], "S5": []}
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert not [p for p in workdir.iterdir() if p.name.startswith(".")]  # no pending file

    assert cells(rejects) == {
        "5А": [
            [*HEADER, REASONS],
            ["S2", "Петрова", "Анна", "Игоревна", "31.02.2015", "5А", DATE_REASON],
            ["@S3", "Сидоров", None, None, datetime(2015, 1, 2), "5А", NAME_REASON],
        ],
        "Родители": [
            [*GUARDIANS_HEADER, REASONS],
            [
                "S2", "Петров Игорь Олегович", "отец", None, "igor@example.org",
                f"the student with ID 'S2' was rejected ({xlsx}, sheet '5А', row 3)",
            ],
            [
                "S9", "Никто Ничей", "отец", None, None,
                "column 'ID ученика' ('S9'): no student with ID 'S9' in the roster",
            ],
        ],
        "6Б": [
            ["ID", "Фамилия", "Имя", "Дата рождения", "Класс", REASONS],
            ["S6", GARBLED, "Иван", "02.09.2014", "6Б", GARBLED_REASON],
        ],
    }  # fmt: skip
    rows = {r["row"]: r for r in data["rejected_rows"] if r["sheet"] == "5А"}
    assert rows[3]["message"] == DATE_REASON and rows[3]["file"] == str(xlsx)

    # The secretary fixes the rows in the rejects file and imports it as it is.
    workbook = openpyxl.load_workbook(rejects)
    workbook["5А"]["E2"] = "28.02.2015"
    workbook["5А"]["C3"] = "Максим"
    workbook["Родители"].delete_rows(3)
    workbook["6Б"]["B2"] = "Щербаков"
    workbook.save(rejects)
    again = run_cli("--format", "json", "roster", "import", str(rejects))
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["created"], report["errors"], report["warnings"]) == (3, [], [])
    assert "rejected" not in report  # without --rejects the report is as it always was
    assert stored(sessions) == {
        "S1": ["Иванова"], "S2": ["Петров"], "@S3": [], "S4": [], "S5": [], "S6": []
    }  # fmt: skip


def test_without_rejects_nothing_changes(run_cli, workdir, db_snapshot):
    xlsx, csv = school_roster(workdir)
    before = db_snapshot()
    result = run_cli("--format", "json", "roster", "import", str(xlsx), str(csv))
    assert result.exit_code == 1, result.output
    assert "5 problem(s) in the roster; nothing was imported" in result.stderr
    data = json.loads(result.stdout)
    assert data["created"] == 0 and "rejected" not in data
    assert {(e["sheet"], e["row"]) for e in data["errors"]} == {
        ("5А", 3), ("5А", 4), ("Родители", 3), ("Родители", 4), (None, 3)
    }  # fmt: skip
    assert db_snapshot() == before


def test_dry_run_shows_the_rejects_and_writes_nothing(run_cli, workdir, db_snapshot):
    xlsx, csv = school_roster(workdir)
    before = db_snapshot()
    rejects = workdir / "to-fix.xlsx"
    result = run_cli(
        "--format", "json", "roster", "import", str(xlsx), str(csv), "--rejects", str(rejects),
        "--dry-run",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"], data["rejects_file"]) == (3, 5, None)
    assert f"rejected: {xlsx}, sheet '5А', row 3: {DATE_REASON}" in result.stderr
    assert "5 rows would be rejected" in result.stderr
    assert sorted(p.name for p in workdir.iterdir()) == ["6Б.csv", "school.xlsx"]
    assert db_snapshot() == before


def test_no_rejected_row_exits_0_and_writes_no_file(run_cli, workdir, sessions):
    path = write_xlsx(
        workdir / "r.xlsx", [HEADER, ["S1", "Иванов", "Пётр", None, "14.03.2015", "5А"]]
    )
    rejects = workdir / "to-fix.csv"
    result = run_cli("--format", "json", "roster", "import", str(path), "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"], data["rejects_file"]) == (1, 0, None)
    assert not rejects.exists()


def test_csv_rejects_round_trip_a_formula_looking_cell(run_cli, workdir, sessions):
    """A CSV's cells starting with = are defused with an apostrophe, which the reader drops:
    the fixed row imports with the ID as it was typed."""
    source = write_csv(
        workdir / "5А.csv",
        [
            ["ID", "Фамилия", "Имя", "Дата рождения", "Класс", "Примечание"],
            ["=1+1", "Иванов", "Пётр", "31.02.2015", "5А", "@home"],
            ["S2", "Петрова", "Анна", "01.03.2015", "5А", "-"],
        ],
        encoding="cp1251",
    )
    rejects = workdir / "to-fix.csv"
    result = run_cli("roster", "import", str(source), "--rejects", str(rejects))
    assert result.exit_code == 3, result.output
    text = rejects.read_bytes().decode("utf-8-sig")
    assert text.splitlines() == [
        f"ID;Фамилия;Имя;Дата рождения;Класс;Примечание;{REASONS}",
        "'=1+1;Иванов;Пётр;31.02.2015;5А;'@home;"
        "column 'Дата рождения' ('31.02.2015'): birth date: not a real date",
    ]
    rejects.write_bytes(text.replace("31.02.2015;", "28.02.2015;").encode("utf-8-sig"))
    again = run_cli("roster", "import", str(rejects))
    assert again.exit_code == 0, again.output
    assert REASONS not in again.stderr  # only the note column is unknown
    assert "column 'Примечание': unknown column, ignored" in again.stderr
    assert set(stored(sessions)) == {"=1+1", "S2"}


def test_csv_rejects_take_one_table(run_cli, workdir, db_snapshot):
    xlsx, csv = school_roster(workdir)
    before = db_snapshot()
    rejects = workdir / "to-fix.csv"
    result = run_cli("roster", "import", str(xlsx), str(csv), "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    assert "rows were rejected from 3 sheets or files" in result.stderr
    assert not rejects.exists()
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda w: w / "school.xlsx", [], "is one of the files being imported"),
        (lambda w: w / "to-fix.ods", [], "a rejects file is an .xlsx or a .csv file"),
        (lambda w: w / "nowhere" / "x.xlsx", [], "does not exist"),
        (lambda w: w / "to-fix.xlsx", ["--sync"], "--sync cannot be combined with --rejects"),
    ],
)
def test_refused_rejects_targets(run_cli, workdir, db_snapshot, make, extra, message):
    xlsx, _ = school_roster(workdir)
    before = db_snapshot()
    result = run_cli("roster", "import", str(xlsx), "--rejects", str(make(workdir)), *extra)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert db_snapshot() == before


def test_an_existing_rejects_file_needs_force(run_cli, workdir):
    xlsx, _ = school_roster(workdir)
    rejects = workdir / "to-fix.xlsx"
    rejects.write_bytes(b"old")
    refused = run_cli("roster", "import", str(xlsx), "--rejects", str(rejects))
    assert refused.exit_code == 1 and "already exists; use --force" in refused.stderr
    forced = run_cli("roster", "import", str(xlsx), "--rejects", str(rejects), "--force")
    assert forced.exit_code == 3, forced.output
    assert set(cells(rejects)) == {"5А", "Родители"}


def test_file_level_problems_still_refuse_everything(run_cli, workdir, db_snapshot):
    before = db_snapshot()
    good = write_xlsx(
        workdir / "r.xlsx", [HEADER, ["S1", "Иванов", "Пётр", None, "14.03.2015", "5А"]]
    )
    headless = write_csv(workdir / "notes.csv", [["Заметки"], ["купить мел"]], encoding="utf-8")
    rejects = workdir / "to-fix.xlsx"
    result = run_cli("roster", "import", str(good), str(headless), "--rejects", str(rejects))
    assert result.exit_code == 1, result.output
    assert "no header row found" in result.stderr
    assert not rejects.exists()
    assert db_snapshot() == before


def test_a_duplicate_is_rejected_and_the_first_row_kept(run_cli, workdir, sessions):
    """Rows refused only once the others are known (the same student twice) take another
    attempt: the first is rolled back, the second imports the rest."""
    path = write_xlsx(
        workdir / "r.xlsx",
        [
            HEADER,
            ["S1", "Иванов", "Пётр", None, "14.03.2015", "5А"],
            ["S2", "Петрова", "Анна", None, "01.03.2015", "5А"],
            ["S1", "Иванов", "Павел", None, "15.03.2015", "5А"],
        ],
    )
    rejects = workdir / "to-fix.xlsx"
    result = run_cli("--format", "json", "roster", "import", str(path), "--rejects", str(rejects))
    assert result.exit_code == 3, result.output
    assert json.loads(result.stdout)["created"] == 2
    [[_, *row]] = cells(rejects)["Лист1"][1:]
    assert row[:2] == ["Иванов", "Павел"]
    assert row[-1].startswith("column 'ID' ('S1'): the same ID as")
    with sessions() as session:
        assert session.scalar(select(Student.name).where(Student.external_id == "S1")) == "Пётр"
        files = [
            e.details["file"]
            for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "files.staged"))
        ]
    assert files == [str(rejects)]


def test_a_formula_row_is_rejected_and_the_rest_imported(run_cli, workdir, sessions):
    """The table reader itself refuses a row with a formula cell: the attempt importing the
    other rows must not stop at it."""
    path = write_xlsx(
        workdir / "r.xlsx",
        [
            HEADER,
            ["S1", "Иванов", "Пётр", None, "14.03.2015", "5А"],
            ["S2", "=B2", "Анна", None, "01.03.2015", "5А"],
        ],
    )
    rejects = workdir / "to-fix.xlsx"
    result = run_cli("roster", "import", str(path), "--rejects", str(rejects))
    assert result.exit_code == 3, result.output
    assert set(stored(sessions)) == {"S1"}
    [header, row] = cells(rejects)["Лист1"]
    assert header == [*HEADER, REASONS]
    assert row[0] == "S2" and row[-1].startswith("column 'Фамилия'")
    assert "a formula, not a value" in row[-1]


def test_every_row_rejected_imports_nothing_and_writes_them_all(run_cli, workdir, sessions):
    path = write_csv(
        workdir / "5А.csv",
        [
            ["Фамилия", "Имя", "Дата рождения", "Класс"],
            ["Иванов", "Пётр", "31.02.2015", "5А"],
            ["Петрова", "Анна", "когда-то", "5А"],
        ],
    )
    rejects = workdir / "to-fix.csv"
    result = run_cli("--format", "json", "roster", "import", str(path), "--rejects", str(rejects))
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"]) == (0, 2)
    assert stored(sessions) == {}
    lines = rejects.read_bytes().decode("utf-8-sig").splitlines()
    assert [line.split(";")[:2] for line in lines] == [
        ["Фамилия", "Имя"], ["Иванов", "Пётр"], ["Петрова", "Анна"]
    ]  # fmt: skip


def test_subprocess_run_exit_3_and_the_file(workdir, database_url, tmp_path):
    xlsx, csv = school_roster(workdir)
    rejects = workdir / "to-fix.xlsx"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")},
        "DIARYADMIN_SECRET_KEY": SECRET,
        "DIARYADMIN_DATABASE_URL": database_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "diaryadmin", "roster", "import", str(xlsx), str(csv),
         "--rejects", str(rejects)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "5 rows were rejected" in done.stderr
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    assert sum(len(rows) - 1 for rows in cells(rejects).values()) == 5


def _import_in_subprocess(database_url, workdir, args, pause=None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env.update(DIARYADMIN_SECRET_KEY=SECRET, DIARYADMIN_DATABASE_URL=database_url)
    if pause:
        env["DIARYADMIN_TEST_PAUSE_AT"] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "diaryadmin", "roster", "import", *args],
        cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_killed_around_the_commit_the_rejects_file_matches_the_database(
    database_url, workdir, sessions, db_snapshot, point
):
    """The rejects file is staged: killed before COMMIT there is none (and no student), after
    COMMIT the next run for the same path puts it in place."""
    xlsx, csv = school_roster(workdir)
    rejects = workdir / "to-fix.xlsx"
    args = [str(xlsx), str(csv), "--rejects", str(rejects)]
    before = db_snapshot()
    process = _import_in_subprocess(database_url, workdir, args, pause=point)
    assert f"paused at {point}" in process.stderr.readline()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    process.stderr.close()
    assert not rejects.exists()
    assert [p.name.endswith(".pending.xlsx") for p in workdir.iterdir() if p.name[0] == "."] == [
        True
    ]
    if point == "before-commit":
        assert db_snapshot() == before
    else:
        assert set(stored(sessions)) == {"S1", "S4", "S5"}
    rerun = _import_in_subprocess(database_url, workdir, args)
    assert rerun.wait(120) == (3 if point == "before-commit" else 1)
    said = rerun.stderr.read()
    rerun.stderr.close()
    if point == "before-commit":
        assert "committed nothing" in said and "5 rows were rejected" in said
    else:  # the file of the committed run is completed; this run changes nothing
        assert f"Completed {rejects}" in said and "already exists; use --force" in said
    assert rejects.exists() and sum(len(r) - 1 for r in cells(rejects).values()) == 5
    assert set(stored(sessions)) == {"S1", "S4", "S5"}


# -- applications -----------------------------------------------------------------------


def applications_file(folder: Path, settings, sessions) -> tuple[Path, list[dict]]:
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    rows = [dict(row) for row, *_ in CORPUS[:4]]
    rows[1]["Дата рождения ребёнка"] = "31.02.2016"
    rows[2]["Кем приходится"] = "сосед"
    return write_applications(folder / "portal.xlsx", rows), rows


def test_applications_rejects_then_the_fixed_file(run_cli, workdir, sessions, settings):
    path, rows = applications_file(workdir, settings, sessions)
    rejects = workdir / "to-fix.xlsx"
    result = run_cli(
        "--format", "json", "applications", "import", str(path), "--rejects", str(rejects)
    )
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert (data["created"], data["rejected"], data["rejects_file"]) == (2, 2, str(rejects))
    with sessions() as session:
        numbers = set(session.scalars(select(Application.external_id)))
    assert numbers == {rows[0]["Номер заявления"], rows[3]["Номер заявления"]}
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    [sheet] = cells(rejects).values()
    header, *rejected = sheet
    assert header == [*HEADER_APPLICATIONS, REASONS]
    assert [r[0] for r in rejected] == [rows[1]["Номер заявления"], rows[2]["Номер заявления"]]
    assert rejected[0][:-1] == [_typed(rows[1].get(c)) for c in HEADER_APPLICATIONS]
    assert "('31.02.2016')" in rejected[0][-1] and "unknown relation" in rejected[1][-1]

    workbook = openpyxl.load_workbook(rejects)
    sheet = workbook.active
    columns = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(2, columns["Дата рождения ребёнка"], rows[0]["Дата рождения ребёнка"])
    sheet.cell(3, columns["Кем приходится"], "мать")
    workbook.save(rejects)
    again = run_cli("--format", "json", "applications", "import", str(rejects))
    assert again.exit_code == 0, again.output
    assert (json.loads(again.stdout)["created"], json.loads(again.stdout)["warnings"]) == (2, [])


def _typed(value):
    """A cell as openpyxl reads back what write_xlsx wrote (dates as datetimes)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


def test_applications_without_rejects_and_dry_run(run_cli, workdir, sessions, settings):
    path, _ = applications_file(workdir, settings, sessions)
    refused = run_cli("applications", "import", str(path))
    assert refused.exit_code == 1 and "nothing was imported" in refused.stderr
    rejects = workdir / "to-fix.csv"
    dry = run_cli(
        "--format", "json", "applications", "import", str(path), "--rejects", str(rejects),
        "--dry-run",
    )  # fmt: skip
    assert dry.exit_code == 3, dry.output
    assert json.loads(dry.stdout)["rejected"] == 2
    assert not rejects.exists()
    with sessions() as session:
        assert session.scalars(select(Application)).first() is None


def test_applications_garbled_name_in_a_csv_is_a_row_problem(run_cli, workdir, sessions, settings):
    with sessions() as session, session.begin():
        build_roster(session, settings.require_secret_key())
    rows = [dict(row) for row, *_ in CORPUS[:2]]
    rows[1]["Фамилия заявителя" if "Фамилия заявителя" in rows[1] else "ФИО заявителя"] = (
        f"{GARBLED} Олег Петрович"
    )
    header = HEADER_APPLICATIONS
    source = write_csv(
        workdir / "office.csv",
        [header, *[[_csv(row.get(h)) for h in header] for row in rows]],
        encoding="utf-8",
    )
    rejects = workdir / "to-fix.csv"
    result = run_cli(
        "--format", "json", "applications", "import", str(source), "--rejects", str(rejects)
    )
    assert result.exit_code == 3, result.output
    [row] = json.loads(result.stdout)["rejected_rows"]
    assert row["row"] == 3 and "does not look like a name" in row["message"]
    assert GARBLED in rejects.read_text(encoding="utf-8-sig")


def _csv(value):
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return "" if value is None else str(value)


# -- the read limits of the settings ------------------------------------------------------


@pytest.mark.parametrize("command", ["roster", "applications", "journal"])
def test_the_settings_read_limits_bound_every_import(sessions, settings, workdir, command):
    """The limits are the settings' (from .env or the portal's own Settings), not only the
    environment's: here the environment has none and the settings allow 3 rows."""
    from diaryadmin.applications.store import import_applications
    from diaryadmin.config import ReadLimits
    from diaryadmin.journal.importing import import_journal
    from diaryadmin.roster.importing import import_roster
    from diaryadmin.schools import resolve_school

    assert "DIARYADMIN_MAX_ROWS" not in os.environ
    limited = dataclasses.replace(settings, read_limits=ReadLimits(max_rows=3))
    path = write_xlsx(
        workdir / "big.xlsx",
        [HEADER, *[[f"S{i}", "Иванов", "Пётр", None, "14.03.2015", "5А"] for i in range(6)]],
    )
    if command == "journal":  # a journal is imported into a school with classes
        small = write_xlsx(
            workdir / "r.xlsx", [HEADER, ["S1", "Иванов", "Пётр", None, "14.03.2015", "5А"]]
        )
        with sessions() as session, session.begin():
            import_roster(session, [small], settings=settings, operator="test")
    with pytest.raises(InputError) as raised, sessions() as session, session.begin():
        if command == "roster":
            import_roster(session, [path], settings=limited, operator="test")
        elif command == "applications":
            import_applications(session, limited, [path], operator="test")
        else:
            school = resolve_school(session, None, limited)
            import_journal(session, school, path, "test", limits=limited.read_limits)
    shown = " ".join([str(raised.value), *map(str, raised.value.problems)])
    assert "exceeds the limit of 3; if the file is genuine, raise DIARYADMIN_MAX_ROWS" in shown
