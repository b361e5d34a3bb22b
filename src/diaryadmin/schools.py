"""Schools, school years and classes: which school a command means, the classes a user names
(`--class 5 а`), read the same way by every command; a school's name, portal address and the
language of its documents for parents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.config import DEFAULT_PORTAL_URL, DEFAULT_SCHOOL_NAME, Settings
from diaryadmin.errors import InputError, NotFound, Problem, Refused
from diaryadmin.i18n import DEFAULT_DOCUMENT_LANGUAGE, LANGUAGES, _, language_of, pgettext
from diaryadmin.models import School, SchoolClass
from diaryadmin.people.names import canonical_class, class_grade
from diaryadmin.people.text import clean_text

DEFAULT_SCHOOL_CODE = "school"
# Host names reserved for examples and tests (RFC 2606, RFC 6761): never a real portal.
_PLACEHOLDER_DOMAINS = ("example.org", "example.com", "example.net")
_PLACEHOLDER_TLDS = ("example", "test", "invalid", "localhost")


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
            raise NotFound(_("There is no school with code {code!r}.").format(code=code))
        return school
    schools = session.scalars(select(School).order_by(School.id).limit(2)).all()
    if len(schools) > 1:
        raise Refused(_("The database holds several schools: name one with --school CODE."))
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
            raise NotFound(_("There is no school yet: import a roster first."))
        # No portal address of its own yet: `portal_url` falls back to the settings, so a
        # later DIARYADMIN_PORTAL_URL is not hidden behind a copy of today's placeholder.
        school = School(
            code=code or DEFAULT_SCHOOL_CODE, name=settings.school_name, portal_url=None
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
        raise InputError(
            _("{option} {value!r} is not a class name.").format(
                option=option, value=problems[0].value
            ),
            problems,
        )
    if problems:
        raise InputError(_("Some class names are not valid."), problems)
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


# --- name and portal address ----------------------------------------------------------------------


def is_placeholder_portal(url: str | None) -> bool:
    """True for no address, the default one, or a host reserved for examples."""
    if not url or url.rstrip("/") == DEFAULT_PORTAL_URL:
        return True
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if not host:
        return True
    return (
        any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS)
        or host.rsplit(".", 1)[-1] in _PLACEHOLDER_TLDS
    )


def is_placeholder_name(name: str | None) -> bool:
    """True for no name or the default `Школа`."""
    return not name or not name.strip() or name.strip() == DEFAULT_SCHOOL_NAME


def portal_url(session: Session, school: School | None, settings: Settings) -> str:
    """The portal address parents are sent to: the school's own (`school set`), else the
    settings' DIARYADMIN_PORTAL_URL. This is the one lookup: slips, letters and QR codes use it.

    Without `school`, the only school there is (if there is exactly one).
    """
    school = school or _only_school(session)
    own = school.portal_url if school is not None else None
    if own and not is_placeholder_portal(own):
        return own
    return settings.portal_url


def school_name(school: School | None, settings: Settings) -> str:
    """The school's name for documents: its own, else DIARYADMIN_SCHOOL_NAME."""
    if school is not None and not is_placeholder_name(school.name):
        return school.name
    return settings.school_name


def document_language(school: School | None) -> str:
    """The language of the documents parents get from `school` (slips, letters, e-mails,
    refusal letters, report sheets): its own (`school set --language`), else Russian."""
    own = school.language if school is not None else None
    return language_of(own) or DEFAULT_DOCUMENT_LANGUAGE


def language_name(language: str) -> str:
    """`ru` or `en` in words, in the reader's language: «русский», `English`."""
    names = {"ru": pgettext("language", "Russian"), "en": pgettext("language", "English")}
    return names.get(language, language)


def only_school_language(session: Session) -> str:
    """`document_language` of the only school there is (Russian when there are several)."""
    return document_language(_only_school(session))


def check_language(value: str) -> str:
    """`ru` or `en` (any case, or a tag such as `en_GB`); raises Refused for anything else."""
    language = language_of(value)
    if language is None:
        raise Refused(
            _("--language {value!r}: documents can be in {languages}.").format(
                value=value, languages=", ".join(LANGUAGES)
            )
        )
    return language


def placeholder_warnings(session: Session, school: School | None, settings: Settings) -> list[str]:
    """What would print placeholders on slips and letters; call it before issuing and show
    each as a warning (issuing goes on: a school may knowingly print a test batch)."""
    school = school or _only_school(session)
    code = (
        f" --school {school.code}"
        if school is not None and school.code != DEFAULT_SCHOOL_CODE
        else ""
    )
    warnings = []
    url = portal_url(session, school, settings)
    if is_placeholder_portal(url):
        warnings.append(
            _(
                "slips and letters will send parents to the placeholder address {url}: set the "
                "school's own with 'diaryadmin school set{school} --portal-url https://...'"
            ).format(url=url, school=code)
        )
    name = school_name(school, settings)
    if is_placeholder_name(name):
        warnings.append(
            _(
                "slips and letters will name the school {name!r}, the placeholder: set it with "
                "'diaryadmin school set{school} --name \"МБОУ СОШ № 1\"'"
            ).format(name=name, school=code)
        )
    return warnings


def _only_school(session: Session) -> School | None:
    schools = session.scalars(select(School).order_by(School.id).limit(2)).all()
    return schools[0] if len(schools) == 1 else None


def check_portal_url(value: str) -> str:
    """A portal address parents can open: http(s), a host, no placeholder; raises Refused."""
    try:
        url = clean_text(value, _("the portal address"), 255)
    except ValueError as exc:
        raise Refused(f"--portal-url: {exc}") from None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or " " in url:
        raise Refused(
            _("--portal-url {url!r}: write the full address, e.g. https://diary.school7.ru").format(
                url=url
            )
        )
    if is_placeholder_portal(url):
        raise Refused(
            _("--portal-url {url!r} is a placeholder address, not the school's portal.").format(
                url=url
            )
        )
    return url


def set_school(
    session: Session,
    settings: Settings,
    *,
    operator: str,
    code: str | None = None,
    name: str | None = None,
    portal: str | None = None,
    language: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Set the school's name, portal address and/or the language of its documents for
    parents (creating the school if there is none yet: an office may name itself before its
    first import). Audited; returns the school's row.

    Raises Refused for an empty, overlong or placeholder name, an address that is not a full
    http(s) URL or is a placeholder, or a language other than `ru`/`en`; NotFound for an
    unknown `code`.
    """
    if name is None and portal is None and language is None:
        raise Refused(_("Nothing to set: give --name, --portal-url or --language."))
    changes: dict[str, Any] = {}
    if name is not None:
        try:
            name = clean_text(name, _("the school's name"), 255)
        except ValueError as exc:
            raise Refused(f"--name: {exc}") from None
        if is_placeholder_name(name):
            raise Refused(
                _("--name {name!r} is the placeholder; write the school's real name.").format(
                    name=name
                )
            )
    url = check_portal_url(portal) if portal is not None else None
    language = check_language(language) if language is not None else None
    school = resolve_school(session, code, settings, create=True)
    if name is not None and name != school.name:
        changes["name"] = name
        school.name = name
    if url is not None and url != school.portal_url:
        changes["portal_url"] = url
        school.portal_url = url
    if language is not None and language != school.language:
        changes["language"] = language
        school.language = language
    if changes:
        audit.record(session, operator, "school.set", school.code, changes, now=now)
    return {**school_row(session, school, settings), "changed": sorted(changes)}


def school_row(session: Session, school: School, settings: Settings) -> dict[str, Any]:
    """The school as `school show` prints it: what documents will use, and from where."""
    url = portal_url(session, school, settings)
    return {
        "code": school.code,
        "name": school_name(school, settings),
        "portal_url": url,
        "portal_url_from": "school" if url == school.portal_url else "settings",
        "language": document_language(school),
        "placeholders": placeholder_warnings(session, school, settings),
    }
