"""diaryadmin journal (import, export, report) and diaryadmin periods (add, list)."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import DATE, DRY_RUN_OPTION, format_option
from diaryadmin.context import AppContext, pass_app
from diaryadmin.errors import Problem
from diaryadmin.i18n import _, ngettext
from diaryadmin.plan import Plan

school_option = click.option("--school", "school_code", metavar="CODE", help="The school's code.")
year_option = click.option(
    "--year",
    type=click.IntRange(2000, 2100),
    help="School year by its first year (2026 for 2026/27); default: from the dates.",
)


def _period_options(command):
    command = click.option("--to", "to_date", type=DATE, help="Last day (with --from).")(command)
    command = click.option("--from", "from_date", type=DATE, help="First day (with --to).")(command)
    return click.option("--period", metavar="NAME", help="An academic period, e.g. Q1.")(command)


def _range(session, school, period, from_date, to_date, year):
    from diaryadmin.journal import periods

    return periods.resolve_range(session, school, period, from_date, to_date, year)


@click.group("periods")
def periods_group() -> None:
    """Academic periods: quarters, half-years, trimesters."""


@periods_group.command("add")
@click.argument("name")
@click.argument("start", type=DATE)
@click.argument("end", type=DATE)
@school_option
@DRY_RUN_OPTION
@pass_app
def periods_add(app: AppContext, name, start, end, school_code, dry_run) -> None:
    """Add an academic period to the school year its dates fall in.

    \b
    Example:
      diaryadmin periods add Q1 01.09.2026 27.10.2026
      diaryadmin periods add Q2 05.11.2026 28.12.2026 --dry-run
    """
    from diaryadmin.journal import periods
    from diaryadmin.schools import resolve_school, school_year_of

    plan = Plan()
    with app.transaction(dry_run=dry_run) as session:
        school = resolve_school(session, school_code, app.settings)
        period = periods.add_period(session, school, name, start, end, app.operator, plan=plan)
        text = _("Added {name}: {start} – {end} ({year}).").format(
            name=period.name,
            start=f"{period.starts_on:%d.%m.%Y}",
            end=f"{period.ends_on:%d.%m.%Y}",
            year=periods.year_label(school_year_of(start)),
        )
    app.show_plan(plan, dry_run)
    if not dry_run:
        app.say(text)


@periods_group.command("list")
@click.option("--year", type=click.IntRange(2000, 2100), help="Only this school year (2026).")
@school_option
@format_option
@pass_app
def periods_list(app: AppContext, year, school_code) -> None:
    """List the academic periods.

    \b
    Example:
      diaryadmin periods list --year 2026
    """
    from diaryadmin.journal import periods
    from diaryadmin.schools import resolve_school

    with app.transaction() as session:
        school = resolve_school(session, school_code, app.settings)
        rows = periods.list_periods(session, school, year)
    app.table(rows, ["school_year", "name", "starts_on", "ends_on", "days"])


@click.group("journal")
def journal_group() -> None:
    """Class journals: import, export to spreadsheets, reports."""


@journal_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--class", "class_name", metavar="CLASS", help="Rows without a class are for it.")
@click.option("--dry-run", is_flag=True, help="Check and report; change nothing.")
@click.option(
    "--year",
    type=click.IntRange(2000, 2100),
    help="School year of the lessons (2026 for 2026/27); default: the one an exported "
    "workbook names, else the roster's latest.",
)
@school_option
@format_option
@pass_app
def import_command(app: AppContext, file: Path, class_name, dry_run, year, school_code) -> None:
    """Import lessons, marks and absences: long form, or a workbook 'journal export' wrote.

    Long form: one row per mark or absence with date, lesson number, class, subject, teacher,
    topic, homework, student ID or full name, mark, weight or kind of work, attendance code
    (Н, Б, УП, ОП) and comment. Nothing is imported if any row is wrong.

    \b
    Example:
      diaryadmin journal import marks-5A.xlsx --class 5А --dry-run
      diaryadmin journal import journals/5А.xlsx
    """
    from diaryadmin.journal import importing as journal
    from diaryadmin.schools import resolve_school

    plan = Plan()
    with app.transaction(dry_run=dry_run) as session:
        school = resolve_school(session, school_code, app.settings)
        report = journal.import_journal(
            session,
            school,
            file,
            app.operator,
            default_class=class_name,
            year=year,
            dry_run=dry_run,
            changes=plan if dry_run else None,
            limits=app.settings.read_limits,
        )
    app.show_plan(plan, dry_run)
    app.result(report)
    app.warn_all(Problem(**warning) for warning in report.get("warnings", ()))
    if dry_run:
        app.say(_("Dry run: nothing was changed."))


@journal_group.command("export")
@click.option("--class", "class_names", multiple=True, metavar="CLASS", help="A class (repeat).")
@click.option("--all", "all_classes", is_flag=True, help="Every class of the school year.")
@_period_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The workbook (one class) or a folder (several classes, --all).",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Classes exported at once, in worker processes (0: one per core for 4+ classes).",
)
@year_option
@school_option
@format_option
@pass_app
def export_command(
    app: AppContext,
    class_names,
    all_classes,
    period,
    from_date,
    to_date,
    out: Path,
    force,
    jobs,
    year,
    school_code,
) -> None:
    """Export class journals to xlsx: a sheet per subject, topics, a summary with charts.

    \b
    Example:
      diaryadmin journal export --class 5А --period Q1 --out 5А-Q1.xlsx
      diaryadmin journal export --all --from 01.09.2026 --to 27.10.2026 --out journals/
    """
    from diaryadmin.journal.scope import export_class_journals

    if bool(class_names) == bool(all_classes):
        raise click.UsageError(_("Name classes with --class, or use --all."))
    with app.transaction() as session:
        report = export_class_journals(
            session,
            app.settings,
            out,
            operator=app.operator,
            class_names=class_names,
            all_classes=all_classes,
            period=period,
            from_date=from_date,
            to_date=to_date,
            year=year,
            school_code=school_code,
            overwrite=force,
            jobs=jobs,
            progress=app.progress,
            say=app.say,
        )
    if app.fmt == "json":
        app.result(report)
    else:
        app.table(
            report["files"],
            ["class", "students", "subjects", "lessons", "marks", "absences", "file"],
        )
    app.say(
        ngettext(
            "Exported {count} class journal for {period}.",
            "Exported {count} class journals for {period}.",
            report["classes"],
        ).format(count=report["classes"], period=report["period"])
    )


@journal_group.group("report")
def report_group() -> None:
    """Reports on marks and attendance."""


@report_group.command("grades")
@click.option("--class", "class_name", required=True, metavar="CLASS", help="The class.")
@_period_options
@year_option
@school_option
@format_option
@pass_app
def report_grades(app: AppContext, class_name, period, from_date, to_date, year, school_code):
    """Averages and period grades by student and subject; students at risk.

    At risk: a weighted average below 3, or a 2 as the period grade.

    \b
    Example:
      diaryadmin journal report grades --class 5А --period Q1 --format csv
    """
    from diaryadmin.journal import reports as journal_reports
    from diaryadmin.journal.data import find_class
    from diaryadmin.schools import resolve_school

    with app.transaction() as session:
        school = resolve_school(session, school_code, app.settings)
        dates = _range(session, school, period, from_date, to_date, year)
        school_class = find_class(session, school, class_name, year or dates.school_year)
        report = journal_reports.grades_report(session, school_class, dates)
    if app.fmt == "json":
        app.result(report)
        return
    # Averages with two decimals, as in the journal (3.00, not 3.0); JSON keeps numbers.
    rows = [
        {**row, "average": None if row["average"] is None else f"{row['average']:.2f}"}
        for row in report["rows"]
    ]
    app.table(rows, journal_reports.GRADE_COLUMNS)
    if report["at_risk"]:
        app.say(_("At risk: {students}.").format(students=", ".join(report["at_risk"])))


@report_group.command("attendance")
@click.option("--class", "class_name", required=True, metavar="CLASS", help="The class.")
@_period_options
@click.option(
    "--threshold",
    type=click.IntRange(min=0),
    default=None,
    help="Flag students who missed more lessons than this.",
)
@year_option
@school_option
@format_option
@pass_app
def report_attendance(
    app: AppContext, class_name, period, from_date, to_date, threshold, year, school_code
):
    """Absences by student, subject and code; first/last-lesson absences.

    \b
    Example:
      diaryadmin journal report attendance --class 5А --period Q1 --threshold 10
    """
    from diaryadmin.journal import reports as journal_reports
    from diaryadmin.journal.data import find_class
    from diaryadmin.schools import resolve_school

    with app.transaction() as session:
        school = resolve_school(session, school_code, app.settings)
        dates = _range(session, school, period, from_date, to_date, year)
        school_class = find_class(session, school, class_name, year or dates.school_year)
        report = journal_reports.attendance_report(session, school_class, dates, threshold)
    if app.fmt == "json":
        app.result(report)
        return
    app.table(report["rows"], journal_reports.ATTENDANCE_COLUMNS)
    if threshold is not None:
        flagged = report["above_threshold"]
        if flagged:
            message = ngettext(
                "Above {threshold} missed lesson: {students}.",
                "Above {threshold} missed lessons: {students}.",
                threshold,
            )
        else:
            message = ngettext(
                "Nobody missed more than {threshold} lesson.",
                "Nobody missed more than {threshold} lessons.",
                threshold,
            )
        app.say(message.format(threshold=threshold, students=", ".join(flagged)))
