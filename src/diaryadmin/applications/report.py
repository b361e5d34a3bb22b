"""The applications report: an xlsx with one row per application, its decision, reasons and,
for a rejection, the text of the refusal letter (from `templates/refusal_letter.txt.j2`), in the
school's language (`school set --language`, Russian by default)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diaryadmin import i18n
from diaryadmin.applications.reasons import shown
from diaryadmin.applications.report_book import COLUMN_LAYOUT, write_book
from diaryadmin.config import Settings
from diaryadmin.i18n import N_, _, pgettext
from diaryadmin.models import Application
from diaryadmin.people.names import full_name, gender_of_patronymic, title_case_name
from diaryadmin.people.relations import relation_word
from diaryadmin.schools import only_school_language

REFUSAL_TEMPLATE = "refusal_letter.txt.j2"
DECISIONS = {
    "pending": N_("under consideration"),
    "approved": N_("approved"),
    "review": N_("needs checking"),
    "rejected": N_("rejected"),
}
COLUMNS = tuple(header for header, _width, _wrap in COLUMN_LAYOUT)


def template_environment(settings: Settings) -> Any:
    """The shared Jinja2 environment: the school's templates folder first, then ours."""
    from diaryadmin.letters import template_environment as shared

    return shared(settings)


def letter_case(part: str | None) -> str | None:
    """A name part as a letter writes it: `ИВАНОВА` → `Иванова`, `РИМСКАЯ-КОРСАКОВА` →
    `Римская-Корсакова`, `АЛИ ОГЛЫ` → `Али оглы`; mixed case is kept as written."""
    return title_case_name(part) if part and part.isupper() else part


def greeting(application: Application, language: str | None = None) -> str:
    """`Уважаемая Анна Петровна`: name and patronymic, or name and surname without one;
    the form by the patronymic (`names.gender_of_patronymic`), else by mother/father.
    In `language` (None: Russian): `Dear Anna Petrovna` in English."""
    surname, name, patronymic = (
        letter_case(application.applicant_surname),
        letter_case(application.applicant_name),
        letter_case(application.applicant_patronymic),
    )
    whom = f"{name} {patronymic}" if patronymic else f"{name} {surname}"
    gender = gender_of_patronymic(patronymic)
    with i18n.using(language):
        if gender == "female" or (not patronymic and application.relation == "mother"):
            return pgettext("greeting a woman", "Dear {whom}").format(whom=whom)
        if gender == "male" or (not patronymic and application.relation == "father"):
            return pgettext("greeting a man", "Dear {whom}").format(whom=whom)
        return pgettext("greeting a man or a woman", "Dear {whom}").format(whom=whom)


def refusal_letter(
    application: Application, settings: Settings, env: Any = None, language: str | None = None
) -> str:
    """The refusal letter for a rejected application, as plain text, in `language` (the
    school's; None is Russian)."""
    env = env or template_environment(settings)
    template = env.get_template(REFUSAL_TEMPLATE)
    with i18n.using(language) as chosen:
        return template.render(
            school=settings.school_name,
            lang=chosen,
            greeting=greeting(application, chosen),
            applicant=full_name(
                letter_case(application.applicant_surname),
                letter_case(application.applicant_name),
                letter_case(application.applicant_patronymic),
            ),
            child=full_name(
                letter_case(application.child_surname),
                letter_case(application.child_name),
                letter_case(application.child_patronymic),
            ),
            applied_on=application.applied_on,
            application_id=application.id,
            external_id=application.external_id,
            reasons=shown(application.reasons),
            decided_at=application.decided_at,
        ).strip()


def report_rows(applications: Iterable[Application], settings: Settings) -> Iterator[list[Any]]:
    """One row per application, in the current language (the caller picks the document's)."""
    env = template_environment(settings)
    language = i18n.current_language()
    for a in applications:
        reasons = shown(a.reasons)
        yield [
            a.id,
            a.external_id,
            a.applied_on,
            full_name(a.applicant_surname, a.applicant_name, a.applicant_patronymic),
            relation_word(a.relation),
            full_name(a.child_surname, a.child_name, a.child_patronymic),
            a.child_birth_date,
            _(DECISIONS[a.status]) if a.status in DECISIONS else a.status,
            a.status,
            "; ".join(r["code"] for r in reasons) or None,
            "\n".join(r["message"] for r in reasons) or None,
            a.decided_by,
            a.decided_at,
            refusal_letter(a, settings, env, language) if a.status == "rejected" else None,
        ]


def write_report(
    session: Session,
    settings: Settings,
    path: str | os.PathLike[str],
    *,
    ids: Iterable[int] | None = None,
    overwrite: bool = False,
    language: str | None = None,
) -> int:
    """Write the report xlsx (every application, or only `ids`); returns the row count.

    The report and its refusal letters are in `language` (default: the language of the
    school's documents, `school set --language`; Russian). The first sheet has a row per
    application and prints in landscape, as wide as the page, headers repeated on every page;
    the second has each refusal letter on its own page. Every text cell is written as text,
    never as a formula. Raises Refused if the file exists and `overwrite` is false.
    """
    query = select(Application).order_by(Application.id)
    if ids is not None:
        wanted = sorted(set(ids))
        query = query.where(Application.id.in_(wanted)) if wanted else query.where(False)
    applications = session.scalars(query.execution_options(yield_per=1000))
    with i18n.using(language or only_school_language(session)):
        return write_book(path, report_rows(applications, settings), overwrite=overwrite)
