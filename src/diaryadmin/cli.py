"""The root command: global options, .env loading, error → exit code, registration."""

from __future__ import annotations

import errno
import getpass
import importlib
import importlib.util
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

import click

from diaryadmin import __version__, i18n
from diaryadmin.commands import COMMANDS
from diaryadmin.config import PREFIX, Settings
from diaryadmin.context import LINES_SHOWN, AppContext
from diaryadmin.errors import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    DatabaseFailed,
    DiaryAdminError,
    InputError,
    Terminated,
    database_failure,
    disk_full,
    internal_error,
)
from diaryadmin.i18n import _, ngettext
from diaryadmin.output import FORMATS, render_object

MAX_PROBLEMS_SHOWN = LINES_SHOWN

EPILOG = """\b
Exit codes: 0 success; 1 input or data refused (nothing changed); 2 usage error;
3 partly done (failures reported, the rest committed); 4 configuration or database
unavailable; 5 internal error (rerun with -v); 6 disk full; 130 interrupted; 143 terminated.
"""

# The running command's context, for errors that surface after click has left it (main()).
_current: AppContext | None = None


def env_file_of(path: Path | None) -> tuple[Path, Path | None]:
    """The `.env` a run reads (the given one, $DIARYADMIN_ENV_FILE, or ./.env), and the one
    named explicitly, if any (its absence is an error; ./.env's is not)."""
    env_named = os.environ.get(PREFIX + "ENV_FILE")
    explicit = path or (Path(env_named) if env_named else None)
    return explicit or Path(".env"), explicit


def load_env_file(path: Path | None) -> Path | None:
    """Load `.env` (see env_file_of) without overriding the environment; returns the folder
    that relative SQLite paths in it resolve against."""
    from dotenv import dotenv_values

    candidate, explicit = env_file_of(path)
    if not candidate.is_file():
        if explicit is not None:
            raise click.BadParameter(
                _("no such file: {path}").format(path=explicit), param_hint="--env-file"
            )
        return None
    from_file = PREFIX + "DATABASE_URL" not in os.environ
    for key, value in dotenv_values(candidate).items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return candidate.resolve().parent if from_file else None


def _language_setting(args: list[str]) -> str | None:
    """DIARYADMIN_LANG from the environment, else from the .env file this run will read."""
    if os.environ.get(PREFIX + "LANG"):
        return os.environ[PREFIX + "LANG"]
    given = None  # --env-file is parsed later by click; the language is needed before that
    for index, arg in enumerate(args):
        if arg == "--env-file" and index + 1 < len(args):
            given = Path(args[index + 1])
        elif arg.startswith("--env-file="):
            given = Path(arg.split("=", 1)[1])
    path, _explicit = env_file_of(given)
    try:
        if not path.is_file():
            return None
        from dotenv import dotenv_values

        return dotenv_values(path).get(PREFIX + "LANG")
    except (OSError, UnicodeDecodeError):
        return None


def _available(name: str) -> bool:
    return importlib.util.find_spec(COMMANDS[name].split(":")[0]) is not None


class DiaryAdminGroup(click.Group):
    """Subcommands load on first use (fast --help and cron runs); DiaryAdminError → exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *(n for n in COMMANDS if _available(n))])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in COMMANDS and _available(name):
            module_name, attribute = COMMANDS[name].split(":")
            module = importlib.import_module(module_name)
            command = getattr(module, attribute)
        else:
            command = super().get_command(ctx, name)
        if command is not None:
            i18n.localise_command(command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # The language is chosen before anything is shown, --help and click's own errors included.
        i18n.activate(_language_setting(args))
        i18n.localise_click()
        i18n.localise_command(self)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DiaryAdminError as exc:
            report_error(exc, ctx.find_object(AppContext))
            ctx.exit(exc.exit_code)
        except (KeyboardInterrupt, Terminated) as exc:
            ctx.exit(report_interruption(exc, ctx.find_object(AppContext)))
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            ctx.exit(report_error(exc, ctx.find_object(AppContext)))


def _is_database_error(exc: BaseException) -> bool:
    """A SQLAlchemy DBAPIError, without importing SQLAlchemy (--help never loads it)."""
    sqlalchemy_exc = sys.modules.get("sqlalchemy.exc")
    return sqlalchemy_exc is not None and isinstance(exc, sqlalchemy_exc.DBAPIError)


def report_interruption(exc: BaseException, app: AppContext | None) -> int:
    """Ctrl-C or SIGTERM: one line, what stays committed, no traceback."""
    done = app.commits if app else 0
    text = (
        _("interrupted, nothing changed")
        if not done
        else ngettext(
            "interrupted; {count} step committed before it stays done "
            "(see 'diaryadmin audit list'), the unfinished one was rolled back",
            "interrupted; {count} steps committed before it stay done "
            "(see 'diaryadmin audit list'), the unfinished one was rolled back",
            done,
        ).format(count=done)
    )
    click.echo(error_prefix() + text, err=True)
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED


def error_prefix() -> str:
    """`error: ` in red, in the language of the run."""
    return click.style(_("error: "), fg="red")


def as_error(exc: BaseException) -> DiaryAdminError:
    """Any exception as the DiaryAdminError a person is told about."""
    if isinstance(exc, DiaryAdminError):
        return exc
    if _is_database_error(exc):
        return database_failure(exc)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return disk_full(exc)
    return internal_error(exc)


def report_error(exc: BaseException, app: AppContext | None) -> int:
    """The one place an error becomes a message on stderr; returns the exit code.

    A database error is one sentence (with -v: the statement's shape, never its parameters
    or row values); an unexpected exception is an internal error (with -v: the traceback).
    """
    error = as_error(exc)
    verbose = bool(app and app.verbose)
    fmt = app.fmt if app else "table"
    if error.result is not None and fmt in ("json", "csv"):
        click.echo(render_object(error.result, fmt))
    click.echo(error_prefix() + str(error), err=True)
    if isinstance(error, InputError):
        exc = error
        shown = exc.problems if verbose else exc.problems[:MAX_PROBLEMS_SHOWN]
        for problem in shown:
            click.echo(f"  {problem}", err=True)
        if len(shown) < len(exc.problems):
            more = len(exc.problems) - len(shown)
            text = ngettext(
                "... and {count} more problem; -v lists every one "
                "(and --format json reports them all on stdout).",
                "... and {count} more problems; -v lists every one "
                "(and --format json reports them all on stdout).",
                more,
            )
            click.echo("  " + text.format(count=more), err=True)
    if verbose and isinstance(error, DatabaseFailed):
        _database_details(exc)
    elif verbose:
        traceback.print_exception(exc, file=sys.stderr)
    return error.exit_code


def _database_details(exc: BaseException) -> None:
    """The driver's error class and SQLSTATE, the statement without its parameters, and where
    in diaryadmin it ran; the driver's message is left out (it may quote row values)."""
    original = getattr(exc, "orig", None)
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    kind = original.__class__.__name__ + (f" [{state}]" if state else "")
    click.echo("  " + _("driver error: {kind}").format(kind=kind), err=True)
    statement = " ".join(str(getattr(exc, "statement", "") or "").split())
    if statement:
        click.echo("  " + _("statement: {sql}").format(sql=statement[:300]), err=True)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "diaryadmin" in f.filename]
    for frame in frames[-3:]:
        where = _("at {file}:{line} in {function}")
        click.echo(
            "  " + where.format(file=frame.filename, line=frame.lineno, function=frame.name),
            err=True,
        )


@click.group(
    cls=DiaryAdminGroup, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    is_eager=True,
    help="Settings file to read (default: ./.env, or $DIARYADMIN_ENV_FILE).",
)
@click.option("--database-url", metavar="URL", help="Database (default: $DIARYADMIN_DATABASE_URL).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format for data on stdout.",
)
@click.option(
    "--operator", metavar="NAME", help="Who acts, for the audit trail (default: OS user)."
)
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="More detail, tracebacks on errors.")
@click.version_option(__version__, prog_name="diaryadmin")
@click.pass_context
def cli(ctx, env_file, database_url, fmt, operator, quiet, verbose):
    """Run the accounts behind an electronic school diary.

    Import class rosters, issue parent logins with printable slips, verify applications
    for access, help parents who cannot log in, and export class journals.

    \b
    Example (a first run):
      diaryadmin init                 # writes .env with a fresh secret key
      diaryadmin db upgrade           # creates the database
      diaryadmin roster import 5A.xlsx
      diaryadmin credentials issue --all --out slips.html
    """
    base_dir = load_env_file(env_file)
    settings = Settings.from_env(base_dir=base_dir)
    if database_url:
        settings = settings.with_overrides(database_url=database_url)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.ERROR if quiet else (logging.INFO if verbose else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    app = AppContext(
        settings=settings,
        operator=operator or _os_user(),
        fmt=fmt,
        quiet=quiet,
        verbose=verbose,
    )
    ctx.obj = app
    global _current
    _current = app
    ctx.call_on_close(app.close)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a bare container or cron
        return "unknown"


def _terminate(_signum, _frame) -> None:
    raise Terminated()


def _run_cli(args: list[str] | None) -> int:
    """`cli` as click's standalone mode runs it, except Ctrl-C: click would print "Aborted!"
    and exit 1 for one that comes while it parses the command line or closes the context;
    here it reaches main(), which says what it interrupted and exits 130 wherever it came."""
    try:
        code = cli.main(args=args, prog_name="diaryadmin", standalone_mode=False)
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise exc.__cause__ from None
        click.echo(i18n.click_gettext("Aborted!"), err=True)  # a prompt refused, end of input
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # stdout closed by a pager or `head`: what is still buffered goes nowhere (the
        # recipe of Python's documentation for SIGPIPE), not into a traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    # click returns the code given to ctx.exit(), or the command's own return value
    return code if isinstance(code, int) and not isinstance(code, bool) else 0


def main(args: list[str] | None = None) -> None:
    """The `diaryadmin` program: SIGTERM rolls back like Ctrl-C; any error left over after the
    command (an unexpected exception, a full disk) is reported here, in report_error."""
    try:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a signal pending from the
        signal.signal(signal.SIGTERM, _terminate)  # load is raised here, inside the try
        sys.exit(_run_cli(args))
    except (KeyboardInterrupt, Terminated) as exc:  # before or after a command's own handling
        sys.exit(report_interruption(exc, _current))
    except Exception as exc:
        app = _current
        if app is None and ("-v" in sys.argv or "--verbose" in sys.argv):
            traceback.print_exception(exc, file=sys.stderr)
        sys.exit(report_error(exc, app))
