"""Credentials and guardians in the reader's language: Russian messages with real plurals, the
doctor in Russian, English left as it was; warnings before slips print placeholders; names
declined where a letter's sentence needs it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from helpers.credentials import FAST, FAST_ENV, NOW, issue, make_roster

REAL_PORTAL = {**FAST_ENV, "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru"}
RU = {"DIARYADMIN_LANG": "ru"}


@pytest.fixture
def roster(sessions):
    with sessions.begin() as session:
        return make_roster(session)


# --- placeholders on slips and letters -----------------------------------------------------------


def test_issue_warns_before_slips_send_parents_to_the_placeholder_portal(run_cli, roster):
    result = run_cli("credentials", "issue", "--class", "5А", "--out", "s.html", env=FAST_ENV)
    assert result.exit_code == 0, result.output
    warning = (
        "warning: slips and letters will send parents to the placeholder address "
        "https://diary.school7.example: set the school's own with 'diaryadmin school set "
        "--school s1 --portal-url https://...'"
    )
    lines = result.stderr.splitlines()
    assert lines[0] == warning
    assert lines.count(warning) == 1
    assert lines[-1].startswith("Wrote 3 passwords to s.html")


def test_no_warning_with_a_real_portal_or_a_mail_merge_table(run_cli, roster):
    slips = run_cli("credentials", "issue", "--class", "5А", "--out", "s.html", env=REAL_PORTAL)
    assert slips.exit_code == 0, slips.output
    assert "warning" not in slips.stderr
    table = run_cli("credentials", "issue", "--class", "7Б", "--out", "m.csv", env=FAST_ENV)
    assert table.exit_code == 0, table.output
    assert "warning" not in table.stderr


def test_issue_warns_about_the_default_school_name_and_still_issues(run_cli, sessions, roster):
    from sqlalchemy import update

    from diaryadmin.models import School

    with sessions.begin() as session:
        session.execute(update(School).values(name="Школа"))
    result = run_cli("credentials", "issue", "--all", "--out", "s.html", env=REAL_PORTAL)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        "warning: slips and letters will name the school 'Школа', the placeholder: set it with "
        "'diaryadmin school set --school s1 --name \"МБОУ СОШ № 1\"'"
    )
    assert "Wrote 4 passwords to s.html" in result.stderr


def test_reset_warns_when_it_prints_a_slip_not_for_a_table(run_cli, roster):
    issued = run_cli("credentials", "issue", "--class", "7Б", "--out", "a.csv", env=FAST_ENV)
    assert issued.exit_code == 0, issued.output
    slip = run_cli("credentials", "reset", "anna.ivanova", "--out", "r.html", env=FAST_ENV)
    assert slip.exit_code == 0, slip.output
    assert slip.stderr.startswith(
        "warning: slips and letters will send parents to the placeholder address"
    )
    table = run_cli("credentials", "reset", "anna.ivanova", "--out", "r.csv", env=FAST_ENV)
    assert table.exit_code == 0, table.output
    assert "warning" not in table.stderr


# --- Russian messages, English kept --------------------------------------------------------------


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**FAST)


def test_issue_status_and_revoke_speak_russian(run_cli, roster):
    issued = run_cli(
        "credentials", "issue", "--class", "5А", "--out", "s.html", env={**RU, **REAL_PORTAL}
    )
    assert issued.exit_code == 0, issued.output
    assert issued.stderr.splitlines()[-1] == "Записано 3 пароля в файл s.html (права 0600)."
    one = run_cli(
        "credentials", "issue", "--class", "7Б", "--out", "a.html", env={**RU, **REAL_PORTAL}
    )
    assert one.stderr.splitlines()[-1] == "Записан 1 пароль в файл a.html (права 0600)."
    again = run_cli(
        "credentials", "issue", "--class", "5А", "--out", "b.html", env={**RU, **REAL_PORTAL}
    )
    assert again.stderr.splitlines()[-1] == (
        "Выдавать некому: у всех в выборке уже есть логин (чтобы выдать пароли заново, "
        "добавьте --reissue)."
    )

    revoked = run_cli("credentials", "revoke", "iuliia.shchukina", "--yes", env=RU)
    assert revoked.exit_code == 0, revoked.output
    assert revoked.stderr == "Логин iuliia.shchukina отозван.\n"
    twice = run_cli("credentials", "revoke", "iuliia.shchukina", env=RU)
    assert twice.stderr == "Логин iuliia.shchukina уже отозван; ничего не изменено.\n"

    status = run_cli("credentials", "status", env=RU)
    lines = status.stdout.splitlines()
    assert lines[0].split() == ["класс", "временный", "свой", "пароль", "истёк", "заблокирован",
                                "отозван", "не", "выдан"]  # fmt: skip
    assert ["всего", "3", "0", "0", "0", "1", "0"] in [line.split() for line in lines]
    assert "Без действующего доступа (1):" in lines
    assert any("iuliia.shchukina" in line and "отозван" in line for line in lines)
    # machine-readable output keeps its codes whatever the language
    data = json.loads(run_cli("credentials", "status", "--format", "json", env=RU).stdout)
    assert data["total"]["class"] == "all"
    assert data["without_access"][0]["state"] == "revoked"


def test_the_same_commands_stay_english(run_cli, roster):
    issued = run_cli("credentials", "issue", "--class", "5А", "--out", "s.html", env=REAL_PORTAL)
    assert issued.stderr.splitlines()[-1] == "Wrote 3 passwords to s.html (mode 0600)."
    status = run_cli("credentials", "status")
    assert status.stdout.splitlines()[0].split()[:3] == ["class", "temporary", "active"]
    assert "Without working access (1):" in status.stdout
    one = run_cli("credentials", "issue", "--class", "7Б", "--out", "a.html", env=REAL_PORTAL)
    assert one.stderr.splitlines()[-1] == "Wrote 1 password to a.html (mode 0600)."
    unknown = run_cli("credentials", "doctor", "nosuch")
    assert unknown.stdout.splitlines()[2].split(maxsplit=1) == [
        "unknown_login",
        "There is no login 'nosuch'.",
    ]


def test_errors_and_help_in_russian(run_cli, roster):
    unknown = run_cli("credentials", "reset", "nosuch", "--out", "x.html", env=RU)
    assert unknown.exit_code == 1
    assert (
        "Логин 'nosuch' не найден; проверьте командой 'diaryadmin credentials doctor nosuch'."
        in unknown.stderr
    )
    no_class = run_cli("credentials", "issue", "--class", "9Я", "--out", "x.html", env=RU)
    assert "В списке учеников нет класса 9Я." in no_class.stderr
    help_text = run_cli("credentials", "issue", "--help", env=RU).stdout
    assert "Выдать логины и временные пароли законным представителям из выборки." in help_text
    assert "Пример:\n    diaryadmin credentials issue --class 5А --class 5Б" in help_text
    assert "Куда записать пароли: .html — памятки для печати" in help_text
    grant_help = run_cli("guardians", "grant", "--help", env=RU).stdout
    assert "ФИО доверенного лица." in grant_help


def test_guardians_grant_and_revoke_in_russian(run_cli, roster):
    person = "Петрова Галина Ивановна"
    granted = run_cli(
        "guardians", "grant", "--student", str(roster["petr"]), "--guardian", "Иванова Мария",
        "--person", person, "--out", "g.html", env={**RU, **REAL_PORTAL},
    )  # fmt: skip
    assert granted.exit_code == 0, granted.output
    assert granted.stderr.splitlines()[:2] == [
        "Петрова Галина Ивановна получает доступ; его предоставляет Иванова Мария Петровна.",
        "Записан 1 пароль в файл g.html (права 0600).",
    ]
    again = run_cli(
        "guardians", "grant", "--student", str(roster["petr"]), "--guardian", "Иванова Мария",
        "--person", person, "--out", "h.html", env={**RU, **REAL_PORTAL},
    )  # fmt: skip
    assert again.exit_code == 1
    assert "Петрова Галина Ивановна: доступ к этому ребёнку уже есть." in again.stderr
    revoked = run_cli(
        "guardians", "revoke", "--student", str(roster["petr"]), "--person", person, "--yes",
        env=RU,
    )  # fmt: skip
    assert revoked.stderr == "Петрова Галина Ивановна: доступ закрыт.\n"


# --- the doctor in Russian, with plurals ---------------------------------------------------------


def _finding(sessions, fast, login, now):
    from diaryadmin import i18n
    from diaryadmin.credentials import doctor

    with sessions.begin() as session, i18n.using("ru"):
        (finding,) = doctor.diagnose(session, fast, login, now=now)
    return finding


@pytest.mark.parametrize(
    ("days", "word"), [(1, "день"), (2, "дня"), (5, "дней"), (11, "дней"), (21, "день")]
)
def test_the_doctor_counts_days_in_russian(sessions, fast, roster, days, word):
    from sqlalchemy import select

    from diaryadmin.models import Credential

    issue(sessions, fast, classes=["5А"])
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "iuliia.shchukina"))
        row.expires_at = NOW + timedelta(days=days)
    finding = _finding(sessions, fast, "iuliia.shchukina", NOW)
    until = (NOW + timedelta(days=days)).strftime("%d.%m.%Y")
    assert finding.message == (
        f"Логин iuliia.shchukina всё ещё с временным паролем: он действует ещё {days} {word}, "
        f"до {until}, и при первом входе его нужно заменить."
    )


@pytest.mark.parametrize(
    ("attempts", "words"),
    [(1, "неудачной попытки"), (2, "неудачных попыток"), (5, "неудачных попыток"),
     (11, "неудачных попыток"), (21, "неудачной попытки")],
)  # fmt: skip
def test_the_doctor_counts_failed_attempts_in_russian(sessions, fast, roster, attempts, words):
    from sqlalchemy import select

    from diaryadmin.models import Credential

    issue(sessions, fast, classes=["5А"])
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "iuliia.shchukina"))
        row.state, row.failed_attempts = "locked", attempts
    finding = _finding(sessions, fast, "iuliia.shchukina", NOW)
    assert finding.message == (
        f"Логин iuliia.shchukina заблокирован после {attempts} {words} входа; сбросьте пароль "
        "командой 'diaryadmin credentials reset iuliia.shchukina --out FILE'."
    )


def test_the_doctor_on_the_phone_in_russian(run_cli, sessions, fast, roster):
    issue(sessions, fast, classes=["5А"])
    found = run_cli("credentials", "doctor", "шгдшшфюырсрглштф", env=RU)  # the RU layout
    assert found.exit_code == 0, found.output
    lines = found.stdout.splitlines()
    assert lines[0].split() == ["код", "сообщение"]
    assert lines[2].split(maxsplit=1) == [
        "login_cyrillic",
        "Логин набран русскими буквами (или в русской раскладке); правильно — "
        "iuliia.shchukina, латинскими буквами.",
    ]
    wrong = run_cli(
        "credentials", "doctor", "iuliia.shchukina", "--attempt", input="nope\n", env=RU
    )
    assert wrong.stdout.splitlines()[-1].split(maxsplit=1) == [
        "password_wrong",
        "Пароль неверный, и дело не в Caps Lock, не в раскладке клавиатуры и не в путанице 0/O "
        "или 1/l; если родитель потерял пароль, выдайте новый командой "
        "'diaryadmin credentials reset iuliia.shchukina --out FILE'.",
    ]


def test_failed_letters_and_reminders_are_counted_in_russian():
    from diaryadmin import i18n
    from diaryadmin.credentials.delivery import raise_for_failures
    from diaryadmin.credentials.issue import IssueResult
    from diaryadmin.errors import PartialFailure

    said = {}
    for count in (1, 2, 5, 11, 21):
        result = IssueResult(issued=[], skipped=0, failed=[{"login": "x"}] * count)
        with i18n.using("ru"), pytest.raises(PartialFailure) as caught:
            raise_for_failures(result, Path("s.html"))
        said[count] = str(caught.value).split(";")[0]
    assert said == {
        1: "Не удалось отправить 1 письмо",
        2: "Не удалось отправить 2 письма",
        5: "Не удалось отправить 5 писем",
        11: "Не удалось отправить 11 писем",
        21: "Не удалось отправить 21 письмо",
    }


# --- names declined in documents ------------------------------------------------------------------

# (full name, genitive, dative): real names, Turkic patronymics, double and unchangeable surnames.
NAMES = [
    ("Иванов Пётр Сергеевич", "Иванова Петра Сергеевича", "Иванову Петру Сергеевичу"),
    ("Егорова Мария Ивановна", "Егоровой Марии Ивановны", "Егоровой Марии Ивановне"),
    ("Черных Анна Олеговна", "Черных Анны Олеговны", "Черных Анне Олеговне"),
    ("Черных Илья Викторович", "Черных Ильи Викторовича", "Черных Илье Викторовичу"),
    ("Дурново Николай Петрович", "Дурново Николая Петровича", "Дурново Николаю Петровичу"),
    ("Шевченко Ольга Тарасовна", "Шевченко Ольги Тарасовны", "Шевченко Ольге Тарасовне"),
    ("Шевченко Тарас Григорьевич", "Шевченко Тараса Григорьевича", "Шевченко Тарасу Григорьевичу"),
    ("Мамедов Эльчин Рашид оглы", "Мамедова Эльчина Рашид оглы", "Мамедову Эльчину Рашид оглы"),
    ("Алиева Лейла Гейдар кызы", "Алиевой Лейлы Гейдар кызы", "Алиевой Лейле Гейдар кызы"),
    ("Асанов Бекзат Нурлан уулу", "Асанова Бекзата Нурлан уулу", "Асанову Бекзату Нурлан уулу"),
    ("Римская-Корсакова Анна Сергеевна", "Римской-Корсаковой Анны Сергеевны",
     "Римской-Корсаковой Анне Сергеевне"),
    ("Петров-Водкин Кузьма Сергеевич", "Петрова-Водкина Кузьмы Сергеевича",
     "Петрову-Водкину Кузьме Сергеевичу"),
    ("Толстой Лев Николаевич", "Толстого Льва Николаевича", "Толстому Льву Николаевичу"),
    ("Кузьмина Любовь Ильинична", "Кузьминой Любови Ильиничны", "Кузьминой Любови Ильиничне"),
    ("Бондаренко Никита Фомич", "Бондаренко Никиты Фомича", "Бондаренко Никите Фомичу"),
    ("Жук Олег Павлович", "Жука Олега Павловича", "Жуку Олегу Павловичу"),
    ("Жук Ирина Павловна", "Жук Ирины Павловны", "Жук Ирине Павловне"),
    ("Цой Виктор Робертович", "Цоя Виктора Робертовича", "Цою Виктору Робертовичу"),
    ("Глинка Михаил Иванович", "Глинки Михаила Ивановича", "Глинке Михаилу Ивановичу"),
    ("Седых Алексей Ильич", "Седых Алексея Ильича", "Седых Алексею Ильичу"),
    ("Заболоцкий Николай Алексеевич", "Заболоцкого Николая Алексеевича",
     "Заболоцкому Николаю Алексеевичу"),
    ("Щукина Ольга", "Щукиной Ольги", "Щукиной Ольге"),  # no patronymic: gender by the name
]  # fmt: skip


@pytest.mark.parametrize(("name", "genitive", "dative"), NAMES, ids=[n[0] for n in NAMES])
def test_names_are_declined_by_the_petrovich_rules(name, genitive, dative):
    from diaryadmin.people.declension import declined_full_name

    assert declined_full_name(name, "genitive") == genitive
    assert declined_full_name(name, "dative") == dative


def test_a_name_that_does_not_tell_the_gender_is_not_declined():
    from diaryadmin.letters import pupil_genitive
    from diaryadmin.people.declension import declined_full_name, gender_of_full_name

    assert gender_of_full_name("Ким Саша") is None
    assert declined_full_name("Ким Саша") is None
    assert declined_full_name("Одно") is None
    assert pupil_genitive("Ким Саша") == "ребёнка (Ким Саша)"
    assert pupil_genitive("Егорова Мария Ивановна") == "ученицы Егоровой Марии Ивановны"
    assert pupil_genitive("Мамедов Эльчин Рашид оглы") == "ученика Мамедова Эльчина Рашид оглы"


def _issued(student: str):
    from datetime import datetime

    from diaryadmin.credentials.issue import IssuedCredential

    return IssuedCredential(
        login="mariia.egorova", password="abcd-efgh-2345", student=student, class_name="5А",
        guardian="Егорова Анна Петровна", relation="mother", email="anna@example.org",
        expires_at=datetime(2026, 10, 1), guardianship_id=1, school="МБОУ СОШ № 1",
        portal_url="https://diary.school7.ru",
    )  # fmt: skip


def test_letters_and_slips_decline_the_childs_name(settings):
    from diaryadmin import letters, mail

    message = mail.credential_message(_issued("Егорова Мария Ивановна"), settings)
    text = message.get_body(("plain",)).get_content()
    assert (
        "МБОУ СОШ № 1 выдаёт вам доступ к электронному дневнику ученицы Егоровой Марии "
        "Ивановны, класс 5А." in text
    )
    html = message.get_body(("html",)).get_content()
    assert "дневнику ученицы Егоровой Марии Ивановны, класс 5А." in html
    reminder = mail.reminder_message(
        {"login": "petr.ivanov", "student": "Иванов Пётр Сергеевич", "email": "a@example.org",
         "expires_at": _issued("x").expires_at, "school": "МБОУ СОШ № 1", "guardian": "Иванова"},
        settings,
    )  # fmt: skip
    assert (
        "Временный пароль к электронному дневнику ученика Иванова Петра Сергеевича (логин "
        "petr.ivanov) действует до 01.10.2026." in reminder.get_body(("plain",)).get_content()
    )
    slips = letters.slips_html(
        [_issued("Егорова Мария Ивановна"), _issued("Егоров Иван Ильич")], settings
    )
    assert '<td class="k">Ученица</td><td>Егорова Мария Ивановна</td>' in slips
    assert '<td class="k">Ученик</td><td>Егоров Иван Ильич</td>' in slips


def test_a_dry_run_names_whose_login_in_russian_and_in_english(run_cli, roster):
    russian = run_cli("credentials", "issue", "--class", "5А", "--dry-run", env=RU)
    assert russian.exit_code == 0, russian.output
    assert "Иванова Мария Петровна (мать), ребёнок: Иванов Пётр Сергеевич, класс 5А" in (
        russian.stderr
    )
    english = run_cli("credentials", "issue", "--class", "5А", "--dry-run")
    assert "Иванова Мария Петровна (mother) for Иванов Пётр Сергеевич, 5А" in english.stderr


def test_a_grant_warns_before_its_slip_too(run_cli, roster):
    granted = run_cli(
        "guardians", "grant", "--student", str(roster["petr"]), "--guardian", "Иванова Мария",
        "--person", "Петрова Галина Ивановна", "--out", "g.html", env=FAST_ENV,
    )  # fmt: skip
    assert granted.exit_code == 0, granted.output
    assert granted.stderr.startswith(
        "warning: slips and letters will send parents to the placeholder address"
    )
