"""diaryadmin school set|show."""

from __future__ import annotations

import click

from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _, pgettext
from diaryadmin.output import heading


@click.group("school")
def school_group() -> None:
    """The school's name, portal address and documents' language, as slips and letters use them."""


@school_group.command("set")
@click.option("--name", metavar="NAME", help="The school's name, as on its documents.")
@click.option("--portal-url", "portal", metavar="URL", help="Where parents log in (https://...).")
@click.option(
    "--language",
    type=click.Choice(["ru", "en"], case_sensitive=False),
    help="The language of slips, letters, e-mails and report sheets for parents (default ru).",
)
@click.option("--school", "code", metavar="CODE", help="Which school (when there are several).")
@pass_app
def set_command(
    app: AppContext, name: str | None, portal: str | None, language: str | None, code: str | None
) -> None:
    """Set the name, portal address and language that slips, letters and e-mails show.

    \b
    Example:
      diaryadmin school set --name "МБОУ СОШ № 7" --portal-url https://diary.school7.ru
      diaryadmin school set --language en
    """
    from diaryadmin.schools import set_school

    with app.transaction() as session:
        row = set_school(
            session,
            app.settings,
            operator=app.operator,
            code=code,
            name=name,
            portal=portal,
            language=language,
        )
    changed = row.pop("changed")
    if changed:
        fields = ", ".join(_headers().get(name) or heading(name) for name in changed)
        app.say(_("School {code}: changed {fields}.").format(code=row["code"], fields=fields))
    else:
        app.say(_("School {code}: changed nothing (already so).").format(code=row["code"]))
    for warning in row.pop("placeholders"):
        app.warn(warning)
    app.result(_for_a_person(app, row), headers=_headers())


def _headers() -> dict[str, str]:
    return {
        "name": pgettext("school", "name"),  # the school's name, not a person's
        "language": pgettext("school", "documents' language"),
    }


def _for_a_person(app: AppContext, row: dict) -> dict:
    """In a table, where the address comes from is said in words (JSON and CSV keep the code)."""
    if app.fmt != "table":
        return row
    sources = {
        "school": pgettext("portal address from", "school"),
        "settings": pgettext("portal address from", "settings"),
    }
    from diaryadmin.schools import language_name

    return {
        **row,
        "portal_url_from": sources.get(row["portal_url_from"], row["portal_url_from"]),
        "language": language_name(row["language"]),
    }


@school_group.command("show")
@click.option("--school", "code", metavar="CODE", help="Which school (when there are several).")
@pass_app
def show_command(app: AppContext, code: str | None) -> None:
    """Show the name, portal address and language documents will use, and where they come from.

    \b
    Example:
      diaryadmin school show
    """
    from diaryadmin.schools import resolve_school, school_row

    with app.transaction() as session:
        row = school_row(session, resolve_school(session, code, app.settings), app.settings)
    for warning in row.pop("placeholders"):
        app.warn(warning)
    app.result(_for_a_person(app, row), headers=_headers())
