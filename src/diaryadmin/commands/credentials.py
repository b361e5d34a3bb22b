"""diaryadmin credentials: issue, reset, expire, status, revoke, doctor."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta

import click

from diaryadmin.commands.options import (
    DATE,
    DRY_RUN_OPTION,
    EMAIL_OPTION,
    FORCE_OPTION,
    OUT_OPTION,
    format_option,
    needs_destination,
    report_issue,
)
from diaryadmin.context import AppContext, pass_app
from diaryadmin.errors import PartialFailure, Refused
from diaryadmin.i18n import _, ngettext


@click.group("credentials")
def credentials_group() -> None:
    """Parent logins and temporary passwords: issue, reset, expire, status, doctor."""


@credentials_group.command("issue")
@click.option("--class", "classes", multiple=True, metavar="CLASS", help="A class, e.g. 5А.")
@click.option("--student", "students", multiple=True, metavar="ID", help="A student's id.")
@click.option("--all", "all_", is_flag=True, help="Every class.")
@click.option("--school", metavar="CODE", help="Only this school (when there are several).")
@click.option("--reissue", is_flag=True, help="Replace existing credentials (logins stay).")
@OUT_OPTION
@FORCE_OPTION
@EMAIL_OPTION
@click.option("--dry-run", is_flag=True, help="List who would get a password; change nothing.")
@format_option
@pass_app
def issue_command(
    app: AppContext, classes, students, all_, school, reissue, out, force, email, dry_run
) -> None:
    """Issue logins and temporary passwords to the guardians in scope.

    Guardianships that already have a credential are skipped unless --reissue. The passwords
    are written only to --out (mode 0600) and, with --email, sent to the guardians.

    \b
    Example:
      diaryadmin credentials issue --class 5А --class 5Б --out slips-5.html
      diaryadmin credentials issue --all --out mailmerge.xlsx --email
      diaryadmin credentials issue --class 5А --dry-run
    """
    from diaryadmin.credentials.delivery import Delivery, Scope, issue_for_scope

    if not dry_run:
        needs_destination(out, email)
    result, plan = issue_for_scope(
        app.sessions(),
        app.settings,
        Scope(tuple(classes), tuple(students), all_, school),
        Delivery(out, force, email),
        operator=app.operator,
        reissue=reissue,
        dry_run=dry_run,
        say=app.say,
        warn=app.warn,
        progress=app.progress,
    )
    if dry_run:
        app.show_plan(plan, dry_run)
        app.result({"would_issue": len(plan), "skipped": result.skipped})
        return
    if not result.issued:
        app.say(
            _(
                "Nothing to issue: everyone in scope has a revoked login (reset one with "
                "'diaryadmin credentials reset LOGIN --out FILE') or no active access."
            )
            if reissue
            else _("Nothing to issue: everyone in scope already has a login (use --reissue).")
        )
    report_issue(app, result, out)


@credentials_group.command("reset")
@click.argument("login", required=False)
@click.option("--student", metavar="ID", help="The student (when the login is forgotten too).")
@click.option("--guardian", metavar="NAME", help="The guardian's name, with --student.")
@OUT_OPTION
@FORCE_OPTION
@EMAIL_OPTION
@click.option("--yes", is_flag=True, help="Do not ask before unlinking a linked login.")
@DRY_RUN_OPTION
@format_option
@pass_app
def reset_command(
    app: AppContext, login, student, guardian, out, force, email, yes, dry_run
) -> None:
    """Give one login a new temporary password; the old one stops working at once.

    Also clears the failed-attempt counter and a lock.

    \b
    Example:
      diaryadmin credentials reset petr.ivanov --out reset.html
      diaryadmin credentials reset --student 123 --guardian "Иванова Мария" --out reset.html
      diaryadmin credentials reset petr.ivanov --dry-run
    """
    from diaryadmin.credentials.delivery import Delivery, reset_and_deliver

    if not login and not (student and guardian):
        raise click.UsageError(_("Give a LOGIN, or --student ID and --guardian NAME."))
    if not dry_run:
        needs_destination(out, email)
    linked = confirm_reset_of_linked(app, login, student, guardian, yes or dry_run)
    result = reset_and_deliver(
        app.sessions(),
        app.settings,
        Delivery(out, force, email),
        login=login,
        student_id=student,
        guardian_name=guardian,
        operator=app.operator,
        unlink=linked,
        dry_run=dry_run,
        say=app.say,
        warn=app.warn,
    )
    report_issue(app, result, out, dry_run=dry_run)


def _end_of(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day) + timedelta(days=1)


@credentials_group.command("expire")
@click.option("--as-of", type=DATE, help="Expire as if it were the end of this day.")
@click.option("--dry-run", is_flag=True, help="List what would expire; change nothing.")
@click.option(
    "--remind",
    type=click.IntRange(min=1),
    metavar="DAYS",
    help="E-mail guardians whose temporary password expires within DAYS (once each).",
)
@format_option
@pass_app
def expire_command(app: AppContext, as_of, dry_run, remind) -> None:
    """Expire temporary passwords older than their lifetime (for cron).

    Idempotent and safe to run twice at once; with -q, silent unless something fails.
    Without SMTP settings it still expires what is due, and lists the reminders it could not
    send (exit 3).

    \b
    Example:
      diaryadmin -q credentials expire --remind 5
      diaryadmin credentials expire --as-of 01.10.2026 --dry-run
    """
    from diaryadmin.credentials.delivery import describe_failures
    from diaryadmin.credentials.reminders import expire_and_remind

    run = expire_and_remind(
        app.sessions(),
        app.settings,
        operator=app.operator,
        as_of=_end_of(as_of),
        remind_days=remind,
        dry_run=dry_run,
    )
    app.show_plan(run.plan, dry_run)
    data = run.to_dict()
    if run.failed:
        if app.fmt == "table":
            app.result(data)
            for line in describe_failures(run.failed):
                app.warn(line)
        raise PartialFailure(
            ngettext(
                "{count} reminder could not be sent; the expiry is done and it will be tried "
                "again on the next run.",
                "{count} reminders could not be sent; the expiry is done and they will be "
                "tried again on the next run.",
                len(run.failed),
            ).format(count=len(run.failed)),
            result=data,
        )
    if not app.quiet:
        app.result(data)


STATUS_COLUMNS = [
    "class", "temporary", "active", "linked", "expired", "locked", "revoked", "none",
]  # fmt: skip
MISSING_COLUMNS = ["class", "student", "guardian", "relation", "login", "state"]


@credentials_group.command("status")
@click.option("--class", "classes", multiple=True, metavar="CLASS", help="Only this class.")
@click.option("--as-of", type=DATE, help="Count as of the end of this day (default: now).")
@click.option("--school", metavar="CODE", help="Only this school.")
@format_option
@pass_app
def status_command(app: AppContext, classes, as_of, school) -> None:
    """Count credentials per class by state, and list who has no working access.

    JSON carries `classes`, `total` and `without_access`; CSV the per-class counts with an
    `all` row, an empty line, then the people without working access.

    \b
    Example:
      diaryadmin credentials status --class 5А
      diaryadmin credentials status --as-of 01.10.2026 --format json
    """
    from diaryadmin.credentials.status import credential_status, state_words, status_headers

    with app.transaction() as session:
        rows, missing = credential_status(
            session, classes=classes, as_of=_end_of(as_of), school=school
        )
    columns = [c for c in STATUS_COLUMNS if c != "linked" or (rows and "linked" in rows[0])]
    total = {"class": "all", **{c: sum(r[c] for r in rows) for c in columns[1:]}}
    if app.fmt == "json":
        app.result({"classes": rows, "total": total, "without_access": missing})
        return
    if app.fmt == "csv":
        app.table([*rows, total], columns)
        app.out("")
        app.table(missing, ["student_id", *MISSING_COLUMNS])
        return
    headers, words = status_headers(), state_words()
    total["class"] = _("all")
    app.table([*rows, total] if len(rows) > 1 else rows, columns, headers=headers)
    if missing:
        app.out("")
        app.out(_("Without working access ({count}):").format(count=len(missing)))
        shown = [{**m, "state": words.get(m["state"], m["state"])} for m in missing]
        app.table(shown, MISSING_COLUMNS, headers=headers)


@credentials_group.command("revoke")
@click.argument("login")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@DRY_RUN_OPTION
@pass_app
def revoke_command(app: AppContext, login, yes, dry_run) -> None:
    """Withdraw a login at once.

    \b
    Example:
      diaryadmin credentials revoke petr.ivanov.mariia --yes
      diaryadmin credentials revoke petr.ivanov.mariia --dry-run
    """
    from diaryadmin.credentials.lifecycle import credential_by_login, revoke_credential
    from diaryadmin.plan import Plan

    with app.transaction() as session:
        found = credential_by_login(session, login)
        name, state = found.login, found.state
    if state == "revoked":
        app.say(_("{login} was already revoked; nothing changed.").format(login=name))
        return
    if not yes and not dry_run:
        click.confirm(
            _("Revoke {login}? The parent will no longer be able to log in").format(login=name),
            abort=True,
        )
    plan = Plan()
    with app.transaction(dry_run=dry_run) as session:
        credential = revoke_credential(session, name, operator=app.operator, plan=plan)
    app.show_plan(plan, dry_run)
    if not dry_run:
        app.say(_("Revoked {login}.").format(login=credential.login))


def _read_attempt() -> str:
    if sys.stdin.isatty():
        return click.prompt(_("Password as the parent types it"), hide_input=True, err=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Refused(
            _("No password attempt was read from stdin: pipe one line, or run in a terminal.")
        )
    return line


@credentials_group.command("doctor")
@click.argument("login", required=False)
@click.option("--student", metavar="ID", help="Check a student's guardian instead of a login.")
@click.option("--guardian", metavar="NAME", help="The guardian's name, with --student.")
@click.option(
    "--attempt",
    is_flag=True,
    help="Test the password the parent types (asked hidden, or read from stdin).",
)
@format_option
@pass_app
def doctor_command(app: AppContext, login, student, guardian, attempt) -> None:
    """Find out why a parent cannot log in.

    Never prints the password or its hash.

    \b
    Example:
      diaryadmin credentials doctor petr.ivanov --attempt
      diaryadmin credentials doctor --student 123 --guardian "Иванова Мария"
    """
    from diaryadmin.credentials.doctor import diagnose

    if not login and not student:
        raise click.UsageError(_("Give a LOGIN, or --student ID (and --guardian NAME)."))
    typed = _read_attempt() if attempt else None
    with app.transaction() as session:
        findings = diagnose(
            session,
            app.settings,
            login,
            attempt=typed,
            student_id=student,
            guardian_name=guardian,
            operator=app.operator,
        )
    app.table(
        [f.to_dict() for f in findings],
        ["code", "message"],
        headers={"code": _("code"), "message": _("message")},
    )


def confirm_reset_of_linked(app: AppContext, login, student, guardian, yes: bool) -> str | None:
    """The login, when it is linked to the parent's own account and the operator agreed that
    a reset unlinks it (`yes`: agreed already, or a dry run that only shows the unlink); None
    when it is not linked. Aborts when the operator says no."""
    from diaryadmin.credentials.identity import linked_login

    with app.transaction() as session:
        linked = linked_login(session, login=login, student_id=student, guardian_name=guardian)
    if linked and not yes:
        click.confirm(
            _(
                "{login} is linked to the parent's own account (the parent signs in through "
                "State Services). Reset unlinks it and gives a new temporary password. Continue"
            ).format(login=linked),
            abort=True,
        )
    return linked


@credentials_group.command("unlink")
@click.argument("login")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Only say what would change.")
@pass_app
def unlink_command(app: AppContext, login, yes, dry_run) -> None:
    """Undo a login's link to the parent's own account (State Services).

    The login then needs a new password: reset it, or the parent recovers it by e-mail.

    \b
    Example:
      diaryadmin credentials unlink anna.ivanova --dry-run
      diaryadmin credentials unlink anna.ivanova --yes
    """
    from diaryadmin.credentials.identity import unlink_credential

    with app.transaction() as session:
        found = unlink_credential(session, login, operator=app.operator, dry_run=True)
    who = {"login": found["login"], "guardian": found["guardian"]}
    if dry_run:
        if found["identity_released"]:
            text = _("Would unlink {login} ({guardian}) and release the parent's identity.")
        else:
            text = _("Would unlink {login} ({guardian}).")
        app.say(text.format(**who))
        return
    if not yes:
        if found["identity_released"]:
            question = _(
                "Unlink {login} ({guardian}) and release the parent's identity? The parent "
                "will need a new password"
            )
        else:
            question = _("Unlink {login} ({guardian})? The parent will need a new password")
        click.confirm(question.format(**who), abort=True)
    with app.transaction() as session:
        done = unlink_credential(session, login, operator=app.operator)
    app.say(
        _(
            "Unlinked {login}; give it a new password with "
            "'diaryadmin credentials reset {login} --out FILE'."
        ).format(login=done["login"])
    )
