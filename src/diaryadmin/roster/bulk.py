"""Set-based writing for the roster import: executemany through the driver, id allocation."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from diaryadmin.db import chunked

CHUNK = 500  # ids per IN (...) list: well under SQLite's parameter limit
WRITE_BATCH = 5000  # rows per executemany, so the parameter tuples never all exist at once


class Bulk:
    """executemany straight through the driver: SQLAlchemy's per-row parameter processing
    would cost more than the database itself at 100,000 rows. Values must already be in the
    driver's form (`day`, `moment` give the SQLite text forms SQLAlchemy itself writes)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.sqlite = self.connection.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def to_date(self, value: Any) -> date:
        """A date as the driver returns it (SQLite: ISO text) back into a date."""
        return date.fromisoformat(value) if isinstance(value, str) else value

    def moment(self, value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def insert(self, table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """Insert rows (tuples in `columns` order, or a generator of them) in batches."""
        marks = ", ".join([self.mark] * len(columns))
        self._run(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)

    def update(
        self, table, columns: Sequence[str], rows: Iterable[tuple], keep: Sequence[str] = ()
    ) -> None:
        """Rows are the new values in `columns` order, then the id; a None for a column in
        `keep` leaves the stored value."""
        assignments = ", ".join(
            f"{c} = COALESCE({self.mark}, {c})" if c in keep else f"{c} = {self.mark}"
            for c in columns
        )
        sql = f"UPDATE {table.name} SET {assignments} WHERE id = {self.mark}"
        self._run(sql, rows)

    def _run(self, sql: str, rows: Iterable[tuple]) -> None:
        rows = iter(rows)
        while batch := list(itertools.islice(rows, WRITE_BATCH)):
            self.connection.exec_driver_sql(sql, batch)


def allocate_ids(session: Session, table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`: from its sequence on PostgreSQL; on SQLite
    after the largest id (safe: the import's transaction holds SQLite's write lock)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        query = text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
        )
        return sorted(session.scalars(query, {"table": table.name, "n": count}))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    return chunked(ids, size)
