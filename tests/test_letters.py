"""Slips and letters from templates (a school's own folder first), and e-mail through a real
SMTP server on loopback: plain, STARTTLS, SSL, a refused recipient, reminders sent once."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from diaryadmin import auth, letters, mail
from diaryadmin.credentials import issue as credentials
from diaryadmin.credentials import scope as credential_scope
from diaryadmin.credentials.issue import IssuedCredential
from diaryadmin.errors import ConfigError
from diaryadmin.models import AuditEvent, Credential
from helpers import credentials as tc
from helpers.smtp import env_for, self_signed_cert, smtp_server


@pytest.fixture
def fast(settings):
    return settings.with_overrides(**tc.FAST)


@pytest.fixture
def roster(sessions):
    with sessions.begin() as session:
        return tc.make_roster(session)


def sample(**changes) -> IssuedCredential:
    values = {
        "login": "petr.ivanov",
        "password": "k7mx-p4rt-q9wz",
        "student": "Иванов Пётр Сергеевич",
        "class_name": "5А",
        "guardian": "Иванова Мария Петровна",
        "relation": "mother",
        "email": "maria@example.org",
        "expires_at": datetime(2026, 10, 1, 9, 0),
        "guardianship_id": 1,
        "school": "МБОУ СОШ № 1",
    }
    return IssuedCredential(**{**values, **changes})


def test_slips_escape_html_and_start_each_class_on_a_new_page(settings, tmp_path):
    many = [sample(login=f"a{n}", class_name="5А") for n in range(7)]
    many.append(sample(login="b", class_name="10Б", guardian="<script>alert(1)</script>"))
    many.append(sample(login="c", class_name="6В"))
    path = letters.write_credentials_file(many, tmp_path / "s.html", settings)
    text = path.read_text(encoding="utf-8")
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    pages = [p.split('">')[0] for p in text.split('<section class="page" data-class="')[1:]]
    assert pages == ["5А", "5А", "6В", "10Б"]  # 4 slips a page; classes in grade order
    assert text.count('<article class="slip">') == 9
    assert "01.10.2026" in text


def test_a_school_template_folder_overrides_ours_and_falls_back(settings, tmp_path):
    folder = tmp_path / "ours"
    folder.mkdir()
    (folder / "credential_email_subject.txt.j2").write_text("Школа 7: {{ c.login }}")
    own = settings.with_overrides(templates_dir=str(folder))
    message = mail.credential_message(sample(), own)
    assert message["Subject"] == "Школа 7: petr.ivanov"
    body = message.get_body(("plain",)).get_content()
    assert "Временный пароль: k7mx-p4rt-q9wz" in body  # our text template
    html = message.get_body(("html",)).get_content()
    assert "<strong>k7mx-p4rt-q9wz</strong>" in html
    with pytest.raises(ConfigError, match="not a folder"):
        mail.credential_message(sample(), settings.with_overrides(templates_dir="/nope"))


def test_send_letters_reports_each_refused_or_missing_address(settings):
    batch = [
        sample(),
        sample(login="x", email="nobody@example.org", guardian="Refused Person"),
        sample(login="y", email=None),
    ]
    with smtp_server(refuse={"nobody@example.org"}) as (box, overrides):
        sent, failed = mail.send_credential_letters(batch, settings.with_overrides(**overrides))
    assert sent == 1
    assert [(f["login"], f["email"]) for f in failed] == [
        ("x", "nobody@example.org"),
        ("y", None),
    ]
    assert failed[0]["error"].startswith("recipient refused: 550")
    assert failed[1]["error"] == "no e-mail address"
    (message,) = box.messages
    assert message["To"] == "maria@example.org" and message["From"] == "school@example.org"
    assert "k7mx-p4rt-q9wz" in message.get_body(("plain",)).get_content()


def test_unreachable_server_fails_every_letter_once(settings):
    from helpers.smtp import free_port

    down = settings.with_overrides(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none", smtp_timeout=2
    )
    sent, failed = mail.send_credential_letters([sample(), sample(login="z")], down)
    assert sent == 0 and len(failed) == 2
    assert all(f["error"].startswith("cannot connect to the mail server") for f in failed)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_to_a_server_with_a_verified_certificate(settings, tmp_path, monkeypatch, security):
    cert = self_signed_cert(tmp_path)
    if cert is None:
        pytest.skip("no openssl tool to make a certificate")
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    with smtp_server(security=security, cert=cert) as (box, overrides):
        sent, failed = mail.send_credential_letters(
            [sample()], settings.with_overrides(**overrides)
        )
    assert (sent, failed) == (1, [])
    assert box.messages[0]["To"] == "maria@example.org"


def test_tls_refuses_an_unverified_certificate(settings, tmp_path):
    cert = self_signed_cert(tmp_path)
    if cert is None:
        pytest.skip("no openssl tool to make a certificate")
    with smtp_server(security="starttls", cert=cert) as (box, overrides):
        sent, failed = mail.send_credential_letters(
            [sample()], settings.with_overrides(**overrides)
        )
    assert sent == 0 and "CERTIFICATE_VERIFY_FAILED" in failed[0]["error"]
    assert box.messages == []


def test_issue_with_email_through_the_cli(run_cli, sessions, fast, roster, workdir):
    with smtp_server(refuse={"sergei@example.org"}) as (box, overrides):
        env = {**tc.FAST_ENV, **env_for(overrides)}
        result = run_cli("--format", "json", "credentials", "issue", "--all", "--out",
                         "slips.html", "--email", env=env)  # fmt: skip
    assert result.exit_code == 3, result.output
    report = json.loads(result.stdout)
    assert (report["issued"], report["emailed"]) == (4, 2)
    # a guardian without an address is skipped, not failed (issue 12): only the refusal fails
    assert sorted((f["login"], f["error"][:22]) for f in report["failed"]) == [
        ("petr.ivanov.sergei", "recipient refused: 550"),
    ]
    assert [(s["login"], s["reason"]) for s in report["no_email"]] == [
        ("iuliia.shchukina", "skipped: no e-mail address")
    ]
    assert "1 letter could not be sent; the credentials stay issued and slips.html lists" in (
        result.stderr
    )
    slips = {s["login"]: s["password"] for s in tc.read_slips(workdir / "slips.html")}
    assert len(slips) == 4  # everyone is on the slips, e-mailed or not
    assert sorted(m["To"] for m in box.messages) == ["maria@example.org", "maria@example.org"]
    for message in box.messages:
        text = message.get_body(("plain",)).get_content()
        login = next(login for login in slips if f"Логин:            {login}" in text)
        assert f"Временный пароль: {slips[login]}" in text
    with sessions.begin() as session:
        # what was issued stays issued, and the letter's password works
        assert session.query(Credential).count() == 4
        assert auth.authenticate(session, "anna.ivanova", slips["anna.ivanova"], settings=fast).ok
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "credentials.email"))
        assert event.details == {
            "sent": 2,
            "failed": ["petr.ivanov.sergei"],
            "skipped": ["iuliia.shchukina"],
        }


def test_email_without_smtp_settings_is_refused_before_issuing(run_cli, roster, db_snapshot):
    before = db_snapshot()
    result = run_cli("credentials", "issue", "--all", "--email", env=tc.FAST_ENV)
    assert result.exit_code == 4 and "DIARYADMIN_SMTP_HOST" in result.stderr
    assert db_snapshot() == before


def test_reminders_are_sent_once(run_cli, sessions, fast, roster):
    issued_at = datetime.now() - timedelta(days=27)
    tc.issue(sessions, fast, classes=["5А"], now=issued_at)
    with smtp_server() as (box, overrides):
        env = env_for(overrides)
        first = run_cli("--format", "json", "credentials", "expire", "--remind", "5", env=env)
        assert first.exit_code == 0, first.output  # Щукина has no e-mail: nothing to send
        assert json.loads(first.stdout) == {"expired": 0, "reminded": 2}
        again = run_cli("--format", "json", "credentials", "expire", "--remind", "5", env=env)
        assert json.loads(again.stdout)["reminded"] == 0
    assert sorted(m["To"] for m in box.messages) == ["maria@example.org", "sergei@example.org"]
    assert "истекает" in box.messages[0]["Subject"]
    with sessions() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("credentials.remind") == 1
        reminded = session.scalars(
            select(Credential.login).where(Credential.reminded_at.is_not(None))
        ).all()
        assert sorted(reminded) == ["petr.ivanov.mariia", "petr.ivanov.sergei"]
    # a reissue starts a new reminder cycle
    with sessions.begin() as session:
        ids = credential_scope.select_guardianships(session, classes=["5А"])
        credentials.issue_credentials(session, fast, ids, reissue=True, operator="t")
        assert session.query(Credential).filter(Credential.reminded_at.is_not(None)).count() == 0


def test_failed_reminders_are_tried_again_next_time(run_cli, sessions, fast, roster):
    tc.issue(sessions, fast, classes=["5А"], now=datetime.now() - timedelta(days=27))
    with smtp_server(refuse={"sergei@example.org"}) as (box, overrides):
        env = env_for(overrides)
        first = run_cli("--format", "json", "credentials", "expire", "--remind", "5", env=env)
        assert first.exit_code == 3
        report = json.loads(first.stdout)
        assert (report["reminded"], [f["login"] for f in report["failed"]]) == (
            1,
            ["petr.ivanov.sergei"],
        )
        box.refuse.clear()
        again = run_cli("--format", "json", "credentials", "expire", "--remind", "5", env=env)
        assert json.loads(again.stdout) == {"expired": 0, "reminded": 1}
    assert sorted(m["To"] for m in box.messages) == ["maria@example.org", "sergei@example.org"]


def test_trusted_person_letter(run_cli, roster):
    with smtp_server() as (box, overrides):
        result = run_cli("guardians", "grant", "--student", str(roster["petr"]),
                         "--guardian", "Иванов Сергей Петрович", "--person",
                         "Петрова Галина Ивановна", "--address", "galina@example.org",
                         "--email", env={**tc.FAST_ENV, **env_for(overrides)})  # fmt: skip
    assert result.exit_code == 0, result.output
    (message,) = box.messages
    assert message["To"] == "galina@example.org"
    assert "Петрова Галина Ивановна" in message.get_body(("plain",)).get_content()


def test_failed_letters_are_logged_once_by_login_not_as_warnings(settings, caplog):
    """The command reports each failure itself; the log must not repeat it as a WARNING
    (that printed 'e-mail to None failed' once per guardian without an address)."""
    caplog.set_level("INFO", logger="diaryadmin.mail")
    sent, failed = mail.send_credential_letters(
        [sample(login="y", email=None)], settings.with_overrides(smtp_host="127.0.0.1")
    )
    assert (sent, [f["login"] for f in failed]) == (0, ["y"])
    records = [r for r in caplog.records if r.name == "diaryadmin.mail"]
    assert [r.levelname for r in records] == ["INFO"]
    assert "None" not in records[0].getMessage() and "y" in records[0].getMessage()


def test_a_long_login_wraps_only_after_a_dot_on_the_slip(settings, tmp_path):
    """`eva.aleksandrova.anastasiia` does not fit one line of a slip; it used to break anywhere
    (`eva.aleksandrova.anast` / `asiia`), which a parent reads as two words. Each part between
    dots stays whole and a line may end only after a dot."""
    long = "eva.aleksandrova.anastasiia"
    path = letters.write_credentials_file([sample(login=long)], tmp_path / "s.html", settings)
    text = path.read_text(encoding="utf-8")
    cell = text.split('class="secret login">')[1].split("</td>")[0]
    assert (
        cell.replace("<wbr>", "").replace('<span class="part">', "").replace("</span>", "") == long
    )
    assert cell.count("<wbr>") == 2 and cell.count('<span class="part">') == 3
    assert ".login .part { white-space: nowrap; }" in text
    assert tc.read_slips(path)[0]["login"] == long


def test_slips_and_letters_do_not_promise_the_expiry_day_itself(settings, tmp_path):
    """A password issued at 09:00 expires at 09:00 thirty days later, so 'after 01.10.2026 it
    stops working' was false on the morning of 01.10; the texts say it stops on that day."""
    credential = sample(expires_at=datetime(2026, 10, 1, 9, 0))
    slips = letters.slips_html([credential], settings)
    message = mail.credential_message(credential, settings)
    texts = [
        slips,
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    ]
    for text in texts:
        assert "после 01.10.2026" not in text.lower()
        assert "01.10.2026 он перестанет действовать" in text
