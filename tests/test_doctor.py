"""`credentials doctor`: every code, through the core and the CLI, never showing a secret."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from diaryadmin.credentials import auth, doctor, mistyping
from diaryadmin.models import Credential
from helpers import credentials as tc

OWN = "goldfish lol 2"
EN_TO_RU = str.maketrans(mistyping._EN, mistyping._RU)


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST)


@pytest.fixture
def issued(sessions, fast):
    """5А issued on tc.NOW; the father then set his own password OWN."""
    with sessions.begin() as session:
        roster = tc.make_roster(session)
    result = tc.issue(sessions, fast, classes=["5А"])
    plain = {c.login: c.password for c in result.issued}
    with sessions.begin() as session:
        father = "petr.ivanov.sergei"
        assert auth.change_password(session, father, plain[father], OWN, tc.NOW, settings=fast).ok
    return {"roster": roster, "plain": plain}


def codes(sessions, fast, login=None, now=tc.NOW + timedelta(days=10), **kwargs):
    with sessions.begin() as session:
        return [f.code for f in doctor.diagnose(session, fast, login, now=now, **kwargs)]


def test_state_codes(sessions, fast, issued):
    assert codes(sessions, fast, "iuliia.shchukina") == ["temporary"]
    with sessions.begin() as session:
        (finding,) = doctor.diagnose(session, fast, "iuliia.shchukina", now=tc.NOW)
    assert "30 more days, until 01.10.2026" in finding.message
    assert codes(sessions, fast, "petr.ivanov.sergei") == ["active"]
    assert codes(sessions, fast, "iuliia.shchukina", now=tc.NOW + timedelta(days=31)) == ["expired"]
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "petr.ivanov.mariia"))
        row.state, row.failed_attempts = "locked", 10
    assert codes(sessions, fast, "petr.ivanov.mariia") == ["locked"]
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "iuliia.shchukina"))
        row.state = "revoked"
    assert codes(sessions, fast, "iuliia.shchukina") == ["revoked"]
    with sessions.begin() as session:
        (finding,) = doctor.diagnose(session, fast, "iuliia.shchukina", now=tc.NOW)
    # a class --reissue skips a revoked login: only a reset of that login gives it back
    assert "'diaryadmin credentials reset iuliia.shchukina --out FILE'" in finding.message


def test_unknown_login_names_the_closest(sessions, fast, issued):
    with sessions.begin() as session:
        (finding,) = doctor.diagnose(session, fast, "petr.ivanov.mari")
    assert finding.code == "unknown_login"
    assert "petr.ivanov.mariia" in finding.message
    assert codes(sessions, fast, "zzzz") == ["unknown_login"]


def test_cyrillic_login_look_alikes_and_russian_layout(sessions, fast, issued):
    look_alike = "реtr.ivanov.sergei"  # Cyrillic р and е
    assert look_alike != "petr.ivanov.sergei"
    with sessions.begin() as session:
        findings = doctor.diagnose(session, fast, look_alike, now=tc.NOW)
    assert [f.code for f in findings] == ["login_cyrillic", "active"]
    assert "it is petr.ivanov.sergei" in findings[0].message
    typed_on_ru = "iuliia.shchukina".translate(EN_TO_RU)
    assert typed_on_ru == "шгдшшфюырсрглштф"
    assert codes(sessions, fast, typed_on_ru) == ["login_cyrillic", "temporary"]


def test_not_issued_by_student_and_by_the_login_it_would_have(sessions, fast, issued):
    anna = issued["roster"]["anna"]
    assert codes(sessions, fast, student_id=anna, guardian_name="Иванова Мария") == ["not_issued"]
    assert codes(sessions, fast, student_id=anna) == ["not_issued"]  # her only guardian
    assert codes(sessions, fast, "anna.ivanova") == ["not_issued"]
    petr = issued["roster"]["petr"]
    assert codes(sessions, fast, student_id=petr, guardian_name="Иванов Сергей") == ["active"]


@pytest.mark.parametrize(
    ("login", "attempt", "code"),
    [
        ("petr.ivanov.sergei", OWN, "password_ok"),
        ("petr.ivanov.sergei", OWN.upper(), "case_inverted"),
        ("petr.ivanov.sergei", OWN.translate(EN_TO_RU), "keyboard_layout"),
        ("petr.ivanov.sergei", OWN.replace("o", "0"), "zero_letter_o"),
        ("petr.ivanov.sergei", OWN.replace("l", "1"), "one_letter_l"),
        ("petr.ivanov.sergei", "goldfish lol 3", "password_wrong"),
        ("iuliia.shchukina", None, "password_ok"),
        ("iuliia.shchukina", "upper", "case_inverted"),
        ("iuliia.shchukina", "layout", "keyboard_layout"),
        # one slip at one position, the same letter right elsewhere
        ("petr.ivanov.sergei", "g0ldfish lol 2", "zero_letter_o"),
        ("petr.ivanov.sergei", "goldfish 1ol 2", "one_letter_l"),
        ("petr.ivanov.sergei", "g0ldfish 1ol 2", "one_letter_l+zero_letter_o"),
        ("petr.ivanov.sergei", "G0LDFISH LOL 2", "case_inverted+zero_letter_o"),
        ("petr.ivanov.sergei", OWN + " ", "spaces_around"),
        ("iuliia.shchukina", "no hyphens", "hyphens_missing"),
        ("iuliia.shchukina", "spaces", "hyphens_missing"),
        ("iuliia.shchukina", "trailing space", "spaces_around"),
        ("iuliia.shchukina", "no hyphens, caps", "hyphens_missing+case_inverted"),
    ],
)
def test_attempt_codes(sessions, fast, issued, login, attempt, code):
    temporary = issued["plain"]["iuliia.shchukina"]
    attempt = {
        None: temporary,
        "upper": temporary.upper(),
        "layout": temporary.translate(EN_TO_RU),
        "no hyphens": temporary.replace("-", ""),
        "spaces": temporary.replace("-", " "),
        "trailing space": temporary + " ",
        "no hyphens, caps": temporary.replace("-", "").upper(),
    }.get(attempt, attempt)
    found = codes(sessions, fast, login, attempt=attempt)
    assert found[-1] == code
    assert len(found) == 2


def test_a_combination_of_slips_is_named_slip_by_slip(sessions, fast, issued):
    temporary = issued["plain"]["iuliia.shchukina"]
    with sessions.begin() as session:
        findings = doctor.diagnose(
            session,
            fast,
            "iuliia.shchukina",
            attempt=temporary.replace("-", "").upper(),
            now=tc.NOW + timedelta(days=10),
        )
    assert findings[-1].message == (
        "The password is right, but typed with several slips: its hyphens were left out or "
        "typed as spaces; Caps Lock was on."
    )


def test_the_doctor_spends_a_bounded_number_of_hashes():
    variants = mistyping.variants("0o0o1l1l-0O1I-lIlI0o0o ")
    assert len(variants) == mistyping.MAX_TRIES
    assert len({v for _, v in variants}) == len(variants)


def test_doctor_cli_json_reads_the_attempt_from_stdin_and_shows_no_secret(
    run_cli, sessions, issued
):
    password = issued["plain"]["iuliia.shchukina"]
    result = run_cli(
        "--format", "json", "credentials", "doctor", "IUliia.shchukina", "--attempt",
        input=password.upper() + "\n", env=tc.FAST_ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    findings = json.loads(result.stdout)
    assert [f["code"] for f in findings][-1] == "case_inverted"
    assert all(set(f) == {"code", "message"} for f in findings)
    with sessions() as session:
        stored = session.scalar(
            select(Credential.password_hash).where(Credential.login == "iuliia.shchukina")
        )
    for secret in (password, password.upper(), stored, stored.split("$")[-1]):
        assert secret not in result.output
    table = run_cli("credentials", "doctor", "nobody", env=tc.FAST_ENV)
    assert table.exit_code == 0 and "unknown_login" in table.stdout
    usage = run_cli("credentials", "doctor")
    assert usage.exit_code == 2


@pytest.mark.parametrize("typed", ["", "\n"])
def test_doctor_refuses_an_empty_attempt_instead_of_calling_it_wrong(
    run_cli, sessions, issued, db_snapshot, typed
):
    """Nothing on stdin used to be tested as an empty password: 'password_wrong', advice to
    reset, and an audit event for an attempt nobody typed."""
    before = db_snapshot()
    result = run_cli(
        "credentials", "doctor", "iuliia.shchukina", "--attempt", input=typed, env=tc.FAST_ENV
    )
    assert result.exit_code == 1
    assert "password_wrong" not in result.stdout
    assert "No password attempt" in result.stderr
    assert db_snapshot() == before


def test_every_finding_is_one_sentence(sessions, fast, issued):
    messages = [m.format(login="petr.ivanov.sergei") for m in mistyping.MESSAGES.values()]

    def collect(login=None, now=tc.NOW + timedelta(days=10), **kwargs):
        with sessions.begin() as session:
            found = doctor.diagnose(session, fast, login, now=now, **kwargs)
        messages.extend(f.message for f in found)

    collect("iuliia.shchukina")  # temporary
    collect("petr.ivanov.sergei")  # active
    collect("iuliia.shchukina", now=tc.NOW + timedelta(days=31))  # expired
    collect("petr.ivanov.mari")  # unknown, with the closest logins
    collect("anna.ivanova")  # not issued, by login
    collect(student_id=issued["roster"]["anna"])  # not issued, by student
    collect("реtr.ivanov.sergei")  # login_cyrillic
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "petr.ivanov.mariia"))
        row.state, row.failed_attempts = "locked", 10
    collect("petr.ivanov.mariia")
    with sessions.begin() as session:
        row = session.scalar(select(Credential).where(Credential.login == "iuliia.shchukina"))
        row.state = "revoked"
    collect("iuliia.shchukina")
    assert len(messages) == 18  # 8 attempt findings, 10 of states
    for message in messages:
        assert message.endswith("."), message
        assert not re.search(r"[.!?]\s+[A-ZА-ЯЁ]", message), message
