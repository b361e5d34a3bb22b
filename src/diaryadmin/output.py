"""One output path: render rows as a table (tabulate), CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from diaryadmin.io.xlsx import safe_text

FORMATS = ("table", "csv", "json")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(data: Any) -> str:
    """Stable, machine-readable JSON (UTF-8 text, ISO dates)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(_cell(v)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return "" if value is None else value


def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    fmt: str = "table",
    headers: Mapping[str, str] | None = None,
) -> str:
    """Render `rows` (mappings) in `fmt`; `columns` picks and orders the keys.

    JSON keeps the full objects (nested lists included); table and CSV flatten them, and CSV
    defuses text a spreadsheet would run as a formula (`io.xlsx.safe_text`).
    """
    rows = list(rows)
    if fmt == "json":
        if columns:
            rows = [{c: r.get(c) for c in columns} for r in rows]
        return to_json(rows)
    if columns is None:
        columns = list(rows[0].keys()) if rows else []
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            # Someone will open it in a spreadsheet: defuse what would run as a formula.
            writer.writerow([safe_text(_cell(row.get(c))) for c in columns])
        return buffer.getvalue().rstrip("\n")
    if fmt == "table":
        from tabulate import tabulate

        titles = [(headers or {}).get(c, c) for c in columns]
        if not rows:
            return "(nothing to show)"
        return tabulate([[_cell(row.get(c)) for c in columns] for row in rows], titles)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def shorten(value: Any, width: int = 80) -> str:
    """A table cell cut to `width` characters (JSON and CSV keep the whole value)."""
    text = str(_cell(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def render_object(data: Mapping[str, Any], fmt: str = "table") -> str:
    """Render one result object (counts and the like): JSON as is, else as key/value rows."""
    if fmt == "json":
        return to_json(data)
    rows = [
        {"item": key, "value": value}
        for key, value in data.items()
        if not isinstance(value, list | dict)
    ]
    return render(rows, ["item", "value"], fmt)
