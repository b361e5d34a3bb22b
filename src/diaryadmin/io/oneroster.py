"""OneRoster 1.1/1.2 CSV bulk files: a folder or a zip of `orgs.csv`, `users.csv`, ...

1.2 keeps users' roles in `roles.csv` (1.1 in `users.csv`).

Only the file handling lives here (which files, their rows with row numbers, writing them);
what the rows mean for a roster is `diaryadmin.roster.oneroster`.
"""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diaryadmin.config import ReadLimits
from diaryadmin.errors import InputError, Problem, Refused
from diaryadmin.i18n import _
from diaryadmin.io.cells import cell_text
from diaryadmin.io.files import atomic_output
from diaryadmin.io.xlsx import safe_text

FILES = (
    "manifest", "orgs", "academicSessions", "courses", "classes", "users", "enrollments",
    "demographics", "roles",
)  # fmt: skip


@dataclass
class Table:
    """One OneRoster CSV file: its name for messages, header fields and rows by field."""

    file: str
    fields: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (1-based row number, field -> value)


def is_oneroster(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a folder or zip holding a OneRoster `users.csv`."""
    path = Path(path)
    if path.is_dir():
        return (path / "users.csv").is_file()
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(Path(n).name == "users.csv" for n in archive.namelist())
    return False


def _parse(text: str, name: str) -> Table:
    reader = csv.reader(io.StringIO(text))
    fields: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, record in enumerate(reader, 1):
            if number == 1:
                fields = [f.strip().lstrip("\ufeff") for f in record]
                continue
            if not any(value.strip() for value in record):
                continue
            # cell_text also takes off the apostrophe our export puts before a formula.
            values = {f: cell_text(v) or "" for f, v in zip(fields, record, strict=False)}
            rows.append((number, values))
    except csv.Error as exc:
        problem = Problem(_("not a readable CSV file ({error})").format(error=exc), name)
        raise InputError(str(problem), [problem]) from None
    return Table(name, fields, rows)


def _read_file(file: Path, limits: ReadLimits) -> bytes:
    """A file of a OneRoster folder, refused (before it is read) when over the size limit."""
    from diaryadmin.io.limits import over_limit

    size = file.stat().st_size
    if size > limits.max_file_mb << 20:
        raise over_limit(str(file), _("the file's size"), size >> 20, "max_file_mb", limits)
    return file.read_bytes()


def read_tables(path: str | os.PathLike[str], limits: ReadLimits | None = None) -> dict[str, Table]:
    """The OneRoster CSV files of a folder or zip, by name without `.csv` (`users`, ...).

    Files are UTF-8 (a BOM is allowed), as the standard says. Raises InputError if the path
    is neither, a file is not UTF-8, or `users.csv` is missing; Refused if a file or the zip
    is over the read limits (a zip bomb included).
    """
    from diaryadmin.io.inspect import check_archive, read_member

    limits = limits or ReadLimits()
    path = Path(path)
    label = str(path)
    texts: dict[str, tuple[str, bytes]] = {}
    if path.is_dir():
        for name in FILES:
            file = path / f"{name}.csv"
            if file.is_file():
                texts[name] = (str(file), _read_file(file, limits))
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            check_archive(archive, label, limits)
            for entry in archive.infolist():
                stem = Path(entry.filename).stem
                if Path(entry.filename).suffix.lower() == ".csv" and stem in FILES:
                    member = f"{label}:{entry.filename}"
                    texts[stem] = (member, read_member(archive, entry, member, limits))
    else:
        problem = Problem(_("not a OneRoster folder or zip"), label)
        raise InputError(str(problem), [problem])
    if "users" not in texts:
        problem = Problem(_("no users.csv: not a OneRoster roster"), label)
        raise InputError(str(problem), [problem])
    tables = {}
    for name, (file, data) in texts.items():
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = _("not UTF-8 as OneRoster requires ({reason})").format(reason=exc.reason)
            problem = Problem(message, file)
            raise InputError(str(problem), [problem]) from None
        tables[name] = _parse(text, file)
    return tables


def write_tables(
    target: str | os.PathLike[str],
    tables: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    *,
    overwrite: bool = False,
) -> None:
    """Write OneRoster CSV files (UTF-8, comma, CRLF) into a folder, or a zip if `.zip`.

    Raises Refused if a target file exists and `overwrite` is false.
    """
    target = Path(target)
    rendered = []
    for name, header, rows in tables:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(["" if v is None else safe_text(v) for v in row] for row in rows)
        rendered.append((f"{name}.csv", buffer.getvalue().encode("utf-8")))
    if target.suffix.lower() == ".zip":
        with (
            atomic_output(target, overwrite=overwrite) as stream,
            zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            for member, data in rendered:
                archive.writestr(member, data)
        return
    if target.exists() and not target.is_dir():
        raise Refused(_("{path}: exists and is not a folder").format(path=target))
    target.mkdir(parents=True, exist_ok=True)
    for member, data in rendered:
        with atomic_output(target / member, overwrite=overwrite) as stream:
            stream.write(data)
