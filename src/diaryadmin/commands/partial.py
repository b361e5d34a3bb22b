"""The options and the ending of a partial import (`--rejects`), shared by the roster and
applications imports."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.context import AppContext
from diaryadmin.errors import PartialFailure, Problem

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
        app.say(f"rejected: {problem}")
    if len(shown) < len(rejected):
        app.say(f"  ... and {len(rejected) - len(shown)} more; -v lists every one.")
    count = len(rejected)
    if dry_run:
        raise PartialFailure(
            f"{count} row(s) would be rejected; the dry run wrote nothing (no rejects file) "
            "and changed nothing."
        )
    raise PartialFailure(
        f"{count} row(s) were rejected and written to {target} with their reasons; every "
        "other row was imported. Fix the rows there and import that file."
    )
