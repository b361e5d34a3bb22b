"""Schools, school years and classes."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.errors import NotFound, Refused
from diaryadmin.models import School, SchoolClass

DEFAULT_SCHOOL_CODE = "school"


def school_year_of(day: date) -> int:
    """The school year a day belongs to, named by the year it starts (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_start(year: int) -> date:
    return date(year, 9, 1)


def resolve_school(
    session: Session, code: str | None, settings: Settings, create: bool = False
) -> School:
    """The school named by `code`; without a code, the only school there is.

    With `create`, a missing school is created (named from the settings), so a one-school
    office never has to think about school codes.
    """
    if code:
        school = session.scalar(select(School).where(School.code == code))
        if school is None:
            if not create:
                raise NotFound(f"There is no school with code {code!r}.")
            # No portal address of its own: the school follows DIARYADMIN_PORTAL_URL.
            school = School(code=code, name=settings.school_name)
            session.add(school)
            session.flush()
        return school
    schools = session.scalars(select(School).order_by(School.id).limit(2)).all()
    if len(schools) == 1:
        return schools[0]
    if not schools:
        if not create:
            raise NotFound("There is no school yet: import a roster first.")
        return resolve_school(session, DEFAULT_SCHOOL_CODE, settings, create=True)
    raise Refused("The database holds several schools: name one with --school CODE.")


def get_or_create_class(
    session: Session, school: School, name: str, school_year: int, cache: dict | None = None
) -> SchoolClass:
    """The class `name` (already canonical, e.g. `5А`) of `school` in `school_year`."""
    key = (school.id, school_year, name)
    if cache is not None and key in cache:
        return cache[key]
    found = session.scalar(
        select(SchoolClass).where(
            SchoolClass.school_id == school.id,
            SchoolClass.school_year == school_year,
            SchoolClass.name == name,
        )
    )
    if found is None:
        grade = int("".join(ch for ch in name if ch.isdigit()))
        found = SchoolClass(school_id=school.id, school_year=school_year, name=name, grade=grade)
        session.add(found)
        session.flush()
    if cache is not None:
        cache[key] = found
    return found


def portal_url(session: Session, school: School | None, settings: Settings) -> str:
    """The portal address parents are sent to: the school's own (`schools.portal_url`), else
    DIARYADMIN_PORTAL_URL. The one lookup: slips, letters and QR codes use it."""
    own = school.portal_url if school is not None else None
    return own or settings.portal_url
