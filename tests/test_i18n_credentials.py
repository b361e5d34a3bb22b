"""Credentials and guardians in the reader's language: Russian messages with real plurals, the
doctor in Russian, English left as it was; warnings before slips print placeholders; names
declined where a letter's sentence needs it."""

from __future__ import annotations

import pytest

from helpers.credentials import FAST_ENV, make_roster

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
