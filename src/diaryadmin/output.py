"""One output path: render rows as a table (tabulate), CSV or JSON.

A table is for a person: its headers come from `HEADINGS` in the reader's language, dates read
dd.mm.yyyy and yes/no are words. CSV and JSON are for programs: English keys, ISO dates.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from diaryadmin.i18n import N_, _
from diaryadmin.io.xlsx import safe_text

FORMATS = ("table", "csv", "json")

# The column keys of every table the commands print (rows' keys, `render_object`'s items),
# as headers in the reader's language; the key itself for an unknown one. English shows
# the keys as they are (CSV and JSON always do).
HEADINGS = {
    "item": N_("item"),
    "value": N_("value"),
    "id": N_("id"),
    "external_id": N_("external_id"),
    "surname": N_("surname"),
    "name": N_("name"),
    "patronymic": N_("patronymic"),
    "birth_date": N_("birth_date"),
    "class": N_("class"),
    "active": N_("active"),
    "guardians": N_("guardians"),
    "guardian": N_("guardian"),
    "student": N_("student"),
    "student_id": N_("student_id"),
    "relation": N_("relation"),
    "login": N_("login"),
    "state": N_("state"),
    "email": N_("email"),
    "phone": N_("phone"),
    "code": N_("code"),
    "message": N_("message"),
    "status": N_("status"),
    "temporary": N_("temporary"),
    "linked": N_("linked"),
    "expired": N_("expired"),
    "locked": N_("locked"),
    "revoked": N_("revoked"),
    "none": N_("none"),
    "total": N_("total"),
    "classes": N_("classes"),
    "without_access": N_("without_access"),
    "issued": N_("issued"),
    "skipped": N_("skipped"),
    "emailed": N_("emailed"),
    "failed": N_("failed"),
    "would_issue": N_("would_issue"),
    "reminded": N_("reminded"),
    "expires_at": N_("expires_at"),
    "credential_id": N_("credential_id"),
    "reason": N_("reason"),
    "created": N_("created"),
    "updated": N_("updated"),
    "moved": N_("moved"),
    "deactivated": N_("deactivated"),
    "unchanged": N_("unchanged"),
    "guardians_created": N_("guardians_created"),
    "dry_run": N_("dry_run"),
    "approved": N_("approved"),
    "review": N_("review"),
    "rejected": N_("rejected"),
    "rejects_file": N_("rejects_file"),
    "flagged": N_("flagged"),
    "pending": N_("pending"),
    "applicant": N_("applicant"),
    "child": N_("child"),
    "reasons": N_("reasons"),
    "applications": N_("applications"),
    "school_year": N_("school_year"),
    "starts_on": N_("starts_on"),
    "ends_on": N_("ends_on"),
    "days": N_("days"),
    "period": N_("period"),
    "from": N_("from"),
    "to": N_("to"),
    "threshold": N_("threshold"),
    "students": N_("students"),
    "subjects": N_("subjects"),
    "subject": N_("subject"),
    "lessons": N_("lessons"),
    "marks": N_("marks"),
    "absences": N_("absences"),
    "file": N_("file"),
    "format": N_("format"),
    "rows": N_("rows"),
    "entries": N_("entries"),
    "period_grades": N_("period_grades"),
    "skipped_sheets": N_("skipped_sheets"),
    "ignored_columns": N_("ignored_columns"),
    "average": N_("average"),
    "suggested": N_("suggested"),
    "period_grade": N_("period_grade"),
    "at_risk": N_("at_risk"),
    "missed": N_("missed"),
    "first_lesson": N_("first_lesson"),
    "last_lesson": N_("last_lesson"),
    "by_subject": N_("by_subject"),
    "above_threshold": N_("above_threshold"),
    "at": N_("at"),
    "operator": N_("operator"),
    "action": N_("action"),
    "target": N_("target"),
    "details": N_("details"),
    "database": N_("database"),
    "revision": N_("revision"),
    "head": N_("head"),
    "current": N_("current"),
    "portal_url": N_("portal_url"),
    "portal_url_from": N_("portal_url_from"),
}


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(data: Any) -> str:
    """Stable, machine-readable JSON (UTF-8 text, ISO dates)."""
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default)


def _cell(value: Any, human: bool = False) -> Any:
    """A flat cell: for CSV (`human` false) ISO dates and yes/no; for a table dd.mm.yyyy and
    yes/no in the reader's language."""
    if isinstance(value, bool):
        if human:
            return _("yes") if value else _("no")
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if human else "%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y") if human else value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(str(_cell(v, human)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v, human)}" for k, v in value.items())
    if human and isinstance(value, str) and _ISO_DATE.match(value):
        return _cell(_iso_date(value), human)
    return "" if value is None else value


# A date or time a core function already put as ISO text (`2026-09-01`, `2026-09-01T08:30:00`).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")


def _iso_date(text: str) -> date | datetime | str:
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        return text


def heading(key: str) -> str:
    """A table's header for the column `key`, in the reader's language (the key if unknown)."""
    message = HEADINGS.get(key)
    return _(message) if message else key


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

        titles = [(headers or {}).get(c) or heading(c) for c in columns]
        if not rows:
            return _("(nothing to show)")
        return tabulate([[_cell(row.get(c), human=True) for c in columns] for row in rows], titles)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def shorten(value: Any, width: int = 80) -> str:
    """A table cell cut to `width` characters (JSON and CSV keep the whole value)."""
    text = str(_cell(value, human=True))
    return text if len(text) <= width else text[: width - 1] + "…"


def render_object(
    data: Mapping[str, Any], fmt: str = "table", headers: Mapping[str, str] | None = None
) -> str:
    """Render one result object (counts and the like): JSON as is, else as key/value rows
    (in a table the items are named as `headers`, else `HEADINGS`, has them)."""
    if fmt == "json":
        return to_json(data)
    if fmt == "table":
        named = {**{key: heading(key) for key in data}, **(headers or {})}
    else:
        named = {key: key for key in data}
    rows = [
        {"item": named[key], "value": value}
        for key, value in data.items()
        if not isinstance(value, list | dict)
    ]
    return render(rows, ["item", "value"], fmt)


# --- progress ------------------------------------------------------------------------------------

ESTIMATE_AFTER_ITEMS = 3
ESTIMATE_AFTER_SECONDS = 2.0


def remaining_seconds(done: int, total: int, elapsed: float) -> float | None:
    """The time a job has left at the rate so far, or None while the rate is not yet known
    (fewer than a few items done or a few seconds passed: one slow first item, or the setup
    before it, would make a first estimate wildly off) and once it is finished."""
    if done >= total or done < ESTIMATE_AFTER_ITEMS or elapsed < ESTIMATE_AFTER_SECONDS:
        return None
    return elapsed / done * (total - done)


def format_duration(seconds: float) -> str:
    """hh:mm:ss (mm:ss under an hour)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02}:{minutes:02}:{secs:02}" if hours else f"{minutes:02}:{secs:02}"
