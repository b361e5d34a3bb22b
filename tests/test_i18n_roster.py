"""Roster and reader messages in Russian (and English left English), and `roster list --class`
for a class that does not exist."""

from __future__ import annotations

from datetime import date

from helpers.roster import HEADER, write_xlsx

RU = {"DIARYADMIN_LANG": "ru"}
IVANOV = ["S1", "Иванов", "Пётр", "Сергеевич", date(2015, 3, 14), "5А"]


def test_list_of_a_class_that_does_not_exist_says_so(run_cli, workdir):
    path = write_xlsx(workdir / "r.xlsx", [HEADER, IVANOV])
    assert run_cli("roster", "import", str(path)).exit_code == 0
    unknown = run_cli("roster", "list", "--class", "5Г")
    assert unknown.exit_code == 1
    assert "No class 5Г on the roster." in unknown.stderr
    assert run_cli("roster", "list", "--class", "5 а").exit_code == 0  # exists, spelt loosely
    ru = run_cli("roster", "list", "--class", "5Г", env=RU)
    assert ru.exit_code == 1 and "Класса 5Г нет в списке учеников." in ru.stderr
