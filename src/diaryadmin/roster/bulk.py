"""Set-based reading and writing for the roster import: Core statements, the driver's speed.

Every statement is built with SQLAlchemy Core from the models' tables (so a renamed or added
column breaks it in a test, not in an office), compiled once per import, and run through the
driver's executemany with plain tuples: SQLAlchemy's per-row parameter processing would cost
more than the database itself at 100,000 rows. On PostgreSQL inserts are a COPY of the same
tuples, and the tables the import has grown are ANALYZEd as it goes (`refresh_statistics`).
Values must already be in the driver's form (`day`, `moment` give the SQLite text forms
SQLAlchemy itself writes).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

WRITE_BATCH = 5000  # rows per executemany, so the parameter tuples never all exist at once
# PostgreSQL plans the lookups from its statistics, which autovacuum cannot refresh while the
# import's own transaction is still writing: a table that started empty stays "empty" to the
# planner, whose sequential scans then grow with every chunk. ANALYZE (it counts the
# transaction's own rows) once a table has grown by this fraction since its statistics.
STATISTICS_GROWTH = 1.0
STATISTICS_MIN_ROWS = 1000
IN_BATCH = 4096  # values per IN (...) when loading what a chunk needs (a power of two)


class Bulk:
    """Compiled Core statements for one import's connection (see the module docstring)."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        dialect = self.connection.dialect
        self.sqlite = dialect.name == "sqlite"
        # Positional parameters, so rows stay plain tuples (psycopg takes %s as well).
        self._dialect = dialect if dialect.positional else type(dialect)(paramstyle="format")
        self._compiled: dict[Any, tuple[str, tuple[str, ...]]] = {}
        self._sized: dict[tuple[str, int], str] = {}  # IN statements by list length
        # PostgreSQL: per table written, (rows in its statistics, rows inserted since).
        self._grown: dict[str, list[float]] = {}

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def to_date(self, value: Any) -> date:
        """A date as the driver returns it (SQLite: ISO text) back into a date."""
        return date.fromisoformat(value) if isinstance(value, str) else value

    def moment(self, value: datetime) -> Any:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def _compile(self, key: Any, build: Callable[[], Any]) -> tuple[str, tuple[str, ...]]:
        found = self._compiled.get(key)
        if found is None:
            compiled = build().compile(dialect=self._dialect)
            found = self._compiled[key] = (compiled.string, tuple(compiled.positiontup or ()))
        return found

    def _writing(
        self, key: Any, build: Callable[[], Any], names: Sequence[str], rows: Iterable[tuple]
    ) -> tuple[str, Iterable[tuple]]:
        """The statement's SQL, and the rows in the order of its parameters (SQLAlchemy
        orders SET clauses by the table's columns)."""
        sql, order = self._compile(key, build)
        names = tuple(names)
        if order == names:
            return sql, rows
        if sorted(order) != sorted(names):
            # A column with a Python-side default or onupdate that the rows do not give.
            raise ValueError(f"{key[0]} {key[1]}: the statement takes {order}, rows give {names}")
        pick = operator.itemgetter(*(names.index(n) for n in order))
        return sql, map(pick, rows)

    def insert(self, table: Table, columns: Sequence[str], rows: Iterable[tuple]) -> None:
        """Insert rows (tuples in `columns` order, or a generator of them) in batches; on
        PostgreSQL with COPY, which costs the server and the driver a fraction of one INSERT
        a row (constraints and foreign keys are checked all the same)."""
        columns = tuple(columns)
        key = ("insert", table.name, columns)
        sql, rows = self._writing(
            key, lambda: insert(table).values({c: bindparam(c) for c in columns}), columns, rows
        )
        if self.sqlite:
            self._run(sql, rows)
            return
        order = self._compiled[key][1]  # the rows now come in the statement's column order
        self._count_insert(table.name, self._copy(table.name, order, rows))

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> int:
        """COPY rows into `table` (psycopg) in the session's transaction; how many. A driver
        error surfaces as SQLAlchemy's DBAPIError, as an INSERT's would."""
        names = ", ".join(f'"{name}"' for name in columns)
        sql = f'COPY "{table}" ({names}) FROM STDIN'
        dbapi = self.connection.dialect.loaded_dbapi
        count = 0
        try:
            with (
                self.connection.connection.dbapi_connection.cursor() as cursor,
                cursor.copy(sql) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        except dbapi.Error as error:
            raise DBAPIError.instance(sql, None, error, dbapi.Error) from error
        return count

    def _count_insert(self, table: str, written: int) -> None:
        grown = self._grown.get(table)
        if grown is None:
            (tuples,) = self.connection.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (table,)
            ).one()
            grown = self._grown[table] = [max(float(tuples), 0.0), 0]
        grown[1] += written

    def refresh_statistics(self) -> None:
        """ANALYZE each table this import has grown enough to mislead PostgreSQL's planner
        (see STATISTICS_GROWTH); on SQLite nothing (its planner does not go by row counts)."""
        for table, grown in self._grown.items():
            known, added = grown
            if added >= max(STATISTICS_MIN_ROWS, known * STATISTICS_GROWTH):
                self.connection.exec_driver_sql(f'ANALYZE "{table}"')
                grown[:] = [known + added, 0]

    def update(
        self, table: Table, columns: Sequence[str], rows: Iterable[tuple], keep: Sequence[str] = ()
    ) -> None:
        """Rows are the new values in `columns` order, then the id; a None for a column in
        `keep` leaves the stored value."""
        columns, keep = tuple(columns), tuple(keep)

        def build():
            values = {
                c: func.coalesce(bindparam(c), table.c[c]) if c in keep else bindparam(c)
                for c in columns
            }
            return update(table).where(table.c.id == bindparam("row_id")).values(values)

        key = ("update", table.name, columns, keep)
        sql, rows = self._writing(key, build, (*columns, "row_id"), rows)
        self._run(sql, rows)

    def _run(self, sql: str, rows: Iterable[tuple]) -> None:
        rows = iter(rows)
        while batch := list(itertools.islice(rows, WRITE_BATCH)):
            self.connection.exec_driver_sql(sql, batch)

    def select_in(
        self,
        name: str,
        query: Select,
        column: ColumnElement,
        values: Iterable[Any],
        **params: Any,
    ) -> Iterator[tuple]:
        """Rows of `query` where `column` is one of `values`, IN_BATCH values at a time;
        `params` are the query's own bind parameters, and `name` tells the statement apart.

        Each list is padded (by repeating its last value) to a power of two, because the
        driver caches a prepared statement per distinct SQL text, and one per list length
        would hold tens of MB of big statements at 100,000 rows."""
        values = list(values)
        if not values:
            return
        # Compiled once with one expanding parameter, whose placeholder becomes the list of
        # marks: compiling thousands of separate parameters would cost more than the query.
        sql, order = self._compile(
            (name, "in"), lambda: query.where(column.in_(bindparam(_IN, expanding=True)))
        )
        mark = "?" if self.sqlite else "%s"
        for start in range(0, len(values), IN_BATCH):
            batch = values[start : start + IN_BATCH]
            size = max(16, 1 << (len(batch) - 1).bit_length())
            batch += [batch[-1]] * (size - len(batch))
            sized = self._sized.get((name, size))
            if sized is None:
                sized = self._sized[(name, size)] = sql.replace(
                    f"__[POSTCOMPILE_{_IN}]", ", ".join([mark] * size)
                )
            given: list[Any] = []
            for parameter in order:
                if parameter == _IN:
                    given.extend(batch)
                else:
                    given.append(params[parameter])
            # All at once: iterating a result fetches one row per call, a third of a
            # re-import's lookups.
            yield from self.connection.exec_driver_sql(sized, tuple(given)).fetchall()


_IN = "in_values"


def allocate_ids(session: Session, table: Table, count: int) -> list[int]:
    """`count` fresh primary keys for `table`: from its sequence on PostgreSQL; on SQLite
    after the largest id (safe: the import's transaction holds SQLite's write lock)."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, table.c.id.name)
        query = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return sorted(session.scalars(query))
    start = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) + 1
    return list(range(start, start + count))
