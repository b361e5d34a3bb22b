"""diaryadmin audit list."""

from __future__ import annotations

import click

from diaryadmin.commands.options import DATE, format_option
from diaryadmin.context import AppContext, pass_app
from diaryadmin.output import shorten


@click.group("audit")
def audit_group() -> None:
    """The audit trail: who changed what, when."""


@audit_group.command("list")
@click.option("--since", type=DATE, help="Only events from this date on.")
@click.option("--action", help="Only this action (or actions starting with it, e.g. roster.).")
@click.option("--operator", "who", metavar="NAME", help="Only events by this operator.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events.")
@format_option
@pass_app
def list_command(app: AppContext, since, action, who, limit) -> None:
    """List audit events, oldest first.

    \b
    Example:
      diaryadmin audit list --since 01.09.2026 --action credentials.
    """
    from diaryadmin import audit

    with app.transaction() as session:
        rows = audit.list_events(session, since=since, action=action, operator=who, limit=limit)
    if app.fmt == "table":
        rows = [{**row, "details": shorten(row["details"])} for row in rows]
    app.table(rows, ["id", "at", "operator", "action", "target", "details"])
