"""One run of the suite: its folder, its databases, the steps measured so far, the rows.

A case is a function `case(run: Run, backend: str) -> Row` registered in `CASES`. It prepares
data with untimed steps, measures its own step and its reference in the same run, and returns
one row of the table. Steps measured once (the first 100,000-row import) are shared between
cases through `Run.once`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.harness import Measured, run_step

SECRET = "benchmark-secret-key-0123456789"
PG_ENV = "DIARYADMIN_TEST_DATABASE_URL"


@dataclass
class Row:
    """One line of the table."""

    case: str
    backend: str
    size: str
    wall: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    reference: str = "—"
    ref_wall: float | None = None
    ratio: float | None = None
    target: str = ""
    verdict: str = ""
    notes: list[str] = field(default_factory=list)
    ref_cpu: float | None = None

    @property
    def cpu_ratio(self) -> float | None:
        """CPU against the reference's CPU: steadier than wall on a loaded machine."""
        return self.cpu / self.ref_cpu if self.cpu is not None and self.ref_cpu else None

    def to_dict(self) -> dict:
        return {**asdict(self), "cpu_ratio": self.cpu_ratio}


@contextmanager
def opened(url: str) -> Iterator[tuple]:
    """(settings, sessionmaker) for a step on `url`; the engine is disposed afterwards."""
    from diaryadmin import db
    from diaryadmin.config import Settings

    engine = db.make_engine(url)
    try:
        yield Settings(database_url=url, secret_key=SECRET), db.make_sessionmaker(engine)
    finally:
        engine.dispose()


def judge(*checks: tuple[str, bool]) -> str:
    """'ok', or 'MISSED' followed by the names of the checks that failed."""
    missed = [name for name, ok in checks if not ok]
    return "ok" if not missed else "MISSED " + ", ".join(missed)


class Run:
    """The folder, the databases and the memo of one harness run."""

    def __init__(self, quick: bool, folder: Path | None = None, only_db: str | None = None) -> None:
        self.quick = quick
        self.only_db = only_db
        self.keep = folder is not None
        self.folder = folder or Path(tempfile.mkdtemp(prefix="diaryadmin-bench-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pg_url = os.environ.get(PG_ENV, "").strip() or None
        self._memo: dict[tuple, tuple[Measured, str | None]] = {}
        self._pg_databases: list[str] = []

    @property
    def backends(self) -> list[str]:
        """The databases a per-database case runs on (district always needs both)."""
        backends = ["sqlite", "postgresql"] if self.pg_url else ["sqlite"]
        return [b for b in backends if self.only_db in (None, b)]

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def step(self, step: str, **params) -> Measured:
        return run_step(step, **params)

    def once(self, key: tuple, make: Callable[[], tuple[Measured, str | None]]):
        """`make()` the first time `key` is asked for, the remembered result afterwards."""
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def database(self, backend: str, name: str) -> str:
        """A new, empty database with the current schema; its URL."""
        from diaryadmin import db

        if backend == "sqlite":
            path = self.folder / f"{name}.sqlite3"
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            url = f"sqlite:///{path}"
        else:
            url = self._pg_create(f"bench_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}")
        engine = db.make_engine(url)
        try:
            db.upgrade(engine)
        finally:
            engine.dispose()
        return url

    def _pg_admin(self):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        url = make_url(self.pg_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return create_engine(url, isolation_level="AUTOCOMMIT"), url

    def _pg_create(self, name: str) -> str:
        from sqlalchemy import text

        admin, url = self._pg_admin()
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        self._pg_databases.append(name)
        return url.set(database=name).render_as_string(hide_password=False)

    def close(self) -> None:
        """Drop the PostgreSQL databases made; remove the folder unless it was asked for."""
        if self._pg_databases:
            from sqlalchemy import text

            admin, _ = self._pg_admin()
            try:
                with admin.connect() as conn:
                    for name in self._pg_databases:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            finally:
                admin.dispose()
            self._pg_databases.clear()
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


COLUMNS = ["case", "db", "size", "wall s", "CPU s", "peak MB", "reference", "ref s",
           "ref CPU s", "ratio", "CPU ratio", "target", "verdict"]  # fmt: skip


def table_rows(rows: list[Row]) -> list[list[str]]:
    return [
        [
            r.case,
            r.backend,
            r.size,
            _number(r.wall),
            _number(r.cpu),
            _number(r.peak_mb, 0),
            r.reference,
            _number(r.ref_wall),
            _number(r.ref_cpu),
            _number(r.ratio),
            _number(r.cpu_ratio),
            r.target,
            r.verdict,
        ]
        for r in rows
    ]


def markdown_table(rows: list[Row]) -> str:
    """The table as Markdown (the README shows it), notes below it."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows)]
    notes = [f"- {r.case} ({r.backend}): {note}" for r in rows for note in r.notes]
    return "\n".join(lines + ([""] + notes if notes else []))
