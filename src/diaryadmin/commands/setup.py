"""diaryadmin init, diaryadmin db upgrade|status."""

from __future__ import annotations

from pathlib import Path

import click

from diaryadmin.context import AppContext, pass_app
from diaryadmin.i18n import _


@click.command("init")
@click.option(
    "--path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Where to write the settings file.",
)
@click.option("--database-url", "url", metavar="URL", help="Database to write into the file.")
@click.option("--force", is_flag=True, help="Replace an existing file (and its secret key).")
@pass_app
def init_command(app: AppContext, path: Path, url: str | None, force: bool) -> None:
    """Write a fresh .env with a random secret key (mode 0600).

    The key protects birth-certificate, passport and SNILS fingerprints: keep the file,
    back it up with the database, and never change the key of a database in use.

    \b
    Example:
      diaryadmin init && diaryadmin db upgrade
    """
    from diaryadmin.workspace import write_env_file

    written = write_env_file(path, url, force)
    app.say(
        _("Wrote {path} with a new secret key. Next: diaryadmin db upgrade").format(path=written)
    )


@click.group("db")
def db_group() -> None:
    """Create, upgrade and check the database schema."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@pass_app
def upgrade_command(app: AppContext, revision: str) -> None:
    """Create the schema in an empty database, or upgrade it to this version.

    \b
    Example:
      diaryadmin db upgrade
      diaryadmin --database-url postgresql+psycopg://u:p@host/diary db upgrade
    """
    from diaryadmin import db

    before, after = db.upgrade(app.engine, revision, app.settings.secret_key)
    where = db.hide_password(app.settings.database_url)
    if before == after:
        app.say(
            _("{database} is already at schema {revision}.").format(database=where, revision=after)
        )
    elif before is None:
        app.say(_("{database}: schema (empty) -> {after}.").format(database=where, after=after))
    else:
        app.say(
            _("{database}: schema {before} -> {after}.").format(
                database=where, before=before, after=after
            )
        )


@db_group.command("status")
@pass_app
def status_command(app: AppContext) -> None:
    """Show the database, its schema revision and whether it is current.

    \b
    Example:
      diaryadmin db status
    """
    from diaryadmin import db

    current = db.current_revision(app.engine)
    head = db.head_revision(app.engine)
    app.result(
        {
            "database": db.hide_password(app.settings.database_url),
            "revision": current,
            "head": head,
            "current": current == head,
        }
    )
