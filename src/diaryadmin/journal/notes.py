"""Cell notes (comments) of a journal workbook: read straight from the xlsx package, and a
mark's note (weight, kind of work, teacher, comment) parsed as `journal export` writes it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from diaryadmin.errors import InputError, Problem
from diaryadmin.i18n import _
from diaryadmin.io.cells import parse_float
from diaryadmin.journal.layout import NO_KIND, NOTE_COMMENT, NOTE_KIND, NOTE_TEACHER, NOTE_WEIGHT
from diaryadmin.people.names import clean_spaces

_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "p": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def read_cell_notes(path: Path) -> dict[str, dict[tuple[int, int], str]]:
    """Cell notes (comments) of an xlsx file: sheet -> (1-based row, 0-based column) -> text.

    Raises InputError if the package's XML cannot be read (defusedxml refuses entities).
    """
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return {}
    with archive:
        try:
            return _notes_in(archive)
        except Exception as error:  # malformed or hostile XML
            message = _("the cell notes cannot be read ({error})").format(
                error=type(error).__name__
            )
            raise InputError(f"{path}: {message}", [Problem(message, str(path))]) from None


def _relations(archive, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) of one part of an xlsx package."""
    import posixpath

    from defusedxml import ElementTree

    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    if rels_path not in archive.namelist():
        return {}
    found = {}
    for rel in ElementTree.fromstring(archive.read(rels_path)).findall("p:Relationship", _NS):
        target = rel.get("Target", "")
        # Targets are relative to the part's folder, or absolute from the package root.
        target = target[1:] if target.startswith("/") else posixpath.join(folder, target)
        found[rel.get("Id")] = (rel.get("Type", ""), posixpath.normpath(target))
    return found


def _notes_in(archive) -> dict[str, dict[tuple[int, int], str]]:
    from defusedxml import ElementTree

    result: dict[str, dict[tuple[int, int], str]] = {}
    if "xl/workbook.xml" not in archive.namelist():
        return result
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    book_rels = _relations(archive, "xl/workbook.xml")
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        rid = sheet.get(f"{{{_NS['r']}}}id")
        if rid not in book_rels:
            continue
        for kind, target in _relations(archive, book_rels[rid][1]).values():
            if not kind.endswith("/comments") or target not in archive.namelist():
                continue
            notes = result.setdefault(sheet.get("name"), {})
            for comment in ElementTree.fromstring(archive.read(target)).iter(
                f"{{{_NS['m']}}}comment"
            ):
                text = "".join(t.text or "" for t in comment.iter(f"{{{_NS['m']}}}t"))
                notes[_cell_ref(comment.get("ref", "A1"))] = text
    return result


def _cell_ref(ref: str) -> tuple[int, int]:
    match = re.fullmatch(r"([A-Z]+)(\d+)", ref.upper())
    if not match:
        return (0, 0)
    col = 0
    for ch in match[1]:
        col = col * 26 + ord(ch) - 64
    return int(match[2]), col - 1


def parse_note(text: str) -> dict[str, Any]:
    """A mark's cell note (as the export writes it) as weight, kind, teacher and comment.

    Everything after `Комментарий:` is the comment; without it, lines typed by hand are the
    comment (an author line a spreadsheet program starts the note with is dropped).
    Raises ValueError for a weight that is not a number.
    """
    found: dict[str, Any] = {}
    free: list[str] = []  # lines a teacher typed by hand: the comment, if none is labelled
    lines = text.replace("\r\n", "\n").split("\n")
    for k, line in enumerate(lines):
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or key not in (NOTE_COMMENT, NOTE_WEIGHT, NOTE_KIND, NOTE_TEACHER):
            if k == 0 and sep and not value.strip():
                continue  # the author line a spreadsheet program starts a note with
            if line.strip() or free:
                free.append(line)
            continue
        if key == NOTE_COMMENT:
            comment = "\n".join([value.lstrip(), *lines[k + 1 :]]).strip()
            found["comment"] = comment or None
            break
        if key == NOTE_WEIGHT:
            found["weight"] = parse_float(value.strip())
        elif key == NOTE_KIND:
            kind = value.strip()
            found["kind"] = None if kind in ("", NO_KIND) else kind
        elif key == NOTE_TEACHER:
            found["teacher"] = clean_spaces(value) or None
    if "comment" not in found and "\n".join(free).strip():
        found["comment"] = "\n".join(free).strip()
    return found
