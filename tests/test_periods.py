"""Academic periods: add, list, refusals, and the date ranges commands resolve."""

from __future__ import annotations

import json
from datetime import date

import pytest

from diaryadmin.errors import NotFound, Refused
from diaryadmin.journal import periods
from diaryadmin.models import AuditEvent
from helpers import factories


def test_add_and_list_periods(sessions):
    with sessions() as session, session.begin():
        school = factories.school(session)
        periods.add_period(session, school, "Q2", date(2026, 11, 3), date(2026, 12, 28), "op")
        periods.add_period(session, school, " Q1 ", date(2026, 9, 1), date(2026, 10, 24), "op")
        periods.add_period(session, school, "H1", date(2026, 9, 1), date(2026, 12, 28), "op")
        periods.add_period(session, school, "Q1", date(2027, 9, 1), date(2027, 10, 24), "op")
    with sessions() as session:
        school = factories.school(session)
        rows = periods.list_periods(session, school, 2026)
        assert [(r["name"], r["school_year"], r["days"]) for r in rows] == [
            ("H1", "2026/27", 119),
            ("Q1", "2026/27", 54),
            ("Q2", "2026/27", 56),
        ]
        assert len(periods.list_periods(session, school)) == 4
        assert session.query(AuditEvent).filter_by(action="periods.add").count() == 4
        # Without a year, the latest year's period of that name.
        latest = periods.resolve_range(session, school, "Q1")
        assert (latest.starts_on, latest.name) == (date(2027, 9, 1), "Q1")
        older = periods.resolve_range(session, school, "Q1", year=2026)
        assert older.label == "Q1, 01.09.2026 – 24.10.2026"
        assert date(2026, 10, 24) in older and date(2026, 10, 25) not in older


@pytest.mark.parametrize(
    ("name", "start", "end", "message"),
    [
        ("Q9", date(2026, 10, 1), date(2026, 9, 1), "ends .* before it starts"),
        ("Y", date(2026, 9, 1), date(2027, 9, 10), "spans two school years"),
        ("Q1", date(2026, 9, 2), date(2026, 10, 1), "already has a period Q1"),
        ("  ", date(2026, 9, 2), date(2026, 10, 1), "needs a name"),
    ],
)
def test_add_period_refusals(sessions, name, start, end, message):
    with sessions() as session, session.begin():
        school = factories.school(session)
        periods.add_period(session, school, "Q1", date(2026, 9, 1), date(2026, 10, 24), "op")
        with pytest.raises(Refused, match=message):
            periods.add_period(session, school, name, start, end, "op")


def test_resolve_range_needs_a_period_or_both_dates(sessions):
    with sessions() as session:
        school = factories.school(session)
        with pytest.raises(NotFound, match="no period 'Q7'"):
            periods.resolve_range(session, school, "Q7")
        with pytest.raises(Refused, match="both --from and --to"):
            periods.resolve_range(session, school, None, date(2026, 9, 1))
        with pytest.raises(Refused, match="is before --from"):
            periods.resolve_range(session, school, None, date(2026, 9, 5), date(2026, 9, 1))
        with pytest.raises(Refused, match="not both"):
            periods.resolve_range(session, school, "Q1", date(2026, 9, 5), date(2026, 9, 9))
        dates = periods.resolve_range(session, school, None, date(2026, 9, 1), date(2026, 9, 30))
        assert dates.period_id is None and dates.label == "01.09.2026 – 30.09.2026"


def test_periods_cli(run_cli, sessions):
    with sessions() as session, session.begin():
        factories.school(session)
    added = run_cli("periods", "add", "Q1", "01.09.2026", "2026-10-24")
    assert added.exit_code == 0, added.output
    assert "Added Q1: 01.09.2026 – 24.10.2026 (2026/27)." in added.output
    again = run_cli("periods", "add", "Q1", "02.09.2026", "20.10.2026")
    assert again.exit_code == 1
    assert "already has a period Q1" in again.output
    bad = run_cli("periods", "add", "Q2", "31.02.2026", "20.10.2026")
    assert bad.exit_code == 2
    listed = run_cli("periods", "list", "--format", "json")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {
            "school_year": "2026/27",
            "name": "Q1",
            "starts_on": "2026-09-01",
            "ends_on": "2026-10-24",
            "days": 54,
        }
    ]
