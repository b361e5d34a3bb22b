"""diaryadmin check."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.commands.options import format_option
from diaryadmin.config import PREFIX
from diaryadmin.context import AppContext, pass_app
from diaryadmin.errors import EXIT_UNAVAILABLE
from diaryadmin.i18n import _, pgettext


def _env_file(ctx: click.Context) -> Path | None:
    """The `.env` this run read: --env-file, $DIARYADMIN_ENV_FILE, or ./.env."""
    import os

    named = ctx.find_root().params.get("env_file") or os.environ.get(PREFIX + "ENV_FILE")
    path = Path(named) if named else Path(".env")
    return path.resolve() if path.is_file() else None


@click.command("check")
@format_option
@pass_app
@click.pass_context
def check_command(ctx: click.Context, app: AppContext) -> None:
    """Tell whether this installation is ready: settings, key, database, e-mail, templates.

    One row per check (ok, warning, error or skipped); exit 0 without errors, 4 with any.
    Nothing is changed and no mail is sent.

    \b
    Example:
      diaryadmin check
      diaryadmin --env-file /srv/school/.env check --format json   # for monitoring
    """
    from diaryadmin.readiness import COLUMNS, ERROR, WARNING, check_installation

    checks = check_installation(app.settings, env_file=_env_file(ctx))
    headers = {"name": pgettext("check", "name")}  # the check's name, not a person's
    app.table([c.to_dict() for c in checks], list(COLUMNS), headers=headers)
    errors = [c.name for c in checks if c.status == ERROR]
    warnings = [c.name for c in checks if c.status == WARNING]
    if errors:
        app.say(_("Not ready: {checks}.").format(checks=", ".join(errors)))
        ctx.exit(EXIT_UNAVAILABLE)
    if warnings:
        app.say(_("Ready, with warnings: {checks}.").format(checks=", ".join(warnings)))
    else:
        app.say(_("Ready."))
