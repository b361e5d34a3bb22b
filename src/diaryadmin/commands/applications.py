"""diaryadmin applications import|verify|list|decide."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import DRY_RUN_OPTION, format_option, report_issue
from diaryadmin.commands.partial import FORCE_REJECTS_OPTION, REJECTS_OPTION, show_rejected
from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _, ngettext
from diaryadmin.plan import Plan


@click.group("applications")
def applications_group() -> None:
    """Applications for diary access: import, verify against the roster, decide, issue."""


@applications_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--school", "school_code", metavar="CODE", help="School (when there are several).")
@click.option("--sheet", help="Read only this sheet (default: every sheet with applications).")
@click.option("--encoding", help="CSV encoding (default: detected; utf-8, cp1251).")
@click.option("--delimiter", help="CSV delimiter (default: detected; ; , or tab).")
@REJECTS_OPTION
@FORCE_REJECTS_OPTION
@click.option("--dry-run", is_flag=True, help="Check and report; write nothing.")
@format_option
@pass_app
def import_command(
    app: AppContext, files, school_code, sheet, encoding, delimiter, rejects, force, dry_run
):
    """Import applications from xlsx/xls/ods or CSV files, all or nothing.

    Any error in any row means nothing is imported (exit 1) and every problem is listed with
    file, sheet, row and column. With --rejects FILE the valid rows are imported and the
    refused ones written to FILE as typed, with a column of reasons: fix them there and
    import FILE (exit 3 when rows were refused). A malformed passport, SNILS or birth
    certificate is not an error: it is flagged and becomes a rejection reason at verify.
    Re-importing the same application changes nothing.

    \b
    Example:
      diaryadmin applications import gosuslugi-2026-09.xlsx
      diaryadmin applications import office.csv --encoding cp1251 --dry-run
      diaryadmin applications import gosuslugi-2026-09.xlsx --rejects to-fix.xlsx
    """
    from diaryadmin.applications.store import import_applications
    from diaryadmin.staging import staged_change

    plan = Plan() if dry_run else None  # only a dry run shows it
    with staged_change(
        app.sessions(), app.operator, dry_run=dry_run, targets=[rejects] if rejects else [],
        say=app.say,
    ) as (session, staging):  # fmt: skip
        report = import_applications(
            session,
            app.settings,
            files,
            operator=app.operator,
            school_code=school_code,
            sheet=sheet,
            encoding=encoding,
            delimiter=delimiter,
            dry_run=dry_run,
            plan=plan,
            rejects=rejects,
            staging=None if dry_run else staging,  # a dry run writes no rejects file
            force=force,
        )
    app.show_plan(plan, dry_run)
    app.warn_all(report.warnings)
    if app.fmt == "table":
        if dry_run:
            summary = ngettext(
                "would import {count} application ({flagged} with a malformed document); "
                "{unchanged} already imported.",
                "would import {count} applications ({flagged} with a malformed document); "
                "{unchanged} already imported.",
                report.created,
            )
        else:
            summary = ngettext(
                "imported {count} application ({flagged} with a malformed document); "
                "{unchanged} already imported.",
                "imported {count} applications ({flagged} with a malformed document); "
                "{unchanged} already imported.",
                report.created,
            )
        app.say(
            summary.format(count=report.created, flagged=report.flagged, unchanged=report.unchanged)
        )
    app.result(report.to_dict())
    show_rejected(app, report.rejected, report.rejects_file, dry_run)


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
    from diaryadmin.applications.verifying import verify_and_issue
    from diaryadmin.credentials.delivery import Delivery

    if (out or email) and not issue:
        raise click.UsageError(_("--out and --email go with --issue."))
    if issue and out is None:
        raise click.UsageError(_("--issue needs --out FILE for the passwords."))
    if issue and dry_run:
        raise click.UsageError(_("--dry-run cannot be combined with --issue."))
    outcome = verify_and_issue(
        app.sessions(),
        app.settings,
        operator=app.operator,
        issue=issue,
        delivery=Delivery(out, force, email),
        report=report,
        force=force,
        dry_run=dry_run,
        progress=app.progress,
        say=app.say,
    )
    if dry_run:
        app.show_plan(outcome.plan, dry_run)
        app.say(_("Dry run: no decision was stored."))
    if report is not None:
        app.say(_("Wrote the report to {file}.").format(file=report))
    if outcome.issued is None:
        app.result(outcome.summary)
        return
    report_issue(app, outcome.issued, out, extra=outcome.summary)


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


@applications_group.command("show")
@click.argument("application")
@click.option(
    "--id",
    "by_id",
    is_flag=True,
    help="APPLICATION is the internal id (the report's ID column), not the application number.",
)
@format_option
@pass_app
def show_command(app: AppContext, application, by_id) -> None:
    """Show one application: its status, the child, the applicant and the reasons.

    APPLICATION is the application number, as on the application and in the report.

    \b
    Example:
      diaryadmin applications show A-2026-0042
      diaryadmin applications show 17 --id --format json
    """
    from diaryadmin.applications.store import show_application

    with app.transaction() as session:
        row = show_application(session, application, by_id=by_id)
    if app.fmt == "json":
        app.result(row)
        return
    app.result({key: value for key, value in row.items() if key != "reasons"})
    if row["reasons"] and app.fmt == "table":
        app.out(_("Reasons:"))
        for number, item in enumerate(row["reasons"], 1):
            app.out(f"{number}. {item['message']} ({item['code']})")


@applications_group.command("decide")
@click.argument("application")
@click.option("--approve", "approve", flag_value=True, default=None, help="Approve it.")
@click.option("--reject", "approve", flag_value=False, help="Reject it.")
@click.option("--reason", required=True, help="Why (stored with the decision and audited).")
@click.option(
    "--id",
    "by_id",
    is_flag=True,
    help="APPLICATION is the internal id (the report's ID column), not the application number.",
)
@DRY_RUN_OPTION
@format_option
@pass_app
def decide_command(app: AppContext, application, approve, reason, by_id, dry_run) -> None:
    """Approve or reject one application after review.

    APPLICATION is the application number, as on the application and in the report; with
    --id, the internal id (the report's ID column) for an application without a number.
    Approved applications get their access with 'applications verify --issue'.

    \b
    Example:
      diaryadmin applications decide A-2026-0042 --approve --reason "Паспорт проверен лично"
      diaryadmin applications decide A-2026-0043 --reject --reason "Не родитель"
      diaryadmin applications decide 17 --id --reject --reason "Заявление подано повторно"
    """
    from diaryadmin.applications.store import decide_application

    if approve is None:
        raise click.UsageError(_("Choose --approve or --reject."))
    plan = Plan()
    with app.transaction(dry_run=dry_run) as session:
        row = decide_application(
            session,
            application,
            approve=approve,
            reason=reason,
            operator=app.operator,
            by_id=by_id,
            plan=plan,
        )
    app.show_plan(plan, dry_run)
    if not dry_run:
        number = row["external_id"] or f"#{row['id']}"
        if row["status"] == "approved":
            app.say(_("Application {number} is now approved.").format(number=number))
        else:
            app.say(_("Application {number} is now rejected.").format(number=number))
    app.result(row)
