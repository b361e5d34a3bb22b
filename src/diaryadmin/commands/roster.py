"""diaryadmin roster import|list|export."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import format_option
from diaryadmin.commands.partial import FORCE_REJECTS_OPTION, REJECTS_OPTION, show_rejected
from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _, ngettext
from diaryadmin.plan import Plan

_FILE = click.Path(exists=True, path_type=Path)


@click.group("roster")
def roster_group() -> None:
    """Class lists: import students and guardians, list them, export them."""


@roster_group.command("import")
@click.argument("files", nargs=-1, required=True, type=_FILE)
@click.option(
    "--school", "school_code", metavar="CODE", help="School code (default: the only one)."
)
@click.option("--sheet", metavar="NAME", help="Read only this sheet of each spreadsheet.")
@click.option(
    "--class", "class_name", metavar="CLASS", help="Class for a file without a class column."
)
@click.option("--encoding", metavar="NAME", help="CSV encoding (default: detected).")
@click.option(
    "--delimiter",
    type=click.Choice([";", ",", "tab"]),
    help="CSV delimiter (default: detected).",
)
@click.option(
    "--sync",
    is_flag=True,
    help="Deactivate active students missing from the files (with --class: of that class).",
)
@REJECTS_OPTION
@FORCE_REJECTS_OPTION
@click.option("--dry-run", is_flag=True, help="Check and show the plan; write nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before deactivating students (--sync).")
@format_option
@pass_app
def import_command(
    app: AppContext,
    files,
    school_code,
    sheet,
    class_name,
    encoding,
    delimiter,
    sync,
    rejects,
    force,
    dry_run,
    yes,
) -> None:
    """Import class lists: xlsx/xls/ods/CSV files, or a OneRoster folder or zip.

    All or nothing: any error in any row means nothing is imported, and every error is
    listed with its file, sheet, row and column. With --rejects FILE the valid rows are
    imported and the refused ones (with the guardians' rows of a refused student) written
    to FILE as typed, with a column of reasons: fix them there and import FILE (exit 3 when
    rows were refused). Importing the same file again changes nothing. Students are matched
    by ID, else birth certificate, else name and birth date.

    \b
    Example:
      diaryadmin roster import roster.xlsx parents.csv
      diaryadmin roster import 5A.csv --class 5А --dry-run
      diaryadmin roster import school.xlsx --sync --yes --format json
      diaryadmin roster import school.xlsx --rejects to-fix.xlsx
    """
    from diaryadmin.roster import importing as roster
    from diaryadmin.staging import staged_change

    def confirm(students) -> bool:
        _show_deactivations(app, students)
        if yes or dry_run:
            return True
        question = ngettext(
            "Deactivate this student?", "Deactivate these {count} students?", len(students)
        )
        return click.confirm(question.format(count=len(students)), err=True)

    # A dry run imports for real and rolls back: its plan names each change (roster.changes).
    # Only a dry run shows it, and comparing a whole school before and after costs as much
    # as the import itself, so a real import makes none.
    plan = Plan() if dry_run else None
    with staged_change(
        app.sessions(), app.operator, dry_run=dry_run, targets=[rejects] if rejects else [],
        say=app.say,
    ) as (session, staging):  # fmt: skip
        report = roster.import_roster(
            session,
            list(files),
            settings=app.settings,
            operator=app.operator,
            school_code=school_code,
            sheet=sheet,
            class_name=class_name,
            encoding=encoding,
            delimiter="\t" if delimiter == "tab" else delimiter,
            sync=sync,
            confirm=confirm,
            progress=app.progress,
            plan=plan,
            rejects=rejects,
            staging=None if dry_run else staging,  # a dry run writes no rejects file
            force=force,
        )
    app.show_plan(plan, dry_run)
    app.warn_all(report.warnings)
    data = report.to_dict()
    if app.fmt == "table":
        lists = ("errors", "warnings", "rejected_rows")
        app.result({k: v for k, v in data.items() if k not in lists and v is not None})
    else:
        app.result(data)
    if not dry_run and not report.changed:
        app.say(_("Nothing changed: the roster is already up to date."))
    show_rejected(app, report.rejected, report.rejects_file, dry_run)


def _show_deactivations(app: AppContext, students) -> None:
    app.say(
        ngettext(
            "{count} active student is missing from the files:",
            "{count} active students are missing from the files:",
            len(students),
        ).format(count=len(students))
    )
    for student in students[:200]:
        ident = f" [{student['external_id']}]" if student["external_id"] else ""
        app.say(f"  {student['class'] or '-'}  {student['name']}{ident}")
    if len(students) > 200:
        more = len(students) - 200
        app.say(
            "  " + ngettext("... and {count} more", "... and {count} more", more).format(count=more)
        )


@roster_group.command("list")
@click.option(
    "--school", "school_code", metavar="CODE", help="School code (default: the only one)."
)
@click.option("--class", "class_name", metavar="CLASS", help="Only this class, e.g. 5А.")
@click.option("--inactive", is_flag=True, help="Include deactivated students.")
@format_option
@pass_app
def list_command(app: AppContext, school_code, class_name, inactive) -> None:
    """List students with their class and guardians.

    \b
    Example:
      diaryadmin roster list --class 5А
      diaryadmin roster list --inactive --format json
    """
    from diaryadmin.roster import importing as roster

    with app.transaction() as session:
        rows = roster.list_students(
            session, app.settings, school_code=school_code, class_name=class_name,
            inactive=inactive,
        )  # fmt: skip
    if app.fmt == "json":
        app.table(rows)
        return
    flat = [
        {
            **row,
            "guardians": "; ".join(
                ", ".join(
                    x
                    for x in (
                        g["name"],
                        roster.relation_word(g["relation"]),
                        g["email"],
                        g["phone"],
                    )
                    if x
                )  # fmt: skip
                for g in row["guardians"]
            ),
        }
        for row in rows
    ]
    columns = ["id", "external_id", "surname", "name", "patronymic", "birth_date", "class"]
    if inactive:
        columns.append("active")
    app.table(flat, [*columns, "guardians"])


@roster_group.command("export")
@click.argument("target", type=click.Path(path_type=Path))
@click.option(
    "--school", "school_code", metavar="CODE", help="School code (default: the only one)."
)
@click.option("--class", "class_name", metavar="CLASS", help="Only this class, e.g. 5А.")
@click.option(
    "--oneroster", is_flag=True, help="Write a OneRoster 1.1 CSV folder (or .zip) instead."
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_app
def export_command(app: AppContext, target: Path, school_code, class_name, oneroster, force):
    """Export active students and guardians as xlsx, CSV or a OneRoster CSV folder/zip.

    The xlsx and CSV have exactly the columns `roster import` reads, so importing an export
    changes nothing. A folder or .zip target (or --oneroster) writes OneRoster CSV files.

    \b
    Example:
      diaryadmin roster export roster.xlsx
      diaryadmin roster export 5A.csv --class 5А
      diaryadmin roster export oneroster.zip
    """
    from diaryadmin.roster import importing as roster

    with app.transaction() as session:
        count = roster.export_roster(
            session, app.settings, target, school_code=school_code, class_name=class_name,
            oneroster=oneroster, overwrite=force,
        )  # fmt: skip
    app.say(
        ngettext(
            "Wrote {count} student to {file}.", "Wrote {count} students to {file}.", count
        ).format(count=count, file=target)
    )
