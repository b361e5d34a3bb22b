"""Schools, school years and classes: which school a command means, and the classes a user
names (`--class 5 а`), read the same way by every command."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.errors import InputError, NotFound, Problem, Refused
from diaryadmin.models import School, SchoolClass
from diaryadmin.people.names import canonical_class, class_grade

DEFAULT_SCHOOL_CODE = "school"


def school_year_of(day: date) -> int:
    """The school year a day belongs to, named by the year it starts (1 September)."""
    return day.year if day.month >= 9 else day.year - 1


def school_year_start(year: int) -> date:
    return date(year, 9, 1)


def find_school(session: Session, code: str | None) -> School | None:
    """The school a command means: the one with `code`; without a code, the only school
    there is, or None when there is none yet.

    Raises NotFound for an unknown code, Refused when there are several schools and no code.
    """
    if code:
        school = session.scalar(select(School).where(School.code == code))
        if school is None:
            raise NotFound(f"There is no school with code {code!r}.")
        return school
    schools = session.scalars(select(School).order_by(School.id).limit(2)).all()
    if len(schools) > 1:
        raise Refused("The database holds several schools: name one with --school CODE.")
    return schools[0] if schools else None


def resolve_school(
    session: Session, code: str | None, settings: Settings, create: bool = False
) -> School:
    """The school a command means (`find_school`), which must exist.

    With `create`, a missing school is created (named from the settings), so a one-school
    office never has to think about school codes. Raises NotFound or Refused.
    """
    try:
        school = find_school(session, code)
    except NotFound:
        if not create:
            raise
        school = None
    if school is None:
        if not create:
            raise NotFound("There is no school yet: import a roster first.")
        school = School(
            code=code or DEFAULT_SCHOOL_CODE,
            name=settings.school_name,
            portal_url=settings.portal_url,
        )
        session.add(school)
        session.flush()
    return school


def canonical_classes(texts: Iterable[str], option: str = "--class") -> list[str]:
    """Class names a user gave (`5 а`, `5-А`, `5«А»`, Latin `5A`) made canonical (`5А`).

    The one way a command's class option is read; files' cells use `names.canonical_class`
    directly and report their own problems. Raises InputError naming every bad one.
    """
    result, problems = [], []
    for text in texts:
        try:
            result.append(canonical_class(text))
        except ValueError as exc:
            problems.append(Problem(str(exc), column=option, value=text))
    if len(problems) == 1:
        raise InputError(f"{option} {problems[0].value!r} is not a class name.", problems)
    if problems:
        raise InputError("Some class names are not valid.", problems)
    return result


def class_option(text: str | None, option: str = "--class") -> str | None:
    """One class named by a user, made canonical (`canonical_classes`); None stays None."""
    return None if text is None else canonical_classes([text], option)[0]


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
        grade = class_grade(name)
        found = SchoolClass(school_id=school.id, school_year=school_year, name=name, grade=grade)
        session.add(found)
        session.flush()
    if cache is not None:
        cache[key] = found
    return found
