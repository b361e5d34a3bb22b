"""Click options shared by several command groups."""

from __future__ import annotations

from datetime import date

import click

from diaryadmin.context import AppContext
from diaryadmin.io.cells import parse_date
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
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(f"{value!r} is not a date ({exc}); use dd.mm.yyyy or yyyy-mm-dd", param, ctx)


DATE = DateType()
