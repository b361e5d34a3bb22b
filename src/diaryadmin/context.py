"""The one context object of a CLI run: settings, a lazily made engine, output helpers."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from diaryadmin.config import Settings
from diaryadmin.i18n import _, ngettext
from diaryadmin.output import format_duration, remaining_seconds, render, render_object

if TYPE_CHECKING:  # SQLAlchemy loads on the first use of the database, not for --help
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from diaryadmin.plan import Plan

# How many problems, warnings or planned changes a person reads on stderr before a line that
# counts the rest (-v lists them all).
LINES_SHOWN = 200
_HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back until the block is done, then raised as usual.

    For clean-up that must not be cut in two: a signal while SQLAlchemy's pool closes its
    connections is caught and logged by the pool, with a traceback, before it goes on. The
    handlers are swapped, not the signal mask: another thread (the hashing pool's) could take
    a masked signal and hand it to this one anyway.
    """
    caught: list[int] = []
    try:
        previous = {s: signal.signal(s, lambda signum, _: caught.append(signum)) for s in _HELD}
    except ValueError:  # not the main thread: signals are not this thread's to take
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


@dataclass
class AppContext:
    settings: Settings
    operator: str
    fmt: str = "table"
    quiet: bool = False
    verbose: bool = False
    _engine: Engine | None = field(default=None, repr=False)
    _sessions: sessionmaker[Session] | None = field(default=None, repr=False)
    commits: int = 0  # transactions committed so far: an interruption says what stays done

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from sqlalchemy import event

            from diaryadmin import db

            self._engine = db.make_engine(self.settings.database_url, create=False)
            # Real COMMITs only (a savepoint's release is not one): what an interruption keeps.
            event.listen(self._engine, "commit", self._committed)
        return self._engine

    def sessions(self, check: bool = True) -> sessionmaker[Session]:
        """The session factory; by default only once the schema is known to be current."""
        if self._sessions is None:
            from diaryadmin import db

            if check:
                db.check_schema(self.engine, self.settings)
            self._sessions = db.make_sessionmaker(self.engine)
        return self._sessions

    def _committed(self, _connection) -> None:
        self.commits += 1

    @contextmanager
    def transaction(self, *, dry_run: bool = False) -> Iterator[Session]:
        """One transaction for the whole command; a dry run rolls it back (see plan.change)."""
        from diaryadmin.plan import change

        with change(self.sessions(), dry_run=dry_run) as session:
            yield session

    def close(self) -> None:
        if self._engine is not None:
            with signals_held():
                self._engine.dispose()

    # Output: data to stdout, everything else to stderr.
    def out(self, text: str) -> None:
        click.echo(text)

    def say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def warn(self, text: str) -> None:
        click.echo(click.style(_("warning: "), fg="yellow") + text, err=True)

    def warn_all(self, warnings: Iterable[object]) -> None:
        """Each warning on its own line, the first LINES_SHOWN of them unless -v: a district's
        import can have tens of thousands, and `--format json` reports them all on stdout."""
        warnings = list(warnings)
        shown = warnings if self.verbose else warnings[:LINES_SHOWN]
        for warning in shown:
            self.warn(str(warning))
        if len(shown) < len(warnings):
            more = len(warnings) - len(shown)
            self.warn(
                ngettext(
                    "... and {count} more warning; -v lists every one "
                    "(and --format json reports them all on stdout).",
                    "... and {count} more warnings; -v lists every one "
                    "(and --format json reports them all on stdout).",
                    more,
                ).format(count=more)
            )

    def show_plan(self, plan: Plan | None, dry_run: bool) -> None:
        """On a dry run, list by name what the command would do (on stderr, for the person;
        stdout keeps the command's result). A real run may pass no plan at all."""
        if not dry_run or plan is None:
            return
        if not plan:
            self.say(_("Dry run: nothing would change."))
            return
        count = len(plan)
        self.say(
            ngettext(
                "Dry run, nothing was changed; it would make {count} change:",
                "Dry run, nothing was changed; it would make {count} changes:",
                count,
            ).format(count=count)
        )
        for item in plan.changes[:LINES_SHOWN]:
            self.say(f"  {item}")
        if count > LINES_SHOWN:
            more = count - LINES_SHOWN
            self.say(
                "  "
                + ngettext("... and {count} more", "... and {count} more", more).format(count=more)
            )

    def table(self, rows, columns=None, fmt: str | None = None, headers=None) -> None:
        self.out(render(rows, columns, fmt or self.fmt, headers))

    def result(self, data: dict[str, Any], fmt: str | None = None, headers=None) -> None:
        self.out(render_object(data, fmt or self.fmt, headers))

    @contextmanager
    def progress(self, length: int, label: str) -> Iterator[Callable[[int], None]]:
        """A progress callback: a bar on stderr when it is a terminal, else a no-op.

        The time left is shown only once a few items are done and a few seconds have passed
        (`output.remaining_seconds`): a first estimate from one slow start is wildly off.
        """
        if self.quiet or not sys.stderr.isatty() or length <= 0:
            yield lambda _n=1: None
            return
        started = time.monotonic()
        done = 0

        def time_left(_item: object) -> str | None:
            left = remaining_seconds(done, length, time.monotonic() - started)
            return None if left is None else format_duration(left)

        with click.progressbar(
            length=length, label=label, file=sys.stderr, show_eta=False, item_show_func=time_left
        ) as bar:

            def update(n: int = 1) -> None:
                nonlocal done
                done += n
                bar.update(n)

            yield update


pass_app = click.make_pass_decorator(AppContext)
