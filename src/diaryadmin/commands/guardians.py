"""diaryadmin guardians: grant and revoke trusted persons."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.credentials import (
    EMAIL_OPTION,
    FORCE_OPTION,
    OUT_OPTION,
    issue_and_deliver,
    report_issue,
)
from diaryadmin.commands.options import format_option
from diaryadmin.context import AppContext, pass_app


@click.group("guardians")
def guardians_group() -> None:
    """Trusted persons: a guardian grants (and revokes) access to one child."""


@guardians_group.command("grant")
@click.option("--student", required=True, metavar="ID", help="The child.")
@click.option("--guardian", required=True, metavar="NAME", help="The guardian who grants.")
@click.option("--person", required=True, metavar="ФИО", help="The trusted person's full name.")
@click.option("--address", metavar="EMAIL", help="The trusted person's e-mail address.")
@click.option("--phone", metavar="PHONE", help="The trusted person's phone.")
@OUT_OPTION
@FORCE_OPTION
@EMAIL_OPTION
@format_option
@pass_app
def grant_command(
    app: AppContext, student, guardian, person, address, phone, out: Path | None, force, email
) -> None:
    """Give a trusted person (e.g. a grandparent) their own login for one child.

    The login and temporary password go to --out and, with --email, to --address.

    \b
    Example:
      diaryadmin guardians grant --student 123 --guardian "Иванова Мария" \\
        --person "Петрова Галина Ивановна" --address galina@example.org --out grant.html --email
    """
    from diaryadmin.credentials.issue import issue_credentials
    from diaryadmin.credentials.trusted import grant_trusted_person

    if out is None and not email:
        raise click.UsageError("Say where the password goes: --out FILE (and/or --email).")
    if email and not address:
        raise click.UsageError("--email needs the trusted person's --address.")

    def issue(session):
        grant = grant_trusted_person(
            session,
            student_id=student,
            guardian_name=guardian,
            person=person,
            email=address,
            phone=phone,
            operator=app.operator,
        )
        app.say(f"{grant.granted_by} granted access to {grant.person}.")
        return issue_credentials(
            session,
            app.settings,
            [grant.guardianship_id],
            reissue=True,
            revive=True,
            operator=app.operator,
        )

    report_issue(app, issue_and_deliver(app, issue, out, force, email), out)


@guardians_group.command("revoke")
@click.option("--student", required=True, metavar="ID", help="The child.")
@click.option("--person", required=True, metavar="ФИО", help="Whose access to withdraw.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def revoke_command(app: AppContext, student, person, yes) -> None:
    """Withdraw a trusted person's (or guardian's) access to a child; the login dies at once.

    \b
    Example:
      diaryadmin guardians revoke --student 123 --person "Петрова Галина Ивановна" --yes
    """
    from diaryadmin.credentials.trusted import revoke_guardianship

    if not yes:
        click.confirm(f"Withdraw {person}'s access to student {student}?", abort=True)
    with app.transaction() as session:
        link = revoke_guardianship(
            session, student_id=student, person=person, operator=app.operator
        )
        name = link.guardian.full_name
    app.say(f"Withdrew {name}'s access.")
