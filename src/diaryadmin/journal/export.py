"""Exporting class journals: each class's workbook (`journal.workbook`) written to its file,
a whole school class by class, on several cores in worker processes.

The files are staged (`diaryadmin.staging`): each is written completely to a hidden pending
name beside its target, its token goes into the audit trail with the export, and it is renamed
into place once the caller's transaction commits; a rollback removes it. So a file at the target
is always a complete workbook whose export is in the audit trail, and what a killed export
left is dealt with by the next export to the same target, which says so. While an export
writes into a folder it holds a lock on it (flock, released by the system however the process
ends): a second export into the same folder refuses instead of mixing its files in.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from diaryadmin import audit, launch
from diaryadmin.errors import Refused, quoted
from diaryadmin.i18n import _, ngettext
from diaryadmin.io import atomic_output
from diaryadmin.journal.data import ClassJournal, load_class_journal
from diaryadmin.journal.periods import DateRange
from diaryadmin.journal.workbook import write_class_workbook
from diaryadmin.models import School, SchoolClass
from diaryadmin.staging import Staging, pause, recover


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
    say: Callable[[str], None] = lambda _text: None,
) -> dict[str, Any]:
    """Export the journals of `classes` for `dates`: into the file `out`, or with `folder`,
    one `<class>.xlsx` per class into the folder `out` (created if missing).

    Classes are loaded and written one at a time, so memory does not grow with their number;
    with `jobs` > 1, that many worker processes (each with its own database connection) take
    the classes in turn. The files appear when the session's transaction commits (see above);
    `say` hears what was done with files an interrupted export left. Raises Refused if a file
    exists and `overwrite` is false, or another export is writing into the same folder.
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
        if not out.parent.is_dir():
            raise Refused(
                _("{path}: the folder {folder} does not exist").format(
                    path=out, folder=quoted(out.parent)
                )
            )
        if out.exists() and not overwrite:
            raise Refused(_("{path}: already exists; use --force to overwrite it").format(path=out))
    staging = _Staged(session, operator, overwrite, targets[0].parent)
    for target in targets:
        recover(lambda: contextlib.nullcontext(session), target, say)
    url = _worker_url(session) if jobs > 1 and len(classes) > 1 else None
    if url is not None:
        written = _export_in_workers(
            session, url, classes, targets, dates, staging, min(jobs, len(classes)), progress
        )
    else:
        written = []
        for school_class, target in zip(classes, targets, strict=True):
            written.append(_export_here(session, school_class, dates, staging.add(target)))
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
    staging.record(written)
    pause("before-commit")
    return {
        "period": dates.label,
        "files": written,
        "classes": len(written),
        "lessons": sum(w["lessons"] for w in written),
        "marks": sum(w["marks"] for w in written),
        "absences": sum(w["absences"] for w in written),
    }


def _write_file(journal: ClassJournal, target: Path) -> dict[str, Any]:
    # Built in memory first: a kill while it is built leaves no file at all.
    import io

    buffer = io.BytesIO()
    counts = write_class_workbook(journal, buffer)
    with atomic_output(target) as stream:
        stream.write(buffer.getbuffer())
    counts["file"] = str(target)
    return counts


def _export_here(
    session: Session, school_class: SchoolClass, dates: DateRange, temp: Path
) -> dict[str, Any]:
    """One class in this process: loaded, written to its pending file, and let go."""
    with _collector_paused():
        return _write_file(load_class_journal(session, school_class, dates), temp)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a class is loaded and written: a class makes some
    hundred thousand tuples, dicts and cells, every one of them counted towards a collection
    that walks everything alive (SQLAlchemy and the models included) and frees nothing (they
    have no cycles; reference counting frees them). That was a third of the CPU of loading
    and a tenth of writing. Collections resume afterwards, for what xlsxwriter leaves in
    cycles."""
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder`, or refuse at once if another export holds it. The
    system releases it when the process ends, even by SIGKILL: there is no stale lock to clear
    and no lock file to leave behind."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused(
                _(
                    "Another export is writing into {folder}; try again when it has finished."
                ).format(folder=folder)
            ) from None
        except OSError:  # a file system without locks: export as before, unguarded
            pass
        yield
    finally:
        os.close(fd)


class _Staged:
    """The export's staged files (`staging.Staging`): published when the session's transaction
    commits, removed when it rolls back, the folder locked until then. The export runs in its
    caller's transaction, so the session's own events say when that is."""

    def __init__(self, session: Session, operator: str, overwrite: bool, folder: Path) -> None:
        self.session, self.overwrite = session, overwrite
        self.staging = Staging(operator)
        self.lock = contextlib.ExitStack()
        self.lock.enter_context(_folder_lock(folder))
        event.listen(session, "after_commit", self._committed, once=True)
        event.listen(session, "after_rollback", self._rolled_back, once=True)

    def add(self, target: Path) -> Path:
        """The pending file to write `target` to; removed again if the export fails."""
        return self.staging.reserve(target, overwrite=self.overwrite).temp

    def record(self, written: list[dict[str, Any]]) -> None:
        """Put the written files' tokens into the audit trail; the report names the targets,
        not the pending files."""
        for counts, staged in zip(written, self.staging.files, strict=True):
            self.staging.record(self.session, staged)
            counts["file"] = str(staged.target)

    def _committed(self, _session: Session) -> None:
        try:
            self.staging.publish()
        finally:
            self.lock.close()

    def _rolled_back(self, _session: Session) -> None:
        self.staging.discard()  # nothing left to discard once published
        self.lock.close()


def _worker_url(session: Session) -> str | None:
    """The database URL workers can open, or None (an in-memory SQLite database)."""
    url = session.get_bind().url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    return url.render_as_string(hide_password=False)


def _export_in_workers(session, url, classes, targets, dates, staging, jobs, progress):
    """`jobs - 1` worker processes take classes from the front of the list while this process
    exports from the back: one process fewer to start (each imports SQLAlchemy, the models and
    xlsxwriter again, over a second of CPU), and the first classes are written while the
    workers start. Each worker has two classes waiting, so it never idles while this process
    is busy with one."""
    import multiprocessing
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: a forked child would share the parent's database connections.
    context = multiprocessing.get_context("spawn")
    written: list[dict[str, Any]] = [{} for _ in classes]
    todo = deque(enumerate(zip(classes, map(staging.add, targets), strict=True)))
    running: dict[Any, int] = {}
    pool = ProcessPoolExecutor(
        jobs - 1, mp_context=context, initializer=launch.start_worker, initargs=(os.getpid(),)
    )
    with pool:

        def feed() -> None:
            while todo and len(running) < 2 * (jobs - 1):
                k, (school_class, target) = todo.popleft()
                future = pool.submit(_export_class, url, school_class.id, dates, str(target))
                running[future] = k

        try:
            feed()
            while todo or running:
                if todo:
                    k, (school_class, target) = todo.pop()
                    written[k] = _export_here(session, school_class, dates, target)
                    progress(1)
                else:
                    wait(running, return_when=FIRST_COMPLETED)
                for future in [f for f in running if f.done()]:
                    written[running.pop(future)] = future.result()
                    progress(1)
                feed()
        except BaseException:
            # Interrupted or failed: the classes not started are not started; the files of
            # the running ones are removed with the others when the transaction rolls back.
            pool.shutdown(cancel_futures=True)
            raise
    return written


_worker_engines: dict[str, Any] = {}


def _export_class(url: str, class_id: int, dates: DateRange, temp: str) -> dict[str, Any]:
    """One class, in a worker process with its own read-only connection, to its pending file."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from diaryadmin import db

    engine = _worker_engines.get(url)
    if engine is None:
        # SQLite: plain reads without BEGIN IMMEDIATE, which would wait for the parent's lock.
        sqlite = make_url(url).get_backend_name() == "sqlite"
        engine = _worker_engines[url] = create_engine(url) if sqlite else db.make_engine(url)
    with _collector_paused():
        with Session(engine) as session:  # not held open while the workbook is written
            journal = load_class_journal(session, session.get(SchoolClass, class_id), dates)
        return _write_file(journal, Path(temp))
