"""Exporting class journals: each class's workbook (`journal.workbook`) written to its file,
a whole school class by class, on several cores in worker processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from diaryadmin import audit
from diaryadmin.errors import Refused
from diaryadmin.i18n import _, ngettext
from diaryadmin.io import atomic_output
from diaryadmin.journal.data import ClassJournal, load_class_journal
from diaryadmin.journal.periods import DateRange
from diaryadmin.journal.workbook import write_class_workbook
from diaryadmin.models import School, SchoolClass


def export_journals(
    session: Session,
    school: School,
    classes: list[SchoolClass],
    dates: DateRange,
    out: Path,
    *,
    folder: bool,
    operator: str,
    overwrite: bool = False,
    progress: Callable[[int], None] = lambda _n: None,
    jobs: int = 1,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Export the journals of `classes` for `dates`: into the file `out`, or with `folder`,
    one `<class>.xlsx` per class into the folder `out` (created if missing).

    Classes are loaded and written one at a time, so memory does not grow with their number;
    with `jobs` > 1, that many worker processes (each with its own database connection) take
    the classes in turn. Files appear atomically. Raises Refused if a file exists and
    `overwrite` is false.
    """
    if not classes:
        raise Refused(_("There are no classes to export."))
    if folder:
        if out.exists() and not out.is_dir():
            raise Refused(
                _("{file} is a file; --all writes a folder with one workbook per class.").format(
                    file=out
                )
            )
        out.mkdir(parents=True, exist_ok=True)
        targets = [out / f"{c.name}.xlsx" for c in classes]
        if not overwrite:
            existing = [str(t) for t in targets if t.exists()]
            if existing:
                raise Refused(
                    ngettext(
                        "{count} file already exists, e.g. {file}; use --force to overwrite it.",
                        "{count} files already exist, e.g. {file}; use --force to overwrite them.",
                        len(existing),
                    ).format(count=len(existing), file=existing[0])
                )
    else:
        if len(classes) != 1:
            raise Refused(_("Several classes go into a folder: give --out a folder name."))
        targets = [out]
    url = _worker_url(session) if jobs > 1 and len(classes) > 1 else None
    if url is not None:
        written = _export_in_workers(url, classes, targets, dates, overwrite, jobs, progress)
    else:
        written = []
        for school_class, target in zip(classes, targets, strict=True):
            journal = load_class_journal(session, school_class, dates)
            written.append(_write_file(journal, target, overwrite))
            del journal
            progress(1)
    audit.record(
        session,
        operator,
        "journal.export",
        f"school:{school.code}",
        {
            "classes": [c.name for c in classes],
            "from": dates.starts_on.isoformat(),
            "to": dates.ends_on.isoformat(),
            "period": dates.name,
            "files": len(written),
        },
        now=now,
    )
    return {
        "period": dates.label,
        "files": written,
        "classes": len(written),
        "lessons": sum(w["lessons"] for w in written),
        "marks": sum(w["marks"] for w in written),
        "absences": sum(w["absences"] for w in written),
    }


def _write_file(journal: ClassJournal, target: Path, overwrite: bool) -> dict[str, Any]:
    with atomic_output(target, overwrite=overwrite) as stream:
        counts = write_class_workbook(journal, stream)
    counts["file"] = str(target)
    return counts


def _worker_url(session: Session) -> str | None:
    """The database URL workers can open, or None (an in-memory SQLite database)."""
    url = session.get_bind().url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _export_in_workers(url, classes, targets, dates, overwrite, jobs, progress) -> list[dict]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: a forked child would share the parent's database connections.
    context = multiprocessing.get_context("spawn")
    written: list[dict[str, Any]] = [{} for _ in classes]
    with ProcessPoolExecutor(min(jobs, len(classes)), mp_context=context) as pool:
        futures = {
            pool.submit(_export_class, url, c.id, dates, str(t), overwrite): k
            for k, (c, t) in enumerate(zip(classes, targets, strict=True))
        }
        for future in as_completed(futures):
            written[futures[future]] = future.result()
            progress(1)
    return written


_worker_engines: dict[str, Any] = {}


def _export_class(
    url: str, class_id: int, dates: DateRange, target: str, overwrite: bool
) -> dict[str, Any]:
    """One class, in a worker process with its own read-only connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from diaryadmin import db

    engine = _worker_engines.get(url)
    if engine is None:
        # SQLite: plain reads without BEGIN IMMEDIATE, which would wait for the parent's lock.
        sqlite = make_url(url).get_backend_name() == "sqlite"
        engine = _worker_engines[url] = create_engine(url) if sqlite else db.make_engine(url)
    with Session(engine) as session:
        journal = load_class_journal(session, session.get(SchoolClass, class_id), dates)
    return _write_file(journal, Path(target), overwrite)
