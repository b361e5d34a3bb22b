"""Documents for parents in the school's language (`school set --language`), whatever the
operator reads: slips, credential e-mails, reminders, "forgot password" letters, refusal letters
and the applications report; Russian for a school without the setting; the migration that adds
it; every template string in the catalogue."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from diaryadmin import db, i18n, letters, mail
from diaryadmin.applications.report import refusal_letter, write_report
from diaryadmin.config import Settings
from diaryadmin.credentials.issue import IssuedCredential
from diaryadmin.credentials.recovery import RecoveryLetter, RecoveryLogin
from diaryadmin.errors import Refused
from diaryadmin.models import Application, AuditEvent, School
from diaryadmin.schools import document_language, set_school
from helpers.credentials import FAST_ENV, make_roster
from helpers.smtp import env_for, smtp_server

RU = {"DIARYADMIN_LANG": "ru"}
EN = {"DIARYADMIN_LANG": "en"}
REAL_PORTAL = {**FAST_ENV, "DIARYADMIN_PORTAL_URL": "https://diary.school7.ru"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


@pytest.fixture
def roster(sessions):
    with sessions.begin() as session:
        return make_roster(session)


def _issue_with_email(run_cli, env: dict) -> tuple[object, list]:
    with smtp_server() as (mailbox, overrides):
        result = run_cli(
            "credentials", "issue", "--class", "5А", "--out", "s.html", "--email",
            env={**REAL_PORTAL, **env_for(overrides), **env},
        )  # fmt: skip
    return result, mailbox.messages


# --- the setting ------------------------------------------------------------------------------


def test_school_set_language_is_shown_audited_and_kept(run_cli, sessions, roster):
    before = run_cli("--format", "json", "school", "show")
    assert before.exit_code == 0, before.output
    assert '"language": "ru"' in before.stdout  # no setting: Russian
    done = run_cli("school", "set", "--language", "EN", env=RU)
    assert done.exit_code == 0, done.output
    assert "Школа s1: изменено: язык документов." in done.stderr
    shown = run_cli("school", "show", env=RU)
    assert "английский" in shown.stdout
    again = run_cli("school", "set", "--language", "en")
    assert "School s1: changed nothing (already so)." in again.stderr
    with sessions() as session:
        assert session.scalar(select(School.language)) == "en"
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "school.set"))
    assert event.details == {"language": "en"}
    check = run_cli(
        "--format", "json", "check", env={**REAL_PORTAL, "DIARYADMIN_SCHOOL_NAME": "Гимназия"}
    )
    assert "the language of documents for parents: English" in check.stdout


def test_school_set_refuses_a_language_it_cannot_write(run_cli, sessions, settings, db_snapshot):
    before = db_snapshot()
    result = run_cli("school", "set", "--language", "de")
    assert result.exit_code == 2
    assert "'de' is not one of 'ru', 'en'" in result.stderr
    with sessions() as session, session.begin(), pytest.raises(Refused, match="'de'"):
        set_school(session, settings, operator="t", language="de")
    assert db_snapshot() == before


# --- documents follow the school, messages follow the operator --------------------------------


ENGLISH = {
    "wrote": "Записано 3 пароля в файл s.html (права 0600).",  # the operator reads Russian
    "lang": "en",
    "heading": "Access to the electronic diary",
    "pupil": "Pupil",
    "hello": "Hello, ",
    "sentence": "School s1 gives you access to the electronic diary of the pupil Иванов Пётр "
    "Сергеевич, class 5А.",
    "until": re.compile(r"Valid until:        \d{4}-\d\d-\d\d\n"),
    "not": "Здравствуйте",
}
RUSSIAN = {
    "wrote": "Wrote 3 passwords to s.html (mode 0600).",  # the operator reads English
    "lang": "ru",
    "heading": "Доступ к электронному дневнику",
    "pupil": "Ученик",
    "hello": "Здравствуйте, ",
    "sentence": "School s1 выдаёт вам доступ к электронному дневнику ученика Иванова Петра "
    "Сергеевича, класс 5А.",
    "until": re.compile(r"Действует до:     \d\d\.\d\d\.\d{4}\n"),
    "not": "Hello",
}


@pytest.mark.parametrize(
    ("language", "operator", "expected"),
    [("en", RU, ENGLISH), (None, EN, RUSSIAN), ("ru", EN, RUSSIAN)],
    ids=["english-school", "no-setting", "russian-school"],
)
def test_slips_and_letters_follow_the_school_and_messages_the_operator(
    run_cli, sessions, roster, workdir, language, operator, expected
):
    with sessions.begin() as session:
        session.execute(update(School).values(name="School s1"))
    if language:
        assert run_cli("school", "set", "--language", language).exit_code == 0
    result, messages = _issue_with_email(run_cli, operator)
    assert result.exit_code == 0, result.output
    assert expected["wrote"] in result.stderr
    slips = (workdir / "s.html").read_text(encoding="utf-8")
    assert f'<html lang="{expected["lang"]}">' in slips
    assert f"<h2>{expected['heading']}</h2>" in slips
    assert f'<td class="k">{expected["pupil"]}</td><td>Иванов Пётр Сергеевич</td>' in slips
    if expected is ENGLISH:
        assert "(mother)" in slips
        assert not CYRILLIC.search(_words_of(slips, roster_words=_roster_words(sessions)))
    assert len(messages) == 2
    for message in messages:
        body = message.get_body(("plain",)).get_content()
        assert body.startswith(expected["hello"])
        assert expected["until"].search(body)
        assert expected["not"] not in message.get_body(("html",)).get_content()
    sentences = [m.get_body(("plain",)).get_content().split("\n")[2] for m in messages]
    assert expected["sentence"] in sentences


def test_reminders_and_recovery_letters_follow_the_school(sessions, settings, roster):
    from diaryadmin.credentials import status
    from helpers.credentials import issue

    with sessions.begin() as session:
        session.execute(update(School).values(language="en"))
    issued = issue(sessions, settings, all_=True)
    with sessions() as session:
        credential_ids = session.scalars(text("SELECT id FROM credentials")).all()
        rows = status.reminder_rows(session, list(credential_ids))
    assert {row["language"] for row in rows} == {"en"}
    reminder = mail.reminder_message(rows[0], settings)
    assert reminder["Subject"].startswith("МБОУ СОШ № 1: the temporary password")
    assert "is valid until" in reminder.get_body(("plain",)).get_content()
    assert {c.language for c in issued.issued} == {"en"}

    letter = RecoveryLetter(
        to="a@example.org", guardian="Иванова Мария", logins=(RecoveryLogin("x.y", "Иван", True),),
        code="12345678", expires_at=datetime(2026, 9, 1, 9, 30), minutes=1,
        portal_url="https://diary.school7.ru", school="School", language="en",
    )  # fmt: skip
    text_part = mail.recovery_message(letter, settings).get_body(("plain",)).get_content()
    assert "The code is valid for 1 minute, until 09:30 2026-09-01 (UTC)" in text_part
    assert "signs in through State Services, no password needed" in text_part
    russian = mail.recovery_message(
        RecoveryLetter(**{**letter.__dict__, "language": None, "minutes": 1}), settings
    )
    assert (
        "Код действует 1 минуту, до 09:30 01.09.2026" in russian.get_body(("plain",)).get_content()
    )


def test_the_recovery_letter_knows_its_school(sessions, settings):
    from datetime import timedelta

    from diaryadmin import auth
    from diaryadmin.credentials import recovery
    from helpers import credentials as tc

    with smtp_server() as (mailbox, overrides):
        fast = settings.with_overrides(**tc.FAST, **overrides, recovery_answer_ms=0)
        tc.issue_all(sessions, fast)
        with sessions.begin() as session:
            session.execute(update(School).values(language="en"))
        with sessions.begin() as session:
            auth.start_recovery(session, "maria@example.org", tc.NOW, settings=fast)
        assert recovery.wait_for_deliveries(30)
    (letter,) = mailbox.to("maria@example.org")
    assert letter["Subject"] == "МБОУ СОШ № 1: a code to sign in to the electronic diary"
    expires = (tc.NOW + timedelta(minutes=30)).strftime("%H:%M %Y-%m-%d")
    assert (
        f"valid for 30 minutes, until {expires} (UTC)" in letter.get_body(("plain",)).get_content()
    )


def _refused(**fields) -> Application:
    return Application(
        **{
            "external_id": "A-1", "applied_on": date(2026, 9, 1), "applicant_surname": "ИВАНОВА",
            "applicant_name": "Мария", "applicant_patronymic": "Петровна", "relation": "mother",
            "child_surname": "Иванов", "child_name": "Пётр", "child_patronymic": "Сергеевич",
            "reasons": [{"code": "no_consent", "message": "No consent."}],
            "decided_at": datetime(2026, 9, 2, 10, 0), "status": "rejected",
            **fields,
        }
    )  # fmt: skip


def test_refusal_letters_in_english_and_in_russian(settings):
    english = refusal_letter(_refused(), settings, language="en").split("\n")
    assert english[2] == "Dear Мария Петровна,"
    assert english[4] == (
        "Your application No. A-1 of 2026-09-01 for access to the electronic diary of the child "
        "Иванов Пётр Сергеевич has been refused for the following reasons:"
    )
    assert english[5] == "1. No consent to the processing of personal data was given."
    assert english[-1] == "Date of decision: 2026-09-02"
    russian = refusal_letter(_refused(), settings).split("\n")
    assert russian[2] == "Уважаемая Мария Петровна!"
    assert russian[4].startswith("Ваше заявление № A-1 от 01.09.2026 о предоставлении доступа")
    assert "ребёнка Иванова Петра Сергеевича отклонено" in russian[4]
    assert russian[-1] == "Дата решения: 02.09.2026"


def test_the_applications_report_follows_the_only_school(sessions, settings, tmp_path):
    from openpyxl import load_workbook

    with sessions.begin() as session:
        school = School(code="s9", name="School 9", language="en")
        session.add(school)
        session.flush()
        session.add(
            _refused(school_id=school.id, content_key="k" * 64, applicant_name_key="k",
                     child_name_key="k")
        )  # fmt: skip
    with i18n.using("ru"), sessions() as session:  # the operator reads Russian
        assert write_report(session, settings, tmp_path / "en.xlsx") == 1
        assert write_report(session, settings, tmp_path / "ru.xlsx", language="ru") == 1
    cells = _cells(load_workbook(tmp_path / "en.xlsx"))
    assert "rejected" in cells
    assert any("has been refused for the following reasons" in c for c in cells)
    assert not any("Уважаем" in c for c in cells)
    cells = _cells(load_workbook(tmp_path / "ru.xlsx"))
    assert any("отклонено по следующим причинам" in c for c in cells)


def _cells(book) -> list[str]:
    return [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]


# --- every template string is in the catalogue --------------------------------------------------


def _roster_words(sessions) -> set[str]:
    with sessions() as session:
        found = session.execute(text("SELECT surname, name, patronymic FROM students")).all()
        found += session.execute(text("SELECT surname, name, patronymic FROM guardians")).all()
        found += session.execute(text("SELECT name, name, name FROM schools")).all()
        found += session.execute(text("SELECT name, name, name FROM classes")).all()
    return {word for row in found for part in row if part for word in part.split()}


def _words_of(html: str, roster_words: set[str] = frozenset()) -> str:
    """The words a reader sees, without tags, styles, the QR code and the given data."""
    html = re.sub(r"<style>.*?</style>|<svg.*?</svg>", " ", html, flags=re.S)
    words = re.sub(r"<[^>]+>", " ", html).split()
    return " ".join(w for w in words if w.strip(".,:;()!№·") not in roster_words)


LATIN = {
    "student": "Smith John", "guardian": "Smith Mary", "school": "School Seven",
    "class_name": None, "login": "john.smith", "email": "m@example.org",
}  # fmt: skip


def _documents(language: str) -> dict[str, str]:
    """Every template rendered with data in Latin letters, in `language`."""
    settings = Settings(portal_url="https://diary.school7.ru", school_name="School Seven")
    credential = IssuedCredential(
        login="john.smith", password="abcd-efgh-2345", student="Smith John", class_name=None,
        guardian="Smith Mary", relation="mother", email="m@example.org",
        expires_at=datetime(2026, 10, 1), guardianship_id=1, school="School Seven",
        language=language,
    )  # fmt: skip
    recovery = RecoveryLetter(
        to="m@example.org", guardian="Smith Mary",
        logins=(RecoveryLogin("john.smith", "Smith John", True),), code="12345678",
        expires_at=datetime(2026, 9, 1, 9, 30), minutes=30, portal_url="https://diary.s7.ru",
        school="School Seven", language=language,
    )  # fmt: skip
    reminder = {**LATIN, "expires_at": datetime(2026, 10, 1), "language": language}
    found = {"slips": letters.slips_html([credential], settings)}
    for kind, message in {
        "credential": mail.credential_message(credential, settings),
        "reminder": mail.reminder_message(reminder, settings),
        "recovery": mail.recovery_message(recovery, settings),
    }.items():
        found[kind + " subject"] = message["Subject"]
        found[kind + " text"] = message.get_body(("plain",)).get_content()
        found[kind + " html"] = message.get_body(("html",)).get_content()
    application = _refused(
        applicant_surname="Smith", applicant_name="Mary", applicant_patronymic=None,
        child_surname="Smith", child_name="John", child_patronymic=None,
        reasons=[{"code": code, "message": "x"} for code in REFUSAL_CODES],
    )  # fmt: skip
    found["refusal"] = refusal_letter(application, settings, language=language)
    return found


REFUSAL_CODES = ("child_not_found", "child_inactive", "birth_date_mismatch", "date_swapped",
                 "certificate_mismatch", "name_near_miss", "patronymic_missing", "no_consent",
                 "passport_malformed", "snils_invalid", "contact_conflict")  # fmt: skip


def test_english_documents_have_no_russian_left():
    """A Russian sentence left outside `_()` in a template shows up here."""
    for name, document in _documents("en").items():
        assert not CYRILLIC.search(_words_of(document)), (name, _words_of(document))


# Latin words a Russian document may show: the data above, the keyboard's and the clock's.
RUSSIAN_MAY_SAY = {"Smith", "John", "Mary", "School", "Seven", "EN", "Caps", "Lock", "UTC", "QR"}


def test_russian_documents_have_no_english_left():
    """An English msgid without a Russian translation shows up here as English words."""
    for name, document in _documents("ru").items():
        words = set(re.findall(r"\b[A-Za-z]{3,}\b", _words_of(document)))
        words -= {w for w in words if w in RUSSIAN_MAY_SAY}
        urls = {"https", "diary", "school7", "example", "org", "john", "smith", "login", "cid"}
        urls |= {"abcd", "efgh"}  # the password
        assert words <= urls, (name, sorted(words - urls))


def test_template_strings_are_extracted_into_the_catalogue():
    from babel.messages.pofile import read_po

    with (i18n.LOCALE_DIR / "ru" / "LC_MESSAGES" / "diaryadmin.po").open("rb") as handle:
        catalogue = read_po(handle)
    places = {loc for message in catalogue for loc, _line in message.locations}
    templates = Path(__file__).resolve().parents[1] / "templates"
    for template in templates.glob("*.j2"):
        assert f"templates/{template.name}" in places, template.name
    message = catalogue.get("Access to the electronic diary")
    assert message.string == "Доступ к электронному дневнику"


# --- the migration --------------------------------------------------------------------------------


def test_the_migration_adds_the_column_and_a_school_before_it_stays_russian(empty_database_url):
    from alembic import command
    from sqlalchemy import inspect

    engine = db.make_engine(empty_database_url)
    try:
        config = db.alembic_config(engine)
        command.upgrade(config, "0003_parent_accounts")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO schools (code, name) VALUES ('old', 'Лицей № 2')"))
        command.upgrade(config, "0004_school_language")
        assert db.current_revision(engine) == db.head_revision(engine)
        with db.make_sessionmaker(engine)() as session:
            school = session.scalar(select(School))
            assert school.language is None
            assert document_language(school) == "ru"
        command.downgrade(config, "0003_parent_accounts")
        columns = {c["name"] for c in inspect(engine).get_columns("schools")}
        assert "language" not in columns and "portal_url" in columns
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM schools")).scalar() == "Лицей № 2"
    finally:
        engine.dispose()
