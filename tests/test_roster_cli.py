"""`diaryadmin roster` through the CLI: output shapes, --sync, and a corpus of broken files."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from pathlib import Path

import openpyxl

from helpers.roster import HEADER, write_csv, write_xlsx

IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]
PETROVA = ["S2", "Петрова", "Анна", "Игоревна", date(2015, 7, 1), "5А"]
SIDOROV = ["S3", "Сидоров", "Иван", None, date(2013, 2, 2), "7Б"]
PARENTS = ["ФИО матери", "Телефон матери", "E-mail матери"]


def roster(path: Path) -> Path:
    return write_xlsx(
        path,
        [
            [*HEADER, *PARENTS],
            [*IVANOV, "Иванова Мария Петровна", "8 912 345-67-89", "maria@example.org"],
            [*PETROVA, "Петрова Ольга Ивановна", None, None],
            [*SIDOROV, None, None, None],
        ],
    )


def test_import_json_shape_and_reimport(run_cli, workdir):
    path = roster(workdir / "roster.xlsx")
    result = run_cli("--format", "json", "roster", "import", str(path))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == [
        "created", "updated", "unchanged", "moved", "deactivated", "warnings", "errors"
    ]  # fmt: skip
    assert (data["created"], data["warnings"], data["errors"]) == (3, [], [])
    again = run_cli("roster", "import", str(path), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 3
    assert "Nothing changed" in again.stderr


def test_warnings_are_objects_with_their_place(run_cli, workdir):
    path = write_xlsx(
        workdir / "r.xlsx", [HEADER, ["S1", "Ивaнов", "Пётр", None, "14.03.2015", "5A"]]
    )
    result = run_cli("roster", "import", str(path), "--format", "json")
    [warning] = json.loads(result.stdout)["warnings"]
    assert warning == {
        "file": str(path),
        "sheet": "Лист1",
        "row": 2,
        "column": "Фамилия",
        "value": "Ивaнов",
        "message": "Latin look-alike letters replaced by Cyrillic: 'Иванов'",
    }
    assert "row 2, column 'Фамилия'" in result.stderr


def test_a_district_s_warnings_are_cut_on_stderr_and_all_in_json(run_cli, workdir):
    """Each of 205 surnames typed with a Latin 'a': 200 warnings on stderr and a line
    saying how many more; -v lists every one, and --format json reports all of them."""
    rows = [
        [f"S{n}", "Ивaнов", f"Пётр{chr(0x430 + n % 32)}", None, date(2015, 1, 1 + n % 28), "5А"]
        for n in range(205)
    ]
    path = write_xlsx(workdir / "district.xlsx", [HEADER, *rows])
    result = run_cli("roster", "import", str(path))
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert sum("look-alike" in line for line in lines) == 200
    assert "... and 5 more warnings; -v lists every one" in result.stderr
    again = run_cli("-v", "roster", "import", str(path), "--dry-run")
    assert sum("look-alike" in line for line in again.stderr.splitlines()) == 205
    data = json.loads(run_cli("--format", "json", "roster", "import", str(path)).stdout)
    assert len(data["warnings"]) == 205


def test_a_father_in_the_mother_s_columns_is_kept_with_a_warning(run_cli, workdir):
    header = [*HEADER, "ФИО матери", "ФИО отца"]
    path = write_xlsx(
        workdir / "swapped.xlsx",
        [
            header,
            [*IVANOV, "Иванов Сергей Петрович", "Иванова Мария Петровна"],
            [*PETROVA, "Петрова Ольга Ивановна", "Петров Игорь Олегович"],
            [*SIDOROV, "Алиева Лейла Рашид кызы", "Алиев Рашид Мамед оглы"],
        ],
    )
    result = run_cli("roster", "import", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    warnings = [
        (w["row"], w["column"], w["message"]) for w in json.loads(result.stdout)["warnings"]
    ]
    assert warnings == [
        (2, "ФИО матери", "mother by the file, but the patronymic 'Петрович' is a man's: check it"),
        (2, "ФИО отца", "father by the file, but the patronymic 'Петровна' is a woman's: check it"),
    ]
    listed = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    ivanov = next(row for row in listed if row["surname"] == "Иванов")
    assert {"name": "Иванов Сергей Петрович", "relation": "mother"}.items() <= (
        ivanov["guardians"][0].items()
    )


def test_list_json_shape_with_guardians(run_cli, workdir):
    run_cli("roster", "import", str(roster(workdir / "roster.xlsx")))
    result = run_cli("roster", "list", "--class", "5 а", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["surname"] for r in rows] == ["Иванов", "Петрова"]
    assert set(rows[0]) == {
        "id", "external_id", "surname", "name", "patronymic", "birth_date", "class", "active",
        "guardians",
    }  # fmt: skip
    assert rows[0]["birth_date"] == "2015-03-14" and rows[0]["class"] == "5А"
    assert rows[0]["guardians"] == [
        {
            "name": "Иванова Мария Петровна",
            "relation": "mother",
            "email": "maria@example.org",
            "phone": "+79123456789",
        }
    ]
    table = run_cli("roster", "list")
    assert "Иванова Мария Петровна, мать, maria@example.org, +79123456789" in table.stdout
    assert "Сидоров" in table.stdout


def test_sync_asks_lists_and_deactivates(run_cli, workdir, db_snapshot):
    run_cli("roster", "import", str(roster(workdir / "roster.xlsx")))
    smaller = write_xlsx(workdir / "smaller.xlsx", [HEADER, IVANOV])
    before = db_snapshot()
    dry = run_cli("roster", "import", str(smaller), "--sync", "--dry-run")
    assert dry.exit_code == 0
    # The file covers 5А only: Sidorov of 7Б is out of the sync's scope (issue 11).
    assert "1 active student is missing" in dry.stderr and "Петрова Анна Игоревна" in dry.stderr
    assert "Сидоров" not in dry.stderr
    declined = run_cli("roster", "import", str(smaller), "--sync", input="n\n")
    assert declined.exit_code == 1 and "not confirmed" in declined.stderr
    assert db_snapshot() == before
    done = run_cli("--format", "json", "roster", "import", str(smaller), "--sync", input="y\n")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["deactivated"] == 1
    listed = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    assert [r["surname"] for r in listed] == ["Иванов", "Сидоров"]
    everyone = json.loads(run_cli("roster", "list", "--inactive", "--format", "json").stdout)
    assert sorted((r["surname"], r["active"]) for r in everyone) == [
        ("Иванов", True), ("Петрова", False), ("Сидоров", True)
    ]  # fmt: skip
    quiet = run_cli("roster", "import", str(smaller), "--sync", "--yes")
    assert quiet.exit_code == 0 and "missing" not in quiet.stderr  # nobody left to deactivate


def test_dry_run_names_who_is_created_moved_and_deactivated(run_cli, workdir, db_snapshot):
    run_cli("roster", "import", str(roster(workdir / "roster.xlsx")))
    moved = [*IVANOV[:5], "6А"]
    newcomer = ["S4", "Кузнецова", "Ольга", "Петровна", date(2015, 1, 9), "5А"]
    changed = write_xlsx(workdir / "changed.xlsx", [HEADER, moved, newcomer, SIDOROV])
    before = db_snapshot()
    dry = run_cli("roster", "import", str(changed), "--sync", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "move student Иванов Пётр Сергеевич (5А → 6А)" in dry.stderr
    assert "create student Кузнецова Ольга Петровна (5А)" in dry.stderr
    assert "deactivate student Петрова Анна Игоревна (5А)" in dry.stderr
    assert "Сидоров" not in dry.stderr.split("changes:")[1]  # unchanged: not in the plan
    assert db_snapshot() == before


def test_sync_with_class_only_touches_that_class(run_cli, workdir):
    run_cli("roster", "import", str(roster(workdir / "roster.xlsx")))
    one_class = write_csv(workdir / "5a.csv", [HEADER[:5], [*IVANOV[:4], "14.03.2015"]])
    result = run_cli(
        "roster", "import", str(one_class), "--class", "5А", "--sync", "--yes", "--format", "json"
    )
    assert json.loads(result.stdout)["deactivated"] == 1  # Petrova, not Sidorov of 7Б


def _formula_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(IVANOV)
    sheet.append(["S2", "=B2", "Анна", None, date(2015, 7, 1), "5А"])
    workbook.save(path)
    return path


def _truncated_xlsx(path: Path) -> Path:
    whole = write_xlsx(path.with_name("whole.xlsx"), [HEADER, IVANOV, PETROVA]).read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    return path


BROKEN = {
    "missing required column": (
        lambda p: write_xlsx(p / "a.xlsx", [HEADER[:4] + ["Класс"], IVANOV[:4] + ["5А"]]),
        ["row 1", "missing required column: Дата рождения"],
    ),
    "bad date in one row": (
        lambda p: write_csv(p / "b.csv", [HEADER, [*IVANOV[:4], "14.03.2015", "5А"],
                                          [*PETROVA[:4], "31.02.2015", "5А"]]),
        ["row 3, column 'Дата рождения' ('31.02.2015')", "not a real date"],
    ),
    "truncated xlsx": (
        lambda p: _truncated_xlsx(p / "c.xlsx"),
        ["c.xlsx", "is not a readable spreadsheet"],
    ),
    "not a spreadsheet at all": (
        lambda p: (p / "d.xlsx").write_bytes(b"Just some notes, not a workbook\n") and p / "d.xlsx",
        ["d.xlsx", "is not a readable spreadsheet"],
    ),
    "empty csv": (lambda p: (p / "e.csv").write_bytes(b"") == 0 and p / "e.csv", ["is empty"]),
    "empty xlsx": (lambda p: (p / "e.xlsx").write_bytes(b"") == 0 and p / "e.xlsx", ["is empty"]),
    "only a header": (lambda p: write_csv(p / "h.csv", [HEADER]), ["no students found"]),
    "duplicate student": (
        lambda p: write_xlsx(p / "f.xlsx", [HEADER, IVANOV, PETROVA, [*IVANOV[:5], "5Б"]]),
        ["row 4, column 'ID' ('S1'): the same ID as", "row 2"],
    ),
    "formula cells": (
        lambda p: _formula_xlsx(p / "f.xlsx"),
        ["row 3, column 'Фамилия': a formula, not a value"],
    ),
    "bad e-mail and phone": (
        lambda p: write_xlsx(p / "g.xlsx", [[*HEADER, *PARENTS],
                                            [*IVANOV, "Иванова Мария", "12345", "maria@"]]),
        ["row 2, column 'Телефон матери' ('12345')", "row 2, column 'E-mail матери' ('maria@')"],
    ),
}  # fmt: skip


def test_broken_files_refused_with_place_and_nothing_changed(run_cli, workdir, db_snapshot):
    run_cli("roster", "import", str(roster(workdir / "roster.xlsx")))
    before = db_snapshot()
    for case, (make, expected) in BROKEN.items():
        folder = workdir / case.replace(" ", "_")
        folder.mkdir()
        path = make(folder)
        result = run_cli("roster", "import", str(path), "--format", "json")
        assert result.exit_code == 1, (case, result.output)
        for text in expected:
            assert text in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.output
        if result.stdout.strip():
            report = json.loads(result.stdout)
            assert report["created"] == 0 and report["errors"], case
            assert set(report["errors"][0]) == {
                "file",
                "sheet",
                "row",
                "column",
                "value",
                "message",
            }
        assert db_snapshot() == before, case


def test_one_bad_row_among_good_files_refuses_all(run_cli, workdir, db_snapshot):
    good = write_xlsx(workdir / "good.xlsx", [HEADER, IVANOV])
    bad = write_csv(workdir / "bad.csv", [HEADER, [*PETROVA[:4], "01.07.2015", "13А"]])
    before = db_snapshot()
    result = run_cli("roster", "import", str(good), str(bad))
    assert result.exit_code == 1
    assert "bad.csv, row 2, column 'Класс' ('13А')" in result.stderr
    assert db_snapshot() == before


def test_oneroster_zip_from_another_system(run_cli, workdir):
    files = {
        "orgs.csv": "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
        "org1,,,Школа № 7,school,7,\n",
        "classes.csv": "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,"
        "classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n"
        "c1,,,5 «А»,05,k5,5a,homeroom,,org1,t1,,,\n"
        "c2,,,Математика,05,k5,math5,scheduled,,org1,t1,,,\n",
        "users.csv": "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,"
        "userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,"
        "grades,password\n"
        'u1,,,true,org1,student,,,Пётр,Иванов,Сергеевич,,,,,"p1,p2",05,\n'
        "u2,,,true,org1,student,,,Анна,Иванова,Сергеевна,ID-2,,,,,05,\n"
        'p1,,,true,org1,parent,,,Мария,Иванова,Петровна,,maria@example.org,,,"u1,u2",,\n'
        "p2,,,true,org1,guardian,,,Олег,Сидоров,,,,,89001234567,,,\n"
        "t9,,,true,org1,teacher,,,Нина,Учителева,,,,,,,,\n",
        "enrollments.csv": "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,"
        "userSourcedId,role,primary,beginDate,endDate\n"
        "e1,,,c2,org1,u1,student,,,\ne2,,,c1,org1,u1,student,,,\ne3,,,c1,org1,u2,student,,,\n",
        "demographics.csv": "sourcedId,status,dateLastModified,birthDate,sex\n"
        "u1,,,2015-03-14,male\nu2,,,2016-04-04,female\n",
    }
    archive = workdir / "oneroster.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, text in files.items():
            zf.writestr(f"export/{name}", text.encode("utf-8-sig"))
    result = run_cli("roster", "import", str(archive), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == 2
    rows = json.loads(run_cli("roster", "list", "--format", "json").stdout)
    by_name = {r["name"]: r for r in rows}
    assert (by_name["Пётр"]["external_id"], by_name["Пётр"]["class"]) == ("u1", "5А")
    assert by_name["Анна"]["external_id"] == "ID-2"
    assert [(g["name"], g["relation"]) for g in by_name["Пётр"]["guardians"]] == [
        ("Иванова Мария Петровна", "mother"),
        ("Сидоров Олег", "guardian"),
    ]
    assert [g["name"] for g in by_name["Анна"]["guardians"]] == ["Иванова Мария Петровна"]
    # The same folder, unzipped, is the same roster.
    folder = workdir / "folder"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    again = run_cli("roster", "import", str(folder), "--format", "json")
    assert json.loads(again.stdout)["unchanged"] == 2
    # Without demographics there is no birth date: an error at the student's users.csv row.
    (folder / "demographics.csv").unlink()
    broken = run_cli("roster", "import", str(folder))
    assert broken.exit_code == 1
    assert "users.csv, row 2, column 'sourcedId' ('u1'): no birth date" in broken.stderr
