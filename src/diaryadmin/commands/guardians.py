"""diaryadmin guardians: grant and revoke trusted persons."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import (
    DRY_RUN_OPTION,
    EMAIL_OPTION,
    FORCE_OPTION,
    OUT_OPTION,
    format_option,
    report_issue,
)
from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _


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
@DRY_RUN_OPTION
@format_option
@pass_app
def grant_command(
    app: AppContext,
    student,
    guardian,
    person,
    address,
    phone,
    out: Path | None,
    force,
    email,
    dry_run,
) -> None:
    """Give a trusted person (e.g. a grandparent) their own login for one child.

    The login and temporary password go to --out and, with --email, to --address.

    \b
    Example:
      diaryadmin guardians grant --student 123 --guardian "Иванова Мария" \\
        --person "Петрова Галина Ивановна" --address galina@example.org --out grant.html --email
    """
    from diaryadmin.credentials.delivery import Delivery, grant_and_deliver

    if out is None and not email and not dry_run:
        raise click.UsageError(_("Say where the password goes: --out FILE (and/or --email)."))
    if email and not address:
        raise click.UsageError(_("--email needs the trusted person's --address."))
    result = grant_and_deliver(
        app.sessions(),
        app.settings,
        Delivery(out, force, email),
        student_id=student,
        guardian_name=guardian,
        person=person,
        email=address,
        phone=phone,
        operator=app.operator,
        dry_run=dry_run,
        say=app.say,
        warn=app.warn,
    )
    report_issue(app, result, out, dry_run=dry_run)


@guardians_group.command("revoke")
@click.option("--student", required=True, metavar="ID", help="The child.")
@click.option("--person", required=True, metavar="ФИО", help="Whose access to withdraw.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@DRY_RUN_OPTION
@pass_app
def revoke_command(app: AppContext, student, person, yes, dry_run) -> None:
    """Withdraw a trusted person's (or guardian's) access to a child; the login dies at once.

    \b
    Example:
      diaryadmin guardians revoke --student 123 --person "Петрова Галина Ивановна" --yes
    """
    from diaryadmin.credentials.trusted import revoke_guardianship
    from diaryadmin.plan import Plan

    if not yes and not dry_run:
        click.confirm(
            _("Withdraw {person}'s access to student {student}?").format(
                person=person, student=student
            ),
            abort=True,
        )
    plan = Plan()
    with app.transaction(dry_run=dry_run) as session:
        link = revoke_guardianship(
            session, student_id=student, person=person, operator=app.operator, plan=plan
        )
        name = link.guardian.full_name
    app.show_plan(plan, dry_run)
    if not dry_run:
        app.say(_("Withdrew {person}'s access.").format(person=name))
