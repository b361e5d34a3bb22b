"""Click options shared by several command groups."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from diaryadmin.context import AppContext
from diaryadmin.i18n import _
from diaryadmin.output import FORMATS


def format_option(command):
    """`--format` on a listing command; overrides the root option when given."""

    def callback(ctx: click.Context, _param, value):
        if value:
            ctx.find_object(AppContext).fmt = value
        return value

    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        expose_value=False,
        callback=callback,
        help="Output format (overrides the global --format).",
    )(command)


class DateType(click.ParamType):
    """A date as dd.mm.yyyy or yyyy-mm-dd."""

    name = "DATE"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        from diaryadmin.io.cells import parse_date

        try:
            return parse_date(value)
        except ValueError as exc:
            message = _("{value!r} is not a date ({reason}); use dd.mm.yyyy or yyyy-mm-dd")
            self.fail(message.format(value=value, reason=exc), param, ctx)


DATE = DateType()


# --- where passwords go: credentials issue|reset, guardians grant, applications verify --------

OUT_OPTION = click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the passwords here: .html slips to print, or .csv/.xlsx for mail merge.",
)
FORCE_OPTION = click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
EMAIL_OPTION = click.option(
    "--email", is_flag=True, help="Also e-mail each guardian their letter (SMTP settings)."
)
DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Show by name what would change; change nothing."
)


def needs_destination(out: Path | None, email: bool) -> None:
    if out is None and not email:
        raise click.UsageError(_("Say where the passwords go: --out FILE (and/or --email)."))


def report_issue(
    app: AppContext,
    result,
    out: Path | None,
    extra: dict | None = None,
    dry_run: bool = False,
) -> None:
    """Render an IssueResult (after the `extra` counts): on a dry run its plan; else who was
    skipped for having no e-mail address, each letter that failed; PartialFailure (exit 3)
    only for real delivery failures."""
    from diaryadmin.credentials.delivery import describe_failures, raise_for_failures

    if dry_run:
        app.show_plan(result.plan, dry_run)
        return

    data = {**(extra or {}), **result.to_dict()}
    for skipped in result.no_email:
        app.say(
            _("{guardian} ({login}): {reason}.").format(
                guardian=skipped["guardian"], login=skipped["login"], reason=skipped["reason"]
            )
        )
    if result.failed and app.fmt == "table":
        app.result(data)
        for line in describe_failures(result.failed):
            app.warn(line)
    raise_for_failures(result, out, data)
    app.result(data)
