"""diaryadmin credentials: issue, reset, expire, status, revoke, doctor."""

from __future__ import annotations

import contextlib
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from diaryadmin import audit
from diaryadmin.commands.options import DATE, format_option
from diaryadmin.context import AppContext, pass_app
from diaryadmin.errors import PartialFailure, Refused


@click.group("credentials")
def credentials_group() -> None:
    """Parent logins and temporary passwords: issue, reset, expire, status, doctor."""


def _report_failures(app: AppContext, failed: list[dict]) -> None:
    for f in failed:
        app.warn(f"e-mail to {f.get('guardian')} <{f.get('email') or '-'}> failed: {f['error']}")


def check_destination(app: AppContext, out: Path | None, force: bool, email: bool) -> None:
    """Refuse an --out file that cannot be written, or --email without SMTP settings, before
    any password is drawn or hashed."""
    from diaryadmin import letters

    if out is not None:
        letters.check_output_path(out, force)
    if email:
        letters.require_smtp(app.settings)


def issue_and_deliver(app: AppContext, issue, out: Path | None, force: bool, email: bool):
    """Run `issue(session)` in one transaction, write `out` before the commit (delete it if the
    commit fails), then e-mail after the commit. Raises PartialFailure when letters fail."""
    from diaryadmin import letters

    check_destination(app, out, force, email)
    written: Path | None = None
    try:
        with app.transaction() as session:
            result = issue(session)
            if result.issued and out is not None:
                written = letters.write_credentials_file(
                    result.issued, out, app.settings, force=force
                )
    except BaseException:
        if written is not None:
            with contextlib.suppress(FileNotFoundError):
                written.unlink()
        raise
    if written:
        app.say(f"Wrote {len(result.issued)} password(s) to {written} (mode 0600).")
    if email and result.issued:
        result.emailed, result.failed = letters.send_credential_letters(result.issued, app.settings)
        with app.transaction() as session:
            audit.record(
                session,
                app.operator,
                "credentials.email",
                f"{result.emailed} letter(s)",
                {"sent": result.emailed, "failed": [f["login"] for f in result.failed]},
            )
    return result


def report_issue(app: AppContext, result, out: Path | None) -> None:
    data = result.to_dict()
    if result.failed:
        if app.fmt == "table":
            app.result(data)
            _report_failures(app, result.failed)
        then = (
            f" and {out} lists everyone"
            if out is not None
            else ", so give those parents a new password with "
            "'diaryadmin credentials reset LOGIN --out FILE'"
        )
        raise PartialFailure(
            f"{len(result.failed)} letter(s) could not be sent; the credentials stay issued{then}.",
            result=data,
        )
    app.result(data)


def _needs_destination(out: Path | None, email: bool) -> None:
    if out is None and not email:
        raise click.UsageError("Say where the passwords go: --out FILE (and/or --email).")


OUT_OPTION = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the passwords here: .html slips to print, or .csv/.xlsx for mail merge.",
)
FORCE_OPTION = click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
EMAIL_OPTION = click.option(
    "--email", is_flag=True, help="Also e-mail each guardian their letter (SMTP settings)."
)


@credentials_group.command("issue")
@click.option("--class", "classes", multiple=True, metavar="CLASS", help="A class, e.g. 5А.")
@click.option("--student", "students", multiple=True, metavar="ID", help="A student's id.")
@click.option("--all", "all_", is_flag=True, help="Every class.")
@click.option("--school", metavar="CODE", help="Only this school (when there are several).")
@click.option("--reissue", is_flag=True, help="Replace existing credentials (logins stay).")
@OUT_OPTION
@FORCE_OPTION
@EMAIL_OPTION
@click.option("--dry-run", is_flag=True, help="Only count what would be issued.")
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
    """
    from diaryadmin.credentials.issue import count_to_issue, issue_credentials, select_guardianships
    from diaryadmin.credentials.passwords import PasswordSupply

    if dry_run:
        with app.transaction() as session:
            ids = select_guardianships(
                session, classes=classes, student_ids=students, all_=all_, school=school
            )
            todo, skipped = count_to_issue(session, ids, reissue=reissue)
        app.result({"would_issue": todo, "skipped": skipped})
        return
    _needs_destination(out, email)
    check_destination(app, out, force, email)
    with app.transaction() as session:
        ids = select_guardianships(
            session, classes=classes, student_ids=students, all_=all_, school=school
        )
        todo, _ = count_to_issue(session, ids, reissue=reissue)
    # Hash before the write transaction, so the database is not held while the CPU works.
    with app.progress(todo, "Hashing passwords") as update:
        supply = PasswordSupply.prepare(todo, app.settings, update)

    def issue(session):
        ids = select_guardianships(
            session, classes=classes, student_ids=students, all_=all_, school=school
        )
        return issue_credentials(
            session, app.settings, ids, reissue=reissue, operator=app.operator, supply=supply
        )

    result = issue_and_deliver(app, issue, out, force, email)
    if not result.issued:
        app.say(
            "Nothing to issue: everyone in scope has a revoked login (reset one with "
            "'diaryadmin credentials reset LOGIN --out FILE') or no active access."
            if reissue
            else "Nothing to issue: everyone in scope already has a login (use --reissue)."
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
@format_option
@pass_app
def reset_command(app: AppContext, login, student, guardian, out, force, email, yes) -> None:
    """Give one login a new temporary password; the old one stops working at once.

    Also clears the failed-attempt counter and a lock.

    \b
    Example:
      diaryadmin credentials reset petr.ivanov --out reset.html
      diaryadmin credentials reset --student 123 --guardian "Иванова Мария" --out reset.html
    """
    from diaryadmin.credentials.identity import unlink_credential
    from diaryadmin.credentials.issue import reset_credential

    if not login and not (student and guardian):
        raise click.UsageError("Give a LOGIN, or --student ID and --guardian NAME.")
    _needs_destination(out, email)
    linked = confirm_reset_of_linked(app, login, student, guardian, yes)

    def issue(session):
        if linked:
            unlink_credential(session, linked, operator=app.operator)
        return reset_credential(
            session,
            app.settings,
            login=login,
            student_id=student,
            guardian_name=guardian,
            operator=app.operator,
            require_email=email and out is None,
        )

    report_issue(app, issue_and_deliver(app, issue, out, force, email), out)


def _end_of(day: date | None) -> datetime | None:
    return None if day is None else datetime(day.year, day.month, day.day) + timedelta(days=1)


@credentials_group.command("expire")
@click.option("--as-of", type=DATE, help="Expire as if it were the end of this day.")
@click.option("--dry-run", is_flag=True, help="Only count what would expire.")
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

    \b
    Example:
      diaryadmin -q credentials expire --remind 5
      diaryadmin credentials expire --as-of 01.10.2026 --dry-run
    """
    from diaryadmin import letters
    from diaryadmin.credentials import status as credential_status

    moment = _end_of(as_of)
    if remind and not dry_run:
        letters.require_smtp(app.settings)
    reminded, failed = 0, []
    with app.transaction() as session:
        expired = credential_status.expire_credentials(
            session, as_of=moment, dry_run=dry_run, operator=app.operator
        )
        if remind:
            if dry_run:
                rows = []
            else:
                rows = credential_status.claim_reminders(session, days=remind, as_of=moment)
            if rows:
                reminded, failed = letters.send_reminders(rows, app.settings)
                failed_logins = {f["login"] for f in failed}
                credential_status.unclaim_reminders(
                    session, [r["credential_id"] for r in rows if r["login"] in failed_logins]
                )
                audit.record(
                    session,
                    app.operator,
                    "credentials.remind",
                    f"{reminded} reminder(s)",
                    {"sent": reminded, "failed": sorted(failed_logins)},
                )
    data = {"expired": expired, "reminded": reminded}
    if failed:
        data["failed"] = failed
        if app.fmt == "table":
            app.result(data)
            _report_failures(app, failed)
        raise PartialFailure(f"{len(failed)} reminder(s) could not be sent.", result=data)
    if not app.quiet:
        app.result(data)


STATUS_COLUMNS = [
    "class", "temporary", "active", "linked", "expired", "locked", "revoked", "none",
]  # fmt: skip


@credentials_group.command("status")
@click.option("--class", "classes", multiple=True, metavar="CLASS", help="Only this class.")
@click.option("--as-of", type=DATE, help="Count as of the end of this day (default: now).")
@click.option("--school", metavar="CODE", help="Only this school.")
@format_option
@pass_app
def status_command(app: AppContext, classes, as_of, school) -> None:
    """Count credentials per class by state, and list who has no working access.

    \b
    Example:
      diaryadmin credentials status --class 5А
      diaryadmin credentials status --as-of 01.10.2026 --format json
    """
    from diaryadmin.credentials.status import credential_status

    with app.transaction() as session:
        rows, missing = credential_status(
            session, classes=classes, as_of=_end_of(as_of), school=school
        )
    columns = [c for c in STATUS_COLUMNS if c != "linked" or (rows and "linked" in rows[0])]
    if app.fmt != "table":
        app.table(rows, columns)
        return
    total = {c: sum(r[c] for r in rows) for c in columns[1:]}
    app.table([*rows, {"class": "all", **total}] if len(rows) > 1 else rows, columns)
    if missing:
        app.out("")
        app.out(f"Without working access ({len(missing)}):")
        app.table(missing, ["class", "student", "guardian", "relation", "login", "state"])


@credentials_group.command("revoke")
@click.argument("login")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@pass_app
def revoke_command(app: AppContext, login, yes) -> None:
    """Withdraw a login at once.

    \b
    Example:
      diaryadmin credentials revoke petr.ivanov.mariia --yes
    """
    from diaryadmin.credentials.issue import credential_by_login, revoke_credential

    with app.transaction() as session:
        found = credential_by_login(session, login)
        name, state = found.login, found.state
    if state == "revoked":
        app.say(f"{name} was already revoked; nothing changed.")
        return
    if not yes:
        click.confirm(f"Revoke {name}? The parent will no longer be able to log in", abort=True)
    with app.transaction() as session:
        credential = revoke_credential(session, name, operator=app.operator)
    app.say(f"Revoked {credential.login}.")


def _read_attempt() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password as the parent types it", hide_input=True, err=True)
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise Refused(
            "No password attempt was read from stdin: pipe one line, or run in a terminal."
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
        raise click.UsageError("Give a LOGIN, or --student ID (and --guardian NAME).")
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
    app.table([f.to_dict() for f in findings], ["code", "message"])


def confirm_reset_of_linked(app: AppContext, login, student, guardian, yes: bool) -> str | None:
    """The login, when it is linked to the parent's own account and the operator agreed that
    a reset unlinks it; None when it is not linked. Aborts when the operator says no."""
    from diaryadmin.credentials.identity import linked_login

    with app.transaction() as session:
        linked = linked_login(session, login=login, student_id=student, guardian_name=guardian)
    if linked and not yes:
        click.confirm(
            f"{linked} is linked to the parent's own account (the parent signs in through State "
            "Services). Reset unlinks it and gives a new temporary password. Continue",
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
    released = " and release the parent's identity" if found["identity_released"] else ""
    if dry_run:
        app.say(f"Would unlink {found['login']} ({found['guardian']}){released}.")
        return
    if not yes:
        click.confirm(
            f"Unlink {found['login']} ({found['guardian']}){released}? The parent will need a "
            "new password",
            abort=True,
        )
    with app.transaction() as session:
        done = unlink_credential(session, login, operator=app.operator)
    app.say(
        f"Unlinked {done['login']}; give it a new password with 'diaryadmin credentials reset "
        f"{done['login']} --out FILE'."
    )
