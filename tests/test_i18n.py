"""Messages in Russian or English: the language choice, the catalogues, and what a person sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from diaryadmin import i18n

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DIARYADMIN_LANG": "ru"}, "ru"),
        ({"DIARYADMIN_LANG": "en", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LANGUAGE": "ru:en", "LC_ALL": "C"}, "ru"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
        ({"DIARYADMIN_LANG": "de", "LANG": "ru_RU"}, "ru"),
    ],
)
def test_language_comes_from_the_setting_then_the_locale(environ, expected):
    assert i18n.language_from_environment(environ) == expected


def test_the_catalogues_are_complete_and_compiled():
    """Stale, untranslated or fuzzy messages, or a .mo not compiled from its .po, fail here."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "catalogue.py"), "check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_compiled_catalogues_ship_with_the_package():
    assert (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "diaryadmin.mo").is_file()
    assert (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "click.mo").is_file()


def _run(*args: str, lang: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env.update(DIARYADMIN_LANG=lang, LANG="C.UTF-8")
    return subprocess.run(
        [sys.executable, "-m", "diaryadmin", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )


def test_help_is_russian_for_russian_users_and_english_on_request(tmp_path):
    ru = _run("school", "show", "--help", lang="ru", tmp_path=tmp_path)
    en = _run("school", "show", "--help", lang="en", tmp_path=tmp_path)
    assert ru.returncode == en.returncode == 0
    assert "Which school (when there are several)." in en.stdout
    assert "Which school" not in ru.stdout
    assert "Какая школа" in ru.stdout


def test_the_language_can_come_from_the_env_file(tmp_path):
    (tmp_path / ".env").write_text("DIARYADMIN_LANG=ru\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env["LANG"] = "C.UTF-8"
    result = subprocess.run(
        [sys.executable, "-m", "diaryadmin", "school", "show", "--help"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert "Какая школа" in result.stdout, result.stdout + result.stderr


# --- what a person reads, in Russian and in English ---------------------------------------------

RU = {"DIARYADMIN_LANG": "ru"}
REAL_SCHOOL = {
    "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru",
    "DIARYADMIN_SCHOOL_NAME": "МБОУ СОШ № 7",
}


def test_an_error_is_russian_with_its_prefix_and_english_on_request(run_cli):
    ru = run_cli("school", "set", env=RU)
    assert ru.exit_code == 1
    assert ru.stderr == "ошибка: Нечего менять: укажите --name, --portal-url или --language.\n"
    en = run_cli("school", "set", env={"DIARYADMIN_LANG": "en"})
    assert en.stderr == "error: Nothing to set: give --name, --portal-url or --language.\n"


def test_check_prints_russian_headers_rows_and_verdict(run_cli):
    ru = run_cli("check", env={**RU, **REAL_SCHOOL})
    assert ru.exit_code == 0, ru.output
    header = ru.stdout.splitlines()[0].split()
    assert header == ["проверка", "статус", "сообщение"]
    assert "настройки в порядке" in ru.stdout
    assert "8 шаблонов работают на примере" in ru.stdout
    assert "название и адрес портала заданы" in ru.stdout
    assert ru.stderr.strip().splitlines()[-1].startswith("Готово")
    en = run_cli("check", env=REAL_SCHOOL)
    assert en.stdout.splitlines()[0].split() == ["name", "status", "message"]
    assert "8 templates render with sample data" in en.stdout
    # machine-readable output keeps its English keys and codes; the messages follow the language
    rows = json.loads(run_cli("--format", "json", "check", env={**RU, **REAL_SCHOOL}).stdout)
    assert [r["name"] for r in rows][:2] == ["config", "secret_key"]
    assert {r["status"] for r in rows} <= {"ok", "warning", "error", "skipped"}
    assert rows[0]["message"] == "настройки в порядке"


def test_school_show_names_its_items_in_russian(run_cli):
    done = run_cli("school", "set", "--name", "МБОУ СОШ № 7", env=RU)
    assert done.exit_code == 0, done.output
    assert "Школа school: изменено: название." in done.stderr
    assert "предупреждение: в памятках и письмах родителям будет адрес-заглушка" in done.stderr
    shown = run_cli("school", "show", env=RU).stdout
    assert "название" in shown and "адрес портала" in shown and "portal_url" not in shown
    assert "настройки (DIARYADMIN_PORTAL_URL)" in shown
    assert "portal_url" in run_cli("--format", "csv", "school", "show", env=RU).stdout


@pytest.mark.parametrize(
    ("count", "words"),
    [(1, "1 изменение:"), (2, "2 изменения:"), (5, "5 изменений:"), (11, "11 изменений:"),
     (21, "21 изменение:")],
)  # fmt: skip
def test_the_dry_run_plan_counts_in_russian_plural_forms(capsys, count, words):
    from diaryadmin.config import Settings
    from diaryadmin.context import AppContext
    from diaryadmin.plan import Plan

    plan = Plan()
    for n in range(count):
        plan.add("create", "student", f"Иванов Иван {n}", "5А")
    with i18n.using("ru"):
        AppContext(settings=Settings(), operator="t").show_plan(plan, dry_run=True)
    err = capsys.readouterr().err
    assert f"Пробный запуск, ничего не изменено; было бы сделано {words}" in err
    assert "  новый ученик: Иванов Иван 0 (5А)" in err
    with i18n.using("en"):
        AppContext(settings=Settings(), operator="t").show_plan(plan, dry_run=True)
    err = capsys.readouterr().err
    assert "create student Иванов Иван 0 (5А)" in err
    assert ("1 change:" if count == 1 else f"{count} changes:") in err


@pytest.mark.parametrize(
    ("done", "words"),
    [(1, "1 шаг, завершённый до этого, остаётся"), (3, "3 шага, завершённые до этого, остаются"),
     (5, "5 шагов"), (11, "11 шагов"), (21, "21 шаг,")],
)  # fmt: skip
def test_an_interruption_counts_the_committed_steps_in_russian(capsys, done, words):
    from diaryadmin.cli import report_interruption
    from diaryadmin.config import Settings
    from diaryadmin.context import AppContext

    app = AppContext(settings=Settings(), operator="t", commits=done)
    with i18n.using("ru"):
        assert report_interruption(KeyboardInterrupt(), app) == 130
    err = capsys.readouterr().err
    assert err.startswith("ошибка: прервано; ") and words in err


def test_a_table_is_for_a_person_csv_and_json_for_programs():
    from datetime import date, datetime

    from diaryadmin.output import render, render_object

    rows = [
        {
            "surname": "Иванов",
            "birth_date": date(2014, 3, 9),
            "active": True,
            "at": datetime(2026, 9, 1, 8, 5),
            "starts_on": "2026-09-01",
        }
    ]
    with i18n.using("ru"):
        table = render(rows, fmt="table")
        csv_text = render(rows, fmt="csv")
        json_text = render(rows, fmt="json")
        item = render_object({"created": 3}, fmt="table")
    assert table.splitlines()[0].split() == [
        "фамилия",
        "дата",
        "рождения",
        "активен",
        "когда",
        "начало",
    ]
    assert "09.03.2014" in table and "01.09.2026 08:05" in table and "01.09.2026" in table
    assert " да " in f" {table} "
    assert csv_text.splitlines() == [
        "surname,birth_date,active,at,starts_on",
        "Иванов,2014-03-09,yes,2026-09-01 08:05,2026-09-01",
    ]
    assert json.loads(json_text)[0]["birth_date"] == "2014-03-09"
    assert "создано" in item and "показатель" in item
    with i18n.using("en"):
        english = render(rows, fmt="table")
    assert english.splitlines()[0].split() == ["surname", "birth_date", "active", "at", "starts_on"]
    assert "09.03.2014" in english and "yes" in english


def test_a_problem_says_where_in_russian():
    from diaryadmin.errors import Problem

    problem = Problem("нет даты", file="5А.xlsx", sheet="Лист1", row=7, column="ДР", value="x")
    with i18n.using("ru"):
        assert str(problem) == "Файл 5А.xlsx, лист «Лист1», строка 7, столбец «ДР» («x»): нет даты"
    with i18n.using("en"):
        assert str(problem) == "5А.xlsx, sheet 'Лист1', row 7, column 'ДР' ('x'): нет даты"


def test_clicks_own_words_are_russian(tmp_path):
    ru = _run("roster", "lst", lang="ru", tmp_path=tmp_path)
    assert ru.returncode == 2
    assert "Использование: diaryadmin roster [OPTIONS] COMMAND [ARGS]..." in ru.stderr
    assert "Справка: «diaryadmin roster --help»." in ru.stderr
    assert "Ошибка: Нет команды «lst». Может быть, вы имели в виду 'list'?" in ru.stderr
    bad = _run("--format", "xml", "check", lang="ru", tmp_path=tmp_path)
    assert "Ошибка: Недопустимое значение '--format':" in bad.stderr
    assert "«xml» не подходит; допустимо одно из: 'table', 'csv', 'json'." in bad.stderr
    en = _run("roster", "lst", lang="en", tmp_path=tmp_path)
    assert "Error: No such command 'lst'." in en.stderr and "Usage:" in en.stderr


def test_the_exit_codes_epilog_is_russian(tmp_path):
    ru = _run("--help", lang="ru", tmp_path=tmp_path)
    assert "Коды завершения: 0 — успешно;" in ru.stdout and "Параметры:" in ru.stdout
    assert "Показать эту справку и выйти." in ru.stdout
    en = _run("--help", lang="en", tmp_path=tmp_path)
    assert "Exit codes: 0 success;" in en.stdout and "Show this message and exit." in en.stdout


# --- the progress bar's estimate ---------------------------------------------------------------


def test_no_time_left_is_estimated_before_a_few_items_and_seconds():
    from diaryadmin.output import format_duration, remaining_seconds

    assert remaining_seconds(0, 2500, 1.0) is None  # the setup before the first item
    assert remaining_seconds(1, 2500, 1.0) is None  # one slow first item
    assert remaining_seconds(50, 2500, 1.0) is None  # too soon to tell
    assert remaining_seconds(2500, 2500, 37.0) is None  # done
    assert remaining_seconds(100, 2500, 4.0) == pytest.approx(96.0)
    assert format_duration(96) == "01:36" and format_duration(3725) == "01:02:05"


def test_the_progress_bar_waits_for_a_real_rate(monkeypatch):
    """Was: "0% 00:42:35" for a 37-second job (the first item's start-up cost times 2500)."""
    import io
    import re
    import sys

    from diaryadmin import context
    from diaryadmin.config import Settings

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    now = [0.0]
    monkeypatch.setattr(context.time, "monotonic", lambda: now[0])
    app = context.AppContext(settings=Settings(), operator="t")
    with app.progress(2500, "Hashing") as advance:
        now[0] = 1.0
        advance(1)  # one item after a second: no estimate yet
        first = screen.getvalue()
        now[0] = 4.0
        advance(99)  # 100 items in 4 seconds: 2400 more take 96 seconds
        later = screen.getvalue()[len(first) :]
    assert not re.search(r"\d\d:\d\d", first), first
    assert "01:36" in later, later


# --- shell completion ----------------------------------------------------------------------------


def test_completion_prints_the_bash_script_and_completes_commands(tmp_path):
    script = _run("completion", "bash", lang="en", tmp_path=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "_DIARYADMIN_COMPLETE=bash_complete" in script.stdout
    assert "complete -o nosort -F _diaryadmin_completion diaryadmin" in script.stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIARYADMIN_")}
    env.update(_DIARYADMIN_COMPLETE="bash_complete", COMP_WORDS="diaryadmin ro", COMP_CWORD="1")
    offered = subprocess.run(
        [sys.executable, "-m", "diaryadmin"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert offered.stdout.split() == ["plain,roster"], offered.stdout + offered.stderr
    helped = _run("completion", "--help", lang="en", tmp_path=tmp_path)
    assert 'eval "$(diaryadmin completion bash)"' in helped.stdout and "~/.bashrc" in helped.stdout
