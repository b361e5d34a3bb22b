"""Which class journals an export means, and the export itself: the core behind
`diaryadmin journal export`, for the CLI, cron and the diary portal alike.

The rules: name classes or ask for all of the school year's; the dates come from a period or
a from/to range (see periods.resolve_range); one class goes to a workbook, several (or --all,
or an existing folder) to a folder, one workbook each; several classes are exported in worker
processes, one per core, once there are enough to pay for starting them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from diaryadmin.config import Settings
from diaryadmin.errors import Refused
from diaryadmin.i18n import _
from diaryadmin.journal import periods
from diaryadmin.journal.data import classes_of_year, find_class
from diaryadmin.journal.export import export_journals
from diaryadmin.schools import resolve_school

WORKERS_FROM = 4  # classes; below this one process is faster than starting a pool


def automatic_jobs(classes: int) -> int:
    """One worker per core, once there are enough classes to pay for starting them."""
    return (os.cpu_count() or 1) if classes >= WORKERS_FROM else 1


def export_class_journals(
    session: Session,
    settings: Settings,
    out: Path,
    *,
    operator: str,
    class_names: Iterable[str] = (),
    all_classes: bool = False,
    period: str | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    year: int | None = None,
    school_code: str | None = None,
    overwrite: bool = False,
    jobs: int = 0,
    progress: Callable[[int, str], Any] | None = None,
    say: Callable[[str], None] = lambda _text: None,
) -> dict[str, Any]:
    """Export the journals of the named classes (or all of the school year's) for a period or
    a date range to `out`; returns export_journals' report (files, counts, period).

    `jobs` 0 picks automatic_jobs. `progress(total, label)` is a context manager yielding an
    update callback (as AppContext.progress); `say` hears what was done with the files an
    interrupted export left. Raises Refused for several classes into one
    .xlsx, NotFound for an unknown class, and what periods.resolve_range raises.
    """
    class_names = list(class_names)
    if bool(class_names) == bool(all_classes):
        raise Refused(_("Name classes with --class, or use --all."))
    school = resolve_school(session, school_code, settings)
    dates = periods.resolve_range(session, school, period, from_date, to_date, year)
    school_year = year or dates.school_year
    if all_classes:
        classes = classes_of_year(session, school, school_year)
    else:
        classes = [find_class(session, school, name, school_year) for name in class_names]
    folder = all_classes or len(classes) > 1 or out.is_dir()
    if folder and out.suffix.lower() == ".xlsx":
        raise Refused(
            _("Several classes go into a folder, one workbook each: give --out a folder.")
        )
    arguments = dict(
        folder=folder,
        operator=operator,
        overwrite=overwrite,
        jobs=jobs or automatic_jobs(len(classes)),
        say=say,
    )
    if progress is None:
        return export_journals(session, school, classes, dates, out, **arguments)
    with progress(len(classes), _("Exporting journals")) as update:
        return export_journals(session, school, classes, dates, out, progress=update, **arguments)
