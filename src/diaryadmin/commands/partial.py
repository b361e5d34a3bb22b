"""The options and the ending of a partial import (`--rejects`), shared by the roster and
applications imports."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.context import AppContext
from diaryadmin.errors import PartialFailure, Problem
from diaryadmin.i18n import _, ngettext

SHOWN = 20  # rejected rows listed on stderr without -v; the rejects file has every one

REJECTS_OPTION = click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Import the valid rows; write the refused ones as typed, with their reasons, to this "
    ".xlsx or .csv (exit 3 when there are any).",
)
FORCE_REJECTS_OPTION = click.option(
    "--force", is_flag=True, help="Overwrite an existing --rejects file."
)


def show_rejected(
    app: AppContext, rejected: list[Problem] | None, target: str | Path | None, dry_run: bool
) -> None:
    """List the rejected rows on stderr and end with exit 3 (PartialFailure) if there are any:
    the rest was imported (or, on a dry run, would be)."""
    if not rejected:
        return
    shown = rejected if app.verbose else rejected[:SHOWN]
    for problem in shown:
        app.say(_("rejected: {problem}").format(problem=problem))
    if len(shown) < len(rejected):
        app.say(
            _("  ... and {count} more; -v lists every one.").format(
                count=len(rejected) - len(shown)
            )
        )
    count = len(rejected)
    if dry_run:
        raise PartialFailure(
            ngettext(
                "{count} row would be rejected; the dry run wrote nothing (no rejects file) "
                "and changed nothing.",
                "{count} rows would be rejected; the dry run wrote nothing (no rejects file) "
                "and changed nothing.",
                count,
            ).format(count=count)
        )
    raise PartialFailure(
        ngettext(
            "{count} row was rejected and written to {target} with its reasons; every "
            "other row was imported. Fix the row there and import that file.",
            "{count} rows were rejected and written to {target} with their reasons; every "
            "other row was imported. Fix the rows there and import that file.",
            count,
        ).format(count=count, target=target)
    )
