"""diaryadmin applications import|verify|list|decide."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import format_option
from diaryadmin.context import AppContext, pass_app
from diaryadmin.errors import PartialFailure


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""

    def __init__(self, result) -> None:
        self.result = result


@click.group("applications")
def applications_group() -> None:
    """Applications for diary access: import, verify against the roster, decide, issue."""


@applications_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--school", "school_code", metavar="CODE", help="School (when there are several).")
@click.option("--sheet", help="Read only this sheet (default: every sheet with applications).")
@click.option("--encoding", help="CSV encoding (default: detected; utf-8, cp1251).")
@click.option("--delimiter", help="CSV delimiter (default: detected; ; , or tab).")
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@format_option
@pass_app
def import_command(app: AppContext, files, school_code, sheet, encoding, delimiter, dry_run):
    """Import applications from xlsx/xls/ods or CSV files, all or nothing.

    Any error in any row means nothing is imported (exit 1) and every problem is listed with
    file, sheet, row and column. A malformed passport, SNILS or birth certificate is not an
    error: it is flagged and becomes a rejection reason at verify. Re-importing the same
    application changes nothing.

    \b
    Example:
      diaryadmin applications import gosuslugi-2026-09.xlsx
      diaryadmin applications import office.csv --encoding cp1251 --dry-run
    """
    from diaryadmin.applications.store import import_applications

    def run(session):
        return import_applications(
            session,
            app.settings,
            files,
            operator=app.operator,
            school_code=school_code,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            dry_run=dry_run,
        )

    try:
        with app.transaction() as session:
            report = run(session)
            if dry_run:
                raise _DryRun(report)
    except _DryRun as done:
        report = done.result
    for warning in report.warnings:
        app.warn(str(warning))
    if app.fmt == "table":
        verb = "would import" if dry_run else "imported"
        app.say(
            f"{verb} {report.created} application(s) ({report.flagged} with a malformed "
            f"document); {report.unchanged} already imported."
        )
    app.result(report.to_dict())


@applications_group.command("verify")
@click.option("--issue", is_flag=True, help="Link approved applicants and issue credentials.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --issue: where to write the passwords (.html slips, .csv or .xlsx).",
)
@click.option("--email", is_flag=True, help="With --issue: e-mail each guardian their letter.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an xlsx report: one row per application, with refusal letters.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing --out or --report file.")
@click.option("--dry-run", is_flag=True, help="Decide and report, then roll the decisions back.")
@format_option
@pass_app
def verify_command(app: AppContext, issue, out, email, report, force, dry_run):
    """Decide every pending application: approved, review or rejected, with reasons.

    With --issue, every approved applicant becomes the child's guardian and gets a login and
    temporary password, exactly as 'credentials issue' does; the passwords go only to --out
    (and, with --email, to the guardians). Prints the counts per decision.

    \b
    Reason codes: child_not_found, child_inactive, birth_date_mismatch, date_swapped,
    certificate_mismatch, certificate_malformed, name_near_miss, patronymic_missing,
    no_consent, passport_malformed, snils_invalid, duplicate_application, contact_conflict
    (and reviewer, for a decision made with 'applications decide').

    \b
    Example:
      diaryadmin applications verify --report decisions.xlsx
      diaryadmin applications verify --issue --out slips.html --email --report decisions.xlsx
    """
    from diaryadmin.applications.issue import process_pending
    from diaryadmin.applications.verify import count_pending

    if (out or email) and not issue:
        raise click.UsageError("--out and --email go with --issue.")
    if issue and out is None:
        raise click.UsageError("--issue needs --out FILE for the passwords.")
    if issue and dry_run:
        raise click.UsageError("--dry-run cannot be combined with --issue.")
    if report is not None:
        _check_report_path(report, force)
    outcome = None

    def run(session):
        nonlocal outcome
        with app.progress(count_pending(session), "Verifying") as update:
            outcome = process_pending(
                session,
                app.settings,
                operator=app.operator,
                issue=issue,
                report=report,
                force=force,
                progress=update,
            )
        return outcome.issued

    if issue:
        # Credentials are issued, written and e-mailed exactly as 'credentials issue' does.
        from diaryadmin.commands.credentials import issue_and_deliver

        issued = issue_and_deliver(app, run, out, force, email)
    else:
        try:
            with app.transaction() as session:
                run(session)
                if dry_run:
                    raise _DryRun(outcome)
        except _DryRun:
            app.say("Dry run: no decision was stored.")
        issued = None
    if report is not None:
        app.say(f"Wrote the report to {report}.")
    summary = dict(outcome.summary)
    if issued is not None:
        summary.update(issued.to_dict())
        if issued.failed:
            if app.fmt == "table":
                app.result(summary)
            for failure in issued.failed:
                app.warn(
                    f"e-mail to {failure.get('guardian')} <{failure.get('email') or '-'}> "
                    f"failed: {failure['error']}"
                )
            raise PartialFailure(
                f"{len(issued.failed)} letter(s) could not be sent; the credentials stay "
                "issued and the --out file lists everyone.",
                result=summary,
            )
    app.result(summary)


def _check_report_path(path: Path, force: bool) -> None:
    from diaryadmin.errors import Refused

    if path.suffix.lower() != ".xlsx":
        raise Refused(f"{path}: the report is an .xlsx file.")
    if not path.parent.is_dir():
        raise Refused(f"{path}: the folder {str(path.parent)!r} does not exist.")
    if path.exists() and not force:
        raise Refused(f"{path}: already exists; use --force to overwrite it.")


@applications_group.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "approved", "review", "rejected"]),
    help="Only applications in this status (repeatable).",
)
@format_option
@pass_app
def list_command(app: AppContext, statuses) -> None:
    """List applications with their status and reasons.

    \b
    Example:
      diaryadmin applications list --status review
      diaryadmin applications list --format json
    """
    from diaryadmin.applications.store import list_applications

    with app.transaction() as session:
        rows = list_applications(session, statuses)
    if app.fmt == "json":
        app.table(rows)
        return
    for row in rows:
        row["reasons"] = [r["code"] for r in row["reasons"]]
    app.table(rows, ["id", "external_id", "status", "child", "applicant", "reasons"])


@applications_group.command("decide")
@click.argument("application")
@click.option("--approve", "approve", flag_value=True, default=None, help="Approve it.")
@click.option("--reject", "approve", flag_value=False, help="Reject it.")
@click.option("--reason", required=True, help="Why (stored with the decision and audited).")
@format_option
@pass_app
def decide_command(app: AppContext, application, approve, reason) -> None:
    """Approve or reject one application (by id or application number) after review.

    Approved applications get their access with 'applications verify --issue'.

    \b
    Example:
      diaryadmin applications decide 17 --approve --reason "Паспорт проверен лично"
      diaryadmin applications decide A-2026-0042 --reject --reason "Не родитель"
    """
    from diaryadmin.applications.store import decide_application

    if approve is None:
        raise click.UsageError("Choose --approve or --reject.")
    with app.transaction() as session:
        row = decide_application(
            session, application, approve=approve, reason=reason, operator=app.operator
        )
    app.say(f"Application {row['id']} is now {row['status']}.")
    app.result(row)
