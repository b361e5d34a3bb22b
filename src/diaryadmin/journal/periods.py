"""Academic periods: quarters, half-years, trimesters, and the date ranges journals cover."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.errors import NotFound, Refused
from diaryadmin.i18n import _
from diaryadmin.models import AcademicPeriod, School
from diaryadmin.plan import Plan
from diaryadmin.schools import school_year_of


@dataclass(frozen=True)
class DateRange:
    """The dates a journal export or report covers, with the period when one was named."""

    starts_on: date
    ends_on: date
    period_id: int | None = None
    name: str | None = None

    @property
    def school_year(self) -> int:
        return school_year_of(self.starts_on)

    @property
    def label(self) -> str:
        dates = f"{self.starts_on:%d.%m.%Y} – {self.ends_on:%d.%m.%Y}"
        return f"{self.name}, {dates}" if self.name else dates

    def __contains__(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


def year_label(year: int) -> str:
    """2026 → '2026/27'."""
    return f"{year}/{(year + 1) % 100:02d}"


def add_period(
    session: Session,
    school: School,
    name: str,
    starts_on: date,
    ends_on: date,
    operator: str,
    now: datetime | None = None,
    plan: Plan | None = None,
) -> AcademicPeriod:
    """Add a period to the school year its dates fall in (and to `plan`, when given).

    Raises Refused if the end is before the start, the dates span two school years, or the
    year already has a period of that name. Periods may overlap (Q1 lies inside H1).
    """
    name = " ".join(name.split())
    if not name:
        raise Refused(_("A period needs a name, such as Q1 or 1 четверть."))
    if ends_on < starts_on:
        raise Refused(
            _("The period {name} ends ({end}) before it starts.").format(
                name=name, end=f"{ends_on:%d.%m.%Y}"
            )
        )
    year = school_year_of(starts_on)
    if school_year_of(ends_on) != year:
        raise Refused(
            _(
                "The period {name} spans two school years ({first} and {second}); a school "
                "year starts on 1 September."
            ).format(name=name, first=year_label(year), second=year_label(school_year_of(ends_on)))
        )
    clash = session.scalar(
        select(AcademicPeriod).where(
            AcademicPeriod.school_id == school.id,
            AcademicPeriod.school_year == year,
            AcademicPeriod.name == name,
        )
    )
    if clash is not None:
        raise Refused(
            _("The school year {year} already has a period {name}.").format(
                year=year_label(year), name=name
            )
        )
    period = AcademicPeriod(
        school_id=school.id, school_year=year, name=name, starts_on=starts_on, ends_on=ends_on
    )
    session.add(period)
    session.flush()
    if plan is not None:
        plan.add(
            "add",
            "period",
            name,
            f"{starts_on:%d.%m.%Y} – {ends_on:%d.%m.%Y}, {year_label(year)}",
        )
    audit.record(
        session,
        operator,
        "periods.add",
        f"period:{period.id}",
        {
            "name": name,
            "school_year": year,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
        },
        now=now,
    )
    return period


def list_periods(session: Session, school: School, year: int | None = None) -> list[dict[str, Any]]:
    """The school's periods (of one school year if given), by year and start date."""
    query = select(AcademicPeriod).where(AcademicPeriod.school_id == school.id)
    if year is not None:
        query = query.where(AcademicPeriod.school_year == year)
    query = query.order_by(
        AcademicPeriod.school_year, AcademicPeriod.starts_on, AcademicPeriod.name
    )
    return [
        {
            "id": p.id,
            "school_year": year_label(p.school_year),
            "name": p.name,
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "days": (p.ends_on - p.starts_on).days + 1,
        }
        for p in session.scalars(query)
    ]


def find_period(
    session: Session, school: School, name: str, year: int | None = None
) -> AcademicPeriod:
    """The period `name` of `year`, or of the latest school year that has one of that name."""
    query = select(AcademicPeriod).where(
        AcademicPeriod.school_id == school.id, AcademicPeriod.name == " ".join(name.split())
    )
    if year is not None:
        query = query.where(AcademicPeriod.school_year == year)
    found = session.scalars(query.order_by(AcademicPeriod.school_year.desc())).first()
    if found is None:
        known = ", ".join(p["name"] for p in list_periods(session, school, year)) or _("none yet")
        if year:
            message = _(
                "There is no period '{name}' in {year} (known: {known}); add it with "
                "'diaryadmin periods add'."
            )
        else:
            message = _(
                "There is no period '{name}' (known: {known}); add it with "
                "'diaryadmin periods add'."
            )
        raise NotFound(
            message.format(name=name, year=year_label(year) if year else "", known=known)
        )
    return found


def resolve_range(
    session: Session,
    school: School,
    period: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    year: int | None = None,
) -> DateRange:
    """The dates to cover: a named period, or --from/--to. Raises Refused or NotFound."""
    if period:
        if starts_on or ends_on:
            raise Refused(_("Give either a period or --from/--to, not both."))
        found = find_period(session, school, period, year)
        return DateRange(found.starts_on, found.ends_on, found.id, found.name)
    if not (starts_on and ends_on):
        raise Refused(_("Name a period (--period Q1) or give both --from and --to."))
    if ends_on < starts_on:
        raise Refused(
            _("--to ({end}) is before --from ({start}).").format(
                end=f"{ends_on:%d.%m.%Y}", start=f"{starts_on:%d.%m.%Y}"
            )
        )
    return DateRange(starts_on, ends_on)
